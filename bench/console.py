"""Benchmark: the console's pages on a large fleet, and its live feed under many viewers.

Prints JSON with the p50/p95 (ms) of the overview (whose reads the console shares for
a few seconds; ``overview_reads_uncached`` times them alone), the agents page (first page, a deep
keyset page, a handle search, a persona filter) and an agent's page, served over HTTP
by the console on a loopback port, with ``--agents`` agents and ``--activities``
activities spread over the last seven days; and, with ``--viewers`` browsers' event
streams open at once, how many of ``--events`` published events each viewer received.

Uses a database and a Redis key prefix of its own, removed at the end.

    python -m bench.console [--agents 100000] [--activities 1000000] [--viewers 50]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import threading
import time
import uuid

import httpx
import psycopg
from sqlalchemy import text

from bench import forget_keys, scratch_database
from fleet.console.serve import BackgroundConsole
from fleet.db import migrate
from fleet.service import agents, board
from fleet.service.root import Fleet, bootstrap
from fleet.settings import Settings

ADMIN = os.environ.get("FLEET_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("FLEET_BENCH_REDIS", "redis://127.0.0.1:6379/0")
PERSONAS = (
    "product_photographer",
    "social_media_marketer",
    "indie_game_dev",
    "data_visualization",
    "ai_art_enthusiast",
    "ux_ui_designer",
)


def _populate(fleet: Fleet, count: int, activities: int) -> None:
    share = max(1, count // len(PERSONAS))
    made = 0
    for persona in PERSONAS:
        want = share if persona != PERSONAS[-1] else count - made
        while want > 0:
            step = min(50_000, want)
            agents.create(fleet, agents.NewAgents(persona, step))
            made, want = made + step, want - step
    with fleet.engine.begin() as connection:
        connection.execute(text("UPDATE agents SET status = 'active' WHERE id % 3 <> 0"))
        connection.execute(
            text(
                """
                INSERT INTO agent_activities (agent_id, action, idempotency_key, due_at, status,
                    attempts, deliveries, created_at, updated_at, finished_at, result)
                SELECT 1 + (g % :agents),
                       (ARRAY['post','comment','like','like','like','browse'])[1 + g % 6],
                       'bench:' || g, ts,
                       (ARRAY['succeeded','succeeded','succeeded','skipped','dead'])[1 + g % 5],
                       1, 1, ts, ts, ts, '{"title": "A chart of things"}'
                FROM generate_series(1, :n) AS g,
                     LATERAL (SELECT now() - (g % 604800) * interval '1 second' AS ts) AS t
                """
            ),
            {"agents": count, "n": activities},
        )
    # What autovacuum does to a table soon after a bulk of inserts: statistics, and the
    # visibility map the overview's index-only counts rely on (settled rows need no visit).
    with fleet.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM (ANALYZE) agents"))
        connection.execute(text("VACUUM (ANALYZE) agent_activities"))


def _timed(http: httpx.Client, path: str, runs: int) -> dict[str, float]:
    http.get(path).raise_for_status()  # warm
    took = []
    for _ in range(runs):
        began = time.perf_counter()
        http.get(path).raise_for_status()
        took.append((time.perf_counter() - began) * 1000)
    took.sort()
    return {
        "p50_ms": round(statistics.median(took), 1),
        "p95_ms": round(took[max(0, int(len(took) * 0.95) - 1)], 1),
    }


def _viewers(console: BackgroundConsole, fleet: Fleet, viewers: int, events: int) -> dict[str, int]:
    counts = [0] * viewers
    ready = threading.Barrier(viewers + 1)

    def watch(index: int) -> None:
        with (
            httpx.Client(base_url=console.url, trust_env=False, timeout=30) as http,
            http.stream("GET", "/feed/events") as stream,
        ):
            lines = stream.iter_lines()
            for line in lines:
                if line.startswith("event: status"):
                    break
            ready.wait()
            for line in lines:
                if line.startswith("event: activity"):
                    counts[index] += 1
                    if counts[index] == events:
                        return

    threads = [threading.Thread(target=watch, args=(i,), daemon=True) for i in range(viewers)]
    for thread in threads:
        thread.start()
    ready.wait(timeout=60)
    hub = console.app.state.hub
    while hub.viewers < viewers:
        time.sleep(0.01)
    time.sleep(0.3)
    for n in range(events):
        fleet.activity_channel.publish(
            {
                "handle": "bench",
                "persona": "ux_ui_designer",
                "action": "like",
                "status": "succeeded",
                "detail": {"title": f"event {n}"},
            }
        )
    for thread in threads:
        thread.join(timeout=30)
    return {
        "viewers": viewers,
        "events": events,
        "every_event_delivered_to": sum(1 for c in counts if c == events),
        "fewest_received": min(counts),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=100_000)
    parser.add_argument("--activities", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--viewers", type=int, default=50)
    parser.add_argument("--events", type=int, default=100)
    args = parser.parse_args()

    name = scratch_database()
    prefix = f"fleet-bench-{uuid.uuid4().hex[:8]}:"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + "/" + name
    settings = Settings(
        database_url=url,
        redis_url=REDIS,
        broker_key_prefix=prefix,
        seed=1,  # type: ignore[arg-type]
    )
    fleet = bootstrap(settings)
    out: dict[str, object] = {
        "benchmark": "console",
        "agents": args.agents,
        "activities": args.activities,
    }
    try:
        migrate.upgrade(fleet.engine)
        began = time.perf_counter()
        _populate(fleet, args.agents, args.activities)
        out["populate_seconds"] = round(time.perf_counter() - began, 1)
        deep = max(0, args.agents - 100)
        handle = agents.get(fleet, str(max(1, args.agents // 2))).handle
        with (
            BackgroundConsole(fleet) as console,
            httpx.Client(base_url=console.url, trust_env=False, timeout=30) as http,
        ):
            out["pages"] = {
                path: _timed(http, path, args.runs)
                for path in (
                    "/",
                    "/agents",
                    f"/agents?after={deep}",
                    f"/agents?q={handle[-6:]}",
                    "/agents?persona=indie_game_dev&status=active",
                    f"/agents/{handle}",
                )
            }
            # The overview's reads without the console's few-second sharing of them.
            took = []
            for _ in range(max(5, args.runs // 4)):
                began = time.perf_counter()
                board.board(fleet)
                took.append((time.perf_counter() - began) * 1000)
            took.sort()
            out["overview_reads_uncached"] = {
                "p50_ms": round(statistics.median(took), 1),
                "p95_ms": round(took[max(0, int(len(took) * 0.95) - 1)], 1),
            }
            out["live_feed"] = _viewers(console, fleet, args.viewers, args.events)
    finally:
        fleet.close()
        forget_keys(REDIS, prefix)
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
