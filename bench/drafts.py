"""Benchmark: review mode's statistics and pages with many drafts.

Prints JSON with the p50/p95 (ms) of what reads the drafts: the statistics the Drafts
page, the overview and ``fleet status`` show (``draft_stats``), ``fleet status``'s drafts
section, a page of pending (and of rejected) drafts, the Drafts page over HTTP and the
overview's reads (uncached), with
``--drafts`` drafts (half pending, the rest approved, rejected and expired over the last
seven days) on Postgres and on SQLite.

Uses a database of its own on each (a scratch Postgres database, a temporary SQLite
file), removed at the end.

    python -m bench.drafts [--drafts 200000] [--runs 15] [--only postgres|sqlite]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import insert, text
from starlette.testclient import TestClient

from bench import scratch_database
from fleet.console.app import build_app
from fleet.console.security import Guard
from fleet.db import migrate
from fleet.db.models import AgentActivity, Draft
from fleet.service import agents, board, drafts, status
from fleet.service.root import Fleet, bootstrap
from fleet.settings import Settings

ADMIN = os.environ.get("FLEET_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
AGENTS = 600
STEP = 10_000


def _populate(fleet: Fleet, count: int) -> None:
    """``count`` drafts of ``AGENTS`` agents under review: half pending, a quarter
    approved, the rest rejected or expired, decided over the last seven days."""
    agents.create(
        fleet, agents.NewAgents("ux_ui_designer", AGENTS // 2, review=agents.ReviewMode.ON)
    )
    agents.create(
        fleet,
        agents.NewAgents("data_visualization", AGENTS - AGENTS // 2, review=agents.ReviewMode.ON),
    )
    rng = random.Random(1)
    now = fleet.clock.now()
    week = 7 * 86_400
    for first in range(0, count, STEP):
        activities, rows = [], []
        for n in range(first, min(count, first + STEP)):
            made = now - timedelta(seconds=rng.uniform(0, week))
            roll = n % 8
            state = (
                "pending" if roll < 4 else ("approved", "approved", "rejected", "expired")[roll - 4]
            )
            decided = (
                None if state == "pending" else made + timedelta(seconds=rng.uniform(60, 7200))
            )
            activities.append(
                {
                    "id": n + 1,
                    "agent_id": 1 + n % AGENTS,
                    "action": ("post", "comment", "reply")[n % 3],
                    "idempotency_key": f"bench:{n}",
                    "due_at": made,
                    "status": "awaiting_review" if state == "pending" else "skipped",
                    "attempts": 1,
                    "deliveries": 1,
                    "content": {"text": f"draft {n}", "title": "A chart of things"},
                    "usage": {"cost_usd": 0.0004},
                    "created_at": made,
                    "updated_at": decided or made,
                }
            )
            rows.append(
                {
                    "id": n + 1,
                    "activity_id": n + 1,
                    "agent_id": 1 + n % AGENTS,
                    "status": state,
                    "created_at": made,
                    "expires_at": made + timedelta(hours=48),
                    "decided_at": decided,
                    "cost_usd": 0.0004,
                }
            )
        with fleet.sessions.begin() as session:
            session.execute(insert(AgentActivity), activities)
            session.execute(insert(Draft), rows)
    with fleet.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if fleet.engine.dialect.name == "postgresql":
            connection.execute(text("SELECT setval('agent_activities_id_seq', :n)"), {"n": count})
            connection.execute(text("SELECT setval('drafts_id_seq', :n)"), {"n": count})
            # What autovacuum does soon after a bulk of inserts (index-only scans rely on it).
            connection.execute(text("VACUUM (ANALYZE) drafts"))
            connection.execute(text("VACUUM (ANALYZE) agent_activities"))
        else:
            connection.execute(text("ANALYZE"))


def _timed(call: Callable[[], Any], runs: int) -> dict[str, float]:
    call()  # warm
    took = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        took.append((time.perf_counter() - began) * 1000)
    took.sort()
    return {
        "p50_ms": round(statistics.median(took), 1),
        "p95_ms": round(took[max(0, int(len(took) * 0.95) - 1)], 1),
    }


def _measure(settings: Settings, count: int, runs: int) -> dict[str, Any]:
    fleet = bootstrap(settings)
    migrate.upgrade(fleet.engine)
    try:
        began = time.perf_counter()
        _populate(fleet, count)
        filled = time.perf_counter() - began
        stats = drafts.stats(fleet)
        out: dict[str, Any] = {
            "drafts": count,
            "populate_s": round(filled, 1),
            "waiting": stats.waiting,
            "decided_7d": stats.approved + stats.rejected + stats.expired,
            "draft_stats": _timed(lambda: drafts.stats(fleet), runs),
            "status_drafts": _timed(lambda: status.drafts_of(fleet, fleet.clock.now()), runs),
            "pending_page": _timed(lambda: drafts.find(fleet, status="pending", limit=50), runs),
            "rejected_page": _timed(lambda: drafts.find(fleet, status="rejected", limit=50), runs),
        }
        app = build_app(fleet, Guard(None))
        with TestClient(app, base_url="http://127.0.0.1") as http:

            def get(path: str) -> None:
                http.get(path).raise_for_status()

            out["drafts_page_http"] = _timed(lambda: get("/drafts"), runs)
        # The overview's reads, uncached (its page shares one read for a few seconds).
        out["overview_reads"] = _timed(lambda: board.board(fleet), runs)
        return out
    finally:
        fleet.close()


def _postgres(count: int, runs: int) -> dict[str, Any]:
    name = scratch_database()
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        return _measure(_settings(f"{base}/{name}"), count, runs)
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _sqlite(count: int, runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        return _measure(_settings(f"sqlite:///{Path(folder) / 'drafts.db'}"), count, runs)


def _settings(url: str) -> Settings:
    return Settings(database_url=url, redis_url=None, broker_url="memory://")  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drafts", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--only", choices=["postgres", "sqlite"])
    args = parser.parse_args()
    out: dict[str, Any] = {}
    if args.only in (None, "postgres"):
        out["postgres"] = _postgres(args.drafts, args.runs)
    if args.only in (None, "sqlite"):
        out["sqlite"] = _sqlite(args.drafts, args.runs)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
