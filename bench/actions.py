"""Benchmark: actions per second through the whole path, and the no-op ceiling.

On the local Postgres and Redis and an in-process sandbox gallery: pre-decided actions
of one kind are sent to a real Celery worker (a subprocess, offline writer), and the
time until every one is terminal gives actions per second per kind. In the same run,
the same worker settings consume ``fleet.noop`` tasks: the ceiling.

    python -m bench.actions [--count 600] [--pool solo] [--concurrency 1]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import redis
from pydantic import SecretStr
from sqlalchemy import func, select, update

from bench import cpu
from fleet import activities, agents
from fleet.agents import Selection
from fleet.bootstrap import bootstrap
from fleet.db import migrate
from fleet.db.models import Agent, AgentActivity
from fleet.sandbox.config import SandboxConfig
from fleet.sandbox.server import BackgroundSandbox
from fleet.settings import Settings
from workers.app import create_app

ADMIN = os.environ.get("FLEET_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("FLEET_BENCH_REDIS", "redis://127.0.0.1:6379/0")
TOKEN = "bench-token"
ROOT = Path(__file__).resolve().parents[1]


def _wait(condition, timeout: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("bench: timed out")
        time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=600, help="actions per kind")
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--pool", default="solo")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument(
        "--kinds", default="post,like,comment,browse", help="comma-separated actions to measure"
    )
    args = parser.parse_args()

    name = f"fleet_bench_{uuid.uuid4().hex[:8]}"
    prefix = f"fleet-bench-{uuid.uuid4().hex[:8]}:"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + "/" + name
    out: dict[str, object] = {
        "benchmark": "actions",
        "pool": args.pool,
        "concurrency": args.concurrency,
        "per_kind": args.count,
    }
    worker: subprocess.Popen[bytes] | None = None
    with BackgroundSandbox(SandboxConfig(service_token=SecretStr(TOKEN))) as sandbox:
        settings = Settings(
            database_url=url,
            broker_url=REDIS,
            redis_url=REDIS,
            broker_key_prefix=prefix,
            seed=1,
            gallery={"url": sandbox.url, "token": TOKEN},
        )  # type: ignore[arg-type]
        fleet = bootstrap(settings)
        app = create_app(settings)
        env = {
            **os.environ,
            "FLEET_DATABASE_URL": url,
            "FLEET_BROKER_URL": REDIS,
            "FLEET_REDIS_URL": REDIS,
            "FLEET_BROKER_KEY_PREFIX": prefix,
            "FLEET_GALLERY__URL": sandbox.url,
            "FLEET_GALLERY__TOKEN": TOKEN,
            "FLEET_ACTIONS__GALLERY_REQUESTS_PER_SECOND": "100000",
            "FLEET_ACTIONS__BOT_ENGAGEMENTS_PER_POST_PER_HOUR": "1000000",
        }
        try:
            migrate.upgrade(fleet.engine)
            now = datetime.now(UTC)
            created = agents.create_agents(
                fleet.sessions,
                fleet.personas,
                persona="social_media_marketer",
                count=args.agents,
                fleet_seed=1,
                now=now,
            )
            agents.change_status(
                fleet.sessions, fleet.personas, "start", Selection(everyone=True), now=now
            )
            with fleet.sessions.begin() as session:
                session.execute(update(Agent).values(next_tick_at=now + timedelta(days=1)))
            worker = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "workers",
                    "worker",
                    "-Q",
                    "content,engage",
                    "-P",
                    args.pool,
                    "-c",
                    str(args.concurrency),
                    "--loglevel",
                    "WARNING",
                    "-n",
                    f"bench-{os.getpid()}@%h",
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            _wait(lambda: bool(app.control.ping(timeout=0.5)), 60)
            second = int(now.timestamp())
            rates: dict[str, float] = {}
            cpu_ms: dict[str, dict[str, float]] = {}
            parties = {"worker": worker.pid, "bench_and_sandbox": os.getpid()}
            for action in args.kinds.split(","):
                keys = []
                for i in range(args.count):
                    agent_id = created.first_id + i % args.agents
                    second += 1
                    key = f"{agent_id}:{second}:{action}"
                    activities.create_activity(
                        fleet.sessions,
                        agent_id,
                        action,
                        datetime.fromtimestamp(second, UTC),
                        key,
                        now=now,
                        lease=timedelta(minutes=10),
                    )
                    keys.append(key)
                queue = "content" if action in ("post", "comment") else "engage"
                print(f"bench: measuring {action}", file=sys.stderr, flush=True)
                before = cpu.snapshot(parties)
                began = time.perf_counter()
                with app.producer_or_acquire() as producer:
                    for key in keys:
                        app.send_task(
                            f"fleet.{action}", args=(key,), queue=queue, producer=producer
                        )

                def finished(action: str = action) -> bool:
                    with fleet.sessions() as session:
                        left = session.scalar(
                            select(func.count())
                            .select_from(AgentActivity)
                            .where(
                                AgentActivity.action == action, AgentActivity.status == "pending"
                            )
                        )
                    return left == 0

                _wait(finished, 600)
                rates[action] = round(args.count / (time.perf_counter() - began), 1)
                cpu_ms[action] = cpu.per_item_ms(before, cpu.snapshot(parties), args.count)
            with fleet.sessions() as session:
                outcomes = dict(
                    session.execute(
                        select(AgentActivity.status, func.count()).group_by(AgentActivity.status)
                    )
                    .tuples()
                    .all()
                )
            out["actions_per_second"] = rates
            out["outcomes"] = outcomes
            # The ceiling: the same worker consuming no-op tasks from the same broker.
            noops = max(5000, args.count * 8)
            client = redis.Redis.from_url(REDIS)
            before = cpu.snapshot(parties)
            began = time.perf_counter()
            with app.producer_or_acquire() as producer:
                for _ in range(noops):
                    app.send_task("fleet.noop", queue="engage", producer=producer)
            # Drained when the last messages are prefetched: a few out of thousands.
            _wait(lambda: client.llen(f"{prefix}engage") == 0, 300)
            ceiling = noops / (time.perf_counter() - began)
            cpu_ms["noop"] = cpu.per_item_ms(before, cpu.snapshot(parties), noops)
            client.close()
            out["noop_ceiling_per_second"] = round(ceiling, 1)
            out["ratio_to_ceiling"] = {k: round(v / ceiling, 3) for k, v in rates.items()}
            out["cpu_ms_per_task"] = cpu_ms
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=30)
            fleet.close()
            with psycopg.connect(ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            client = redis.Redis.from_url(REDIS)
            keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
            if keys:
                client.delete(*keys)
            client.close()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
