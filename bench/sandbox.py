"""Benchmark: requests per second the sandbox gallery serves on this machine.

Starts ``fleet sandbox serve`` as its own process (one uvicorn worker, SQLite file in a
temporary directory, idempotency on, no access log), seeds agents and posts through the
API, then loads two calls, each for a fixed time after a warm-up:

- ``GET /api/showcase?limit=20`` (a page of the newest posts with counts and authors);
- ``POST /api/showcase/{id}/like`` with an ``Idempotency-Key`` (a toggle, its like event
  and its idempotency record in one transaction), spread over agents and posts.

The load comes from separate processes, each keeping a number of keep-alive connections
busy with httpx; they share the machine with the server, as a fleet's workers would.
Prints JSON: requests per second and latency percentiles per call.

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

import httpx

TOKEN = "bench-token"
AGENTS = 20
POSTS = 200


def _start(directory: Path) -> tuple[subprocess.Popen[str], str]:
    command = [
        sys.executable,
        "-c",
        "from fleet.cli import main; main()",
        "sandbox",
        "serve",
        "--port=0",
        f"--database={directory / 'bench.db'}",
        "--no-access-log",
    ]
    env = os.environ | {"FLEET_GALLERY__TOKEN": TOKEN}
    server = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )
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
    return server, found.group(1)


def _seed(url: str) -> list[str]:
    """Agents and posts; the post ids."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    ids = []
    with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
        for n in range(AGENTS):
            http.post(
                "/api/admin/users/invite",
                json={"agentId": f"a{n}", "name": f"Agent {n}", "username": f"bench_{n}"},
            ).raise_for_status()
        for n in range(POSTS):
            answer = http.post(
                "/api/showcase",
                json={"imageUrl": f"{url}/images/placeholder.png", "title": f"Post {n}"},
                headers={"X-Agent-Id": f"bench_{n % AGENTS}"},
            )
            answer.raise_for_status()
            ids.append(answer.json()["showcaseItem"]["id"])
    return ids


async def _load(
    url: str, call: str, ids: list[str], seconds: float, warmup: float, connections: int
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    latencies: list[float] = []
    errors = 0
    serial = count()
    tag = uuid.uuid4().hex[:8]
    started = time.perf_counter()
    measure_from, stop_at = started + warmup, started + warmup + seconds

    async def worker(http: httpx.AsyncClient) -> None:
        nonlocal errors
        while (now := time.perf_counter()) < stop_at:
            n = next(serial)
            agent = {"X-Agent-Id": f"bench_{n % AGENTS}"}
            try:
                if call == "feed":
                    answer = await http.get("/api/showcase?limit=20", headers=agent)
                else:
                    post = ids[(n * 7) % len(ids)]
                    answer = await http.post(
                        f"/api/showcase/{post}/like",
                        headers=agent | {"Idempotency-Key": f"{tag}:{n}"},
                    )
                ok = answer.status_code == 200
            except httpx.HTTPError:
                ok = False
            if now >= measure_from:
                if ok:
                    latencies.append(time.perf_counter() - now)
                else:
                    errors += 1

    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=30) as http:
        await asyncio.gather(*(worker(http) for _ in range(connections)))
    return {"latencies": latencies, "errors": errors}


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
    return {
        "requests_per_second": round(len(latencies) / seconds),
        "p50_ms": round(quantiles[49] * 1000, 2),
        "p99_ms": round(quantiles[98] * 1000, 2),
        "errors": sum(r["errors"] for r in results),
        # The server's CPU time over the whole run (warm-up included) per second of it:
        # near 1.0 means the one server process was the bottleneck.
        "server_cpu_share": round(cpu / wall, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8, help="per load process")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        server, url = _start(Path(directory))
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
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=30)
            if server.stdout is not None:
                server.stdout.close()
    print(
        json.dumps(
            {
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "server": "fleet sandbox serve: 1 uvicorn process (h11), SQLite file, idempotency on",
                "data": {"agents": AGENTS, "posts": POSTS},
                "load": {
                    "processes": options.processes,
                    "connections_per_process": options.connections,
                    "seconds": options.seconds,
                    "client": "httpx.AsyncClient, keep-alive",
                },
                "calls": figures,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
