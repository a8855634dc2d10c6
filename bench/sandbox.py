"""Benchmark: requests per second the sandbox gallery serves on this machine.

Starts ``fleet sandbox serve`` as its own process (one uvicorn worker, SQLite file in a
temporary directory, idempotency on, no access log), seeds agents and posts through the
API, then loads two calls, each for a fixed time after a warm-up:

- ``GET /api/showcase?limit=20`` (a page of the newest posts with counts and authors);
- ``POST /api/showcase/{id}/like`` with an ``Idempotency-Key`` (a toggle, its like event
  and its idempotency record in one transaction), spread over agents and posts.

The load comes from separate processes, each keeping a number of keep-alive connections
busy with a light hand-rolled HTTP/1.1 client; they share the machine with the server.
Prints JSON: requests per second, latency percentiles and the server's CPU milliseconds
per request (``server_cpu_ms_per_request``: its CPU time over the run, warm-up included,
divided by every request it answered) per call; and ``statements``: the SQL statements
and transactions one call of each runs, counted in this process on an app of its own
(a deterministic count for a given tree, where the CPU figure moves with the machine).

    python -m bench.sandbox [--seconds 5] [--processes 2] [--connections 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import re
import selectors
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from itertools import count
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

TOKEN = "bench-token"
AGENTS = 20
POSTS = 200


def _start(database: str, port: int = 0) -> tuple[subprocess.Popen[str], str]:
    server = _spawn(database, port)
    return server, _listening(server)


def _spawn(database: str, port: int = 0) -> subprocess.Popen[str]:
    """The sandbox's process, starting (``_listening`` waits for it and says where)."""
    command = [
        sys.executable,
        "-c",
        "from fleet.cli import main; main()",
        "sandbox",
        "serve",
        f"--port={port}",
        f"--database={database}",
        "--no-access-log",
    ]
    env = os.environ | {"FLEET_GALLERY__TOKEN": TOKEN}
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )


def _listening(server: subprocess.Popen[str]) -> str:
    """The address a starting sandbox listens on, once it does."""
    assert server.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(server.stdout, selectors.EVENT_READ)
        if not selector.select(timeout=60):
            server.kill()
            raise SystemExit("the sandbox did not start in 60 s")
    found = re.search(r"on (http://\S+)", server.stdout.readline())
    if not found:
        server.kill()
        raise SystemExit("the sandbox did not say where it listens")
    return found.group(1)


def _seed(url: str) -> list[str]:
    """Agents and posts; the post ids."""
    with httpx.Client(base_url=url, timeout=30) as http:
        return _seed_with(http)


def _seed_with(http: httpx.Client) -> list[str]:
    """Agents and posts, through this client (its base URL the sandbox's); the post ids."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    picture = f"{str(http.base_url).rstrip('/')}/images/placeholder.png"
    for n in range(AGENTS):
        http.post(
            "/api/admin/users/invite",
            json={"agentId": f"a{n}", "name": f"Agent {n}", "username": f"bench_{n}"},
            headers=headers,
        ).raise_for_status()
    ids = []
    for n in range(POSTS):
        answer = http.post(
            "/api/showcase",
            json={"imageUrl": picture, "title": f"Post {n}"},
            headers=headers | {"X-Agent-Id": f"bench_{n % AGENTS}"},
        )
        answer.raise_for_status()
        ids.append(answer.json()["showcaseItem"]["id"])
    return ids


async def _load(
    url: str, call: str, ids: list[str], seconds: float, warmup: float, connections: int
) -> dict[str, Any]:
    """Keep ``connections`` keep-alive connections busy with raw HTTP/1.1 requests.

    A hand-rolled client costs a fraction of a full one per request, so on a small
    machine the server, not the load, is what runs out of CPU.
    """
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    latencies: list[float] = []
    errors = 0
    serial = count()
    tag = uuid.uuid4().hex[:8]
    started = time.perf_counter()
    measure_from, stop_at = started + warmup, started + warmup + seconds
    common = f"Host: {host}:{port}\r\nAuthorization: Bearer {TOKEN}\r\n"

    def request(n: int) -> bytes:
        agent = f"X-Agent-Id: bench_{n % AGENTS}\r\n"
        if call == "feed":
            return f"GET /api/showcase?limit=20 HTTP/1.1\r\n{common}{agent}\r\n".encode()
        post = ids[(n * 7) % len(ids)]
        return (
            f"POST /api/showcase/{post}/like HTTP/1.1\r\n{common}{agent}"
            f"Idempotency-Key: {tag}:{n}\r\nContent-Length: 0\r\n\r\n"
        ).encode()

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while (now := time.perf_counter()) < stop_at:
                writer.write(request(next(serial)))
                head = await reader.readuntil(b"\r\n\r\n")
                length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
                await reader.readexactly(int(length.group(1)) if length else 0)
                if now >= measure_from:
                    if head.startswith(b"HTTP/1.1 200"):
                        latencies.append(time.perf_counter() - now)
                    else:
                        errors += 1
        finally:
            writer.close()
            await writer.wait_closed()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return {"latencies": latencies, "errors": errors, "answered": next(serial)}


def _process(args: tuple[str, str, list[str], float, float, int]) -> dict[str, Any]:
    return asyncio.run(_load(*args))


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process (Linux), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _measure(
    server: int,
    url: str,
    call: str,
    ids: list[str],
    *,
    seconds: float,
    processes: int,
    connections: int,
) -> dict[str, Any]:
    job = (url, call, ids, seconds, 1.0, connections)
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        cpu_before, wall_before = _cpu_seconds(server), time.perf_counter()
        results = pool.map(_process, [job] * processes)
        cpu, wall = _cpu_seconds(server) - cpu_before, time.perf_counter() - wall_before
    latencies = sorted(x for r in results for x in r["latencies"])
    quantiles = statistics.quantiles(latencies, n=100)
    answered = sum(r["answered"] for r in results)
    return {
        "requests_per_second": round(len(latencies) / seconds),
        "server_cpu_ms_per_request": round(cpu * 1000 / max(1, answered), 3),
        "p50_ms": round(quantiles[49] * 1000, 2),
        "p99_ms": round(quantiles[98] * 1000, 2),
        "errors": sum(r["errors"] for r in results),
        # The server's CPU time over the whole run (warm-up included) per second of it:
        # near 1.0 means the one server process was the bottleneck.
        "server_cpu_share": round(cpu / wall, 2),
    }


def _statements(database: str, likes: int = 40) -> dict[str, Any]:
    """The SQL statements and transactions per call of a sandbox app in this process, on
    its own ``database`` (seeded as the load's, through the same API)."""
    from pydantic import SecretStr
    from sqlalchemy import event
    from starlette.testclient import TestClient

    from fleet_sandbox.app import create_app
    from fleet_sandbox.config import SandboxConfig

    app = create_app(SandboxConfig(database_url=database, service_token=SecretStr(TOKEN)))
    engine = app.state.sandbox.storage.engine
    counted = {"statements": 0, "transactions": 0}

    def statement(*_: Any) -> None:
        counted["statements"] += 1

    def transaction(*_: Any) -> None:
        counted["transactions"] += 1

    def per_call(client: TestClient, calls: list[tuple[str, str, dict[str, str]]]) -> Any:
        counted.update(statements=0, transactions=0)
        for method, path, headers in calls:
            client.request(method, path, headers=headers).raise_for_status()
        return {k: round(v / len(calls), 2) for k, v in counted.items()}

    with TestClient(app, base_url="http://sandbox") as client:
        ids = _seed_with(client)
        event.listen(engine, "before_cursor_execute", statement)
        event.listen(engine, "begin", transaction)
        tag = uuid.uuid4().hex[:8]
        agent = {"Authorization": f"Bearer {TOKEN}"}
        like_calls = [
            (
                "POST",
                f"/api/showcase/{ids[(n * 7) % len(ids)]}/like",
                agent | {"X-Agent-Id": f"bench_{n % AGENTS}", "Idempotency-Key": f"{tag}:{n}"},
            )
            for n in range(likes)
        ]
        feed_calls = [
            ("GET", "/api/showcase?limit=20", agent | {"X-Agent-Id": f"bench_{n % AGENTS}"})
            for n in range(likes)
        ]
        return {
            "like (with Idempotency-Key)": per_call(client, like_calls),
            "like replayed (same key)": per_call(client, like_calls),
            "feed page": per_call(client, feed_calls),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8, help="per load process")
    parser.add_argument(
        "--database", help="the sandbox's --database (default: a SQLite file in a temp dir)"
    )
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        database = options.database or str(Path(directory) / "bench.db")
        server, url = _start(database)
        try:
            ids = _seed(url)
            figures = {
                "GET /api/showcase?limit=20": _measure(
                    server.pid,
                    url,
                    "feed",
                    ids,
                    seconds=options.seconds,
                    processes=options.processes,
                    connections=options.connections,
                ),
                "POST /api/showcase/{id}/like (with Idempotency-Key)": _measure(
                    server.pid,
                    url,
                    "like",
                    ids,
                    seconds=options.seconds,
                    processes=options.processes,
                    connections=options.connections,
                ),
            }
            statements = _statements(f"sqlite:///{Path(directory) / 'count.db'}")
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=30)
            if server.stdout is not None:
                server.stdout.close()
    print(
        json.dumps(
            {
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "server": "fleet sandbox serve: 1 uvicorn process (h11), idempotency on",
                "database": "SQLite file" if options.database is None else options.database,
                "data": {"agents": AGENTS, "posts": POSTS},
                "load": {
                    "processes": options.processes,
                    "connections_per_process": options.connections,
                    "seconds": options.seconds,
                    "client": "raw HTTP/1.1 keep-alive on asyncio streams",
                },
                "calls": figures,
                "statements": statements,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
