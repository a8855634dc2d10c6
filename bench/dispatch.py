"""Benchmark: the dispatcher on the real Postgres and Redis.

Prints JSON with
- ticks dispatched per second (claim with SKIP LOCKED, advance each clock, commit,
  publish batches of ticks to Redis through Celery), 100,000 agents all due at once;
- plain per-message ``apply_async`` publishing of ``fleet.tick``, for comparison;
- the time of one dispatch cycle with nothing due (median and p99 of repeated cycles)
  at 10,000, 100,000 and 1,000,000 registered active agents.

Uses a database and a Redis key prefix of its own, removed at the end.

    python -m bench.dispatch [--sizes 10000,100000,1000000] [--due 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
from sqlalchemy import text

from bench import forget_keys, scratch_database
from fleet import agents
from fleet.agents import Selection
from fleet.agents.heartbeat import DispatchLimits, Tick, dispatch_due
from fleet.db import migrate
from fleet.infra.queue import send_ticks
from fleet.service.root import Fleet, bootstrap
from fleet.settings import Settings

ADMIN = os.environ.get("FLEET_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("FLEET_BENCH_REDIS", "redis://127.0.0.1:6379/0")


def _grow(fleet: Fleet, total: int, have: int) -> None:
    """Create and start agents until the fleet has ``total``, all due in a day."""
    now = datetime.now(UTC)
    while have < total:
        count = min(100_000, total - have)
        created = agents.create_agents(
            fleet.sessions,
            fleet.personas,
            agents.NewAgents("social_media_marketer", count),
            fleet_seed=1,
            now=now,
        )
        agents.change_status(
            fleet.sessions,
            fleet.personas,
            "start",
            Selection(id_range=(created.first_id, created.last_id)),
            now=now,
        )
        have += count
    with fleet.engine.begin() as connection:
        connection.execute(
            text("UPDATE agents SET next_tick_at = :later"), {"later": now + timedelta(days=1)}
        )
    with psycopg.connect(
        str(fleet.engine.url.set(drivername="postgresql")), autocommit=True
    ) as raw:
        raw.execute("VACUUM ANALYZE agents")


def _idle_cycles(fleet: Fleet, cycles: int) -> dict[str, float]:
    timings = []
    for _ in range(cycles):
        began = time.perf_counter()
        report = dispatch_due(
            fleet.sessions,
            fleet.personas,
            lambda _ticks: None,
            now=time.time(),
            limits=DispatchLimits(batch_size=1000, max_batches=20),
        )
        timings.append((time.perf_counter() - began) * 1000)
        assert report.ticks == 0
    timings.sort()
    return {
        "median_ms": round(statistics.median(timings), 3),
        "p99_ms": round(timings[int(len(timings) * 0.99) - 1], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--due", type=int, default=100_000)
    parser.add_argument("--apply-async", type=int, default=10_000, dest="apply_async")
    args = parser.parse_args()
    sizes = sorted(int(size) for size in args.sizes.split(","))

    name = scratch_database()
    prefix = f"fleet-bench-{uuid.uuid4().hex[:8]}:"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + "/" + name
    settings = Settings(database_url=url, broker_url=REDIS, broker_key_prefix=prefix, seed=1)
    fleet = bootstrap(settings)
    from fleet.worker.app import create_app

    app = create_app(settings)
    out: dict[str, object] = {"benchmark": "dispatch", "machine_cores": os.cpu_count()}
    try:
        migrate.upgrade(fleet.engine)
        batch_size = settings.tasks.tick_batch_size

        def publish(ticks: list[Tick]) -> None:
            # As the dispatcher's task publishes them (every tick here is already due).
            send_ticks(app, ticks, batch_size=batch_size, now=time.time())

        # Throughput: every agent due at once.
        _grow(fleet, args.due, 0)
        have = args.due
        with fleet.engine.begin() as connection:
            connection.execute(text("UPDATE agents SET next_tick_at = now() - interval '1 second'"))
        began = time.perf_counter()
        sent = 0
        # The backlog due at one instant: ticks that fall due while it drains (a session's
        # next action, seconds later) are the next cycles' work, not this measurement's.
        backlog_at = time.time()
        while True:
            report = dispatch_due(
                fleet.sessions,
                fleet.personas,
                publish,
                now=backlog_at,
                limits=DispatchLimits(batch_size=settings.dispatch.batch_size, max_batches=1000),
            )
            sent += report.ticks
            if report.ticks == 0:
                break
        seconds = time.perf_counter() - began
        out["dispatch"] = {
            "ticks": sent,
            "seconds": round(seconds, 3),
            "ticks_per_second": round(sent / seconds),
            "claim_batch": settings.dispatch.batch_size,
            "ticks_per_message": batch_size,
        }

        # Comparison: one message per tick through apply_async.
        began = time.perf_counter()
        for agent_id in range(args.apply_async):
            app.send_task("fleet.tick", args=(agent_id, 0), queue="ticks")
        seconds = time.perf_counter() - began
        out["apply_async_per_tick"] = {
            "messages": args.apply_async,
            "per_second": round(args.apply_async / seconds),
        }

        idle: dict[str, object] = {}
        with fleet.engine.begin() as connection:
            connection.execute(text("UPDATE agents SET next_tick_at = now() + interval '1 day'"))
        for size in sizes:
            _grow(fleet, size, have)
            have = max(have, size)
            idle[str(size)] = _idle_cycles(fleet, 300)
        out["idle_cycle"] = idle
    finally:
        fleet.close()
        forget_keys(REDIS, prefix)
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
