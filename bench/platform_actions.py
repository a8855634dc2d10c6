"""Benchmark: ``bench.actions``' like burst on a real Takahē, Fleet's CPU beside Takahē's.

The whole path, as ``bench.actions`` measures it on the sandbox: a real Celery worker (a
subprocess, prefork, ``FLEET_GALLERY__KIND=mastodon``, each agent's token sealed with
``FLEET_CREDENTIALS__KEYS``) on the local Postgres (a scratch database) and Redis (a key
prefix of its own), carrying out likes decided as a tick records them (a pending
activity each) and sent as the tick sends them; Takahē 0.11 from
``../shared/platforms/takahe`` (``tests.platforms.servers``). Outside the measurement:
the agents' accounts and tokens, two image posts per agent, a warm-up burst.

Prints JSON: a like's send-to-effect p50/p99 (from the send to the activity's finish,
one message per like and in batch messages), the outcomes, and CPU ms per like over the
bursts of Fleet (the worker and its pool; the benchmark process, which only sends) and
of the server (Takahē's gunicorn, uvicorn worker and runner), with Postgres (every
backend: Takahē's and Fleet's databases are on the same server) and Redis.

    python -m bench.platform_actions [--agents 12] [--burst 120] [--batch-size 20]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import redis
from cryptography.fernet import Fernet
from PIL import Image
from pydantic import AnyUrl
from sqlalchemy import func, select, update

from bench import cpu, scratch_database
from fleet import activities, agents
from fleet.agents import Selection
from fleet.core.kinds import ActionKey
from fleet.db import migrate
from fleet.db.models import Agent, AgentActivity
from fleet.gallery.mastodon import MastodonGallery
from fleet.gallery.port import MadeImage
from fleet.infra.queue import send_actions
from fleet.service.accounts import provision_accounts
from fleet.service.root import bootstrap
from fleet.settings import GallerySettings, Settings
from fleet.worker.app import create_app
from tests.platforms.servers import absent, running_takahe

ADMIN = os.environ.get("FLEET_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("FLEET_BENCH_REDIS", "redis://127.0.0.1:6379/0")
ROOT = Path(__file__).resolve().parents[1]


class _Tokens:
    def __init__(self, tokens: dict[str, str]) -> None:
        self._tokens = tokens

    def token_for(self, agent: str) -> str:
        return self._tokens[agent]


class _Painted:
    def make(self, *, prompt: str, style: str, persona: str, idempotency_key: str) -> MadeImage:
        out = io.BytesIO()
        Image.new("RGB", (64, 64), (sum(idempotency_key.encode()) % 256, 90, 160)).save(out, "PNG")
        return MadeImage(out.getvalue(), "image/png")


def _wait(condition: Callable[[], bool], timeout: float, every: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("bench: timed out")
        time.sleep(every)


def _calls(served: list[tuple[str, str, int, float]], likes: int) -> dict[str, Any]:
    """What the server was asked per like (by method and path, ids as ``N``) and its own
    seconds answering, from its access log."""
    count: dict[str, int] = {}
    seconds: dict[str, float] = {}
    for method, path, status, took in served:
        what = method + " " + "/".join("N" if p.isdigit() else p for p in path.split("/"))
        if status >= 400:
            what += f" {status}"
        count[what] = count.get(what, 0) + 1
        seconds[what] = seconds.get(what, 0.0) + took
    out: dict[str, Any] = {
        what: {"per_like": round(n / likes, 2), "server_ms_each": round(1000 * seconds[what] / n)}
        for what, n in sorted(count.items(), key=lambda kv: -seconds[kv[0]])
    }
    out["server_s_per_like"] = round(sum(seconds.values()) / likes, 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=12)
    parser.add_argument("--burst", type=int, default=120)
    parser.add_argument("--batch-size", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=2 * (os.cpu_count() or 1))
    parser.add_argument("--worker-log", default="", help="keep the worker's log (INFO) here")
    args = parser.parse_args()
    why = absent("takahe")
    if why:
        raise SystemExit(why)
    name = scratch_database()
    prefix = f"fleet-bench-{uuid.uuid4().hex[:8]}:"
    worker_name = f"bench-{os.getpid()}@{socket.gethostname()}"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + "/" + name
    key = Fernet.generate_key().decode()
    worker: subprocess.Popen[bytes] | None = None
    # Closed in the finally below.
    log = (
        open(args.worker_log, "w+b")  # noqa: SIM115
        if args.worker_log
        else tempfile.TemporaryFile()  # noqa: SIM115
    )
    try:
        with running_takahe() as server, tempfile.TemporaryDirectory() as tmp:
            settings = Settings(
                database_url=url,
                broker_url=REDIS,
                redis_url=REDIS,
                broker_key_prefix=prefix,
                seed=1,
                gallery={"kind": "mastodon", "url": server.url, "timeout_seconds": 30},
                credentials={"keys": key},
            )
            fleet = bootstrap(settings)
            migrate.upgrade(fleet.engine)
            app = create_app(settings)
            env = {
                **{k: v for k, v in os.environ.items() if not k.startswith("FLEET_")},
                "FLEET_DATABASE_URL": url,
                "FLEET_BROKER_URL": REDIS,
                "FLEET_REDIS_URL": REDIS,
                "FLEET_BROKER_KEY_PREFIX": prefix,
                "FLEET_GALLERY__KIND": "mastodon",
                "FLEET_GALLERY__URL": server.url,
                "FLEET_GALLERY__TIMEOUT_SECONDS": "30",
                "FLEET_CREDENTIALS__KEYS": key,
                "FLEET_IMAGES__DIRECTORY": str(Path(tmp) / "images"),
                "FLEET_ACTIONS__GALLERY_REQUESTS_PER_SECOND": "100000",
                "FLEET_ACTIONS__BOT_ENGAGEMENTS_PER_POST_PER_HOUR": "1000000",
                "FLEET_ENV_FILE": "",
            }
            worker = subprocess.Popen(
                [
                    *(sys.executable, "-m", "celery", "-A", "fleet.worker", "worker"),
                    *("-Q", "content,engage", "-P", "prefork", "-c", str(args.concurrency)),
                    *("--loglevel", "INFO" if args.worker_log else "WARNING", "-n", worker_name),
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
            now = datetime.now(UTC)
            created = agents.create_agents(
                fleet.sessions,
                fleet.personas,
                agents.NewAgents("social_media_marketer", args.agents),
                fleet_seed=1,
                now=now,
            )
            agents.change_status(
                fleet.sessions, fleet.personas, "start", Selection(everyone=True), now=now
            )
            with fleet.sessions.begin() as session:
                session.execute(update(Agent).values(next_tick_at=now + timedelta(days=1)))
            ids = list(range(created.first_id, created.first_id + args.agents))
            handles = [agents.get_agent(fleet.sessions, str(i)).handle for i in ids]
            tokens = server.accounts(handles)
            seal = fleet.token_seal()
            for handle in handles:
                agents.set_token(fleet.sessions, seal, handle, tokens[handle], now=now)
            # Outside the measurement: the accounts' disclosure and two posts each.
            setup = MastodonGallery(
                GallerySettings(kind="mastodon", url=AnyUrl(server.url), timeout_seconds=30),
                _Tokens(tokens),
                _Painted(),
            )
            provision_accounts(fleet.sessions, setup, ids)
            for handle in handles:
                for n in range(2):
                    image = setup.generate_image(
                        agent=handle,
                        prompt="p",
                        style="s",
                        persona="p",
                        idempotency_key=f"{handle}{n}",
                    )
                    setup.create_post(
                        agent=handle,
                        image_url=image,
                        title=f"Seed {n} of {handle}",
                        description="A post there before the benchmark.",
                        idempotency_key=f"{handle}-seed-{n}",
                    )
            setup.close()
            _wait(lambda: bool(app.control.ping(destination=[worker_name], timeout=0.5)), 90)
            second = int(now.timestamp())

            def decided(count: int) -> list[str]:
                nonlocal second
                keys = []
                for i in range(count):
                    second += 1
                    k = str(ActionKey.tick(ids[i % len(ids)], second, "like"))
                    activities.create_activity(
                        fleet.sessions,
                        ids[i % len(ids)],
                        "like",
                        datetime.fromtimestamp(second, UTC),
                        k,
                        now=now,
                        lease=timedelta(minutes=10),
                    )
                    keys.append(k)
                return keys

            def finished() -> bool:
                if worker is not None and worker.poll() is not None:
                    log.seek(0)
                    raise SystemExit(f"bench: the worker died:\n{log.read().decode()[-2000:]}")
                with fleet.sessions() as session:
                    left = session.scalar(
                        select(func.count())
                        .select_from(AgentActivity)
                        .where(AgentActivity.status == "pending")
                    )
                return left == 0

            skipped: dict[str, int] = {}

            def burst(count: int, size: int) -> list[float]:
                keys = decided(count)
                sent = datetime.now(UTC)
                send_actions(app, [ActionKey.parse(k) for k in keys], batch_size=size)
                _wait(finished, 600, every=0.05)
                with fleet.sessions() as session:
                    ends = session.execute(
                        select(
                            AgentActivity.finished_at, AgentActivity.status, AgentActivity.error
                        ).where(AgentActivity.idempotency_key.in_(keys))
                    ).all()
                for _, status, error in ends:
                    if status != "succeeded":
                        reason = f"{status}: {str(error or '')[:80]}"
                        skipped[reason] = skipped.get(reason, 0) + 1
                return sorted(
                    (end - sent).total_seconds()
                    for end, status, _ in ends
                    if end is not None and status == "succeeded"
                )

            burst(2 * args.concurrency, 1)  # warm-up: imports, connections
            parties = {"fleet_worker": worker.pid, "bench": os.getpid()}
            parties |= {f"takahe_{i}": p.pid for i, p in enumerate(server.procs)}
            served_before = len(server.served())
            before = cpu.snapshot(parties)
            latency: dict[str, dict[str, float]] = {}
            liked = 0
            for mode, size in (("one", 1), ("batch", args.batch_size)):
                waits = burst(args.burst, size)
                liked += len(waits)
                if waits:
                    latency[mode] = {
                        "likes": len(waits),
                        "p50_s": round(statistics.median(waits), 3),
                        "p99_s": round(waits[min(len(waits) - 1, int(0.99 * len(waits)))], 3),
                    }
            after = cpu.snapshot(parties)
            calls = _calls(server.served()[served_before:], max(liked, 1))
            per = cpu.per_item_ms(before, after, max(liked, 1))
            with fleet.sessions() as session:
                outcomes = dict(
                    session.execute(
                        select(AgentActivity.status, func.count()).group_by(AgentActivity.status)
                    ).all()
                )
            takahe = round(sum(v for k, v in per.items() if k.startswith("takahe_")), 2)
            print(
                json.dumps(
                    {
                        "bench": "platform_actions",
                        "server": "takahe-0.11",
                        "agents": args.agents,
                        "burst": args.burst,
                        "like_send_to_effect": latency,
                        "outcomes": {str(k): int(v) for k, v in outcomes.items()},
                        "not_succeeded": skipped,
                        "cpu_ms_per_like": {
                            "fleet_worker": per["fleet_worker"],
                            "bench_sender": per["bench"],
                            "takahe": takahe,
                            "postgres_all": per["postgres"],
                            "redis": per["redis"],
                        },
                        "server_calls_per_like": calls,
                        "cores": os.cpu_count(),
                        "load_average": [round(x, 2) for x in os.getloadavg()],
                    },
                    indent=2,
                )
            )
            fleet.close()
    finally:
        if worker is not None and worker.poll() is None:
            worker.terminate()
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
        log.close()
        client = redis.Redis.from_url(REDIS)
        for k in client.scan_iter(match=f"{prefix}*", count=1000):
            client.delete(k)
        client.close()
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
