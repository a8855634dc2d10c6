"""Benchmark: creating and starting agents in bulk on the real Postgres.

Prints JSON: seconds to create N agents through the agents context (COPY on Postgres),
and to start them (each gets its first tick from its clock). Uses a database of its own,
dropped at the end.

    python -m bench.create_agents --count 100000
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import UTC, datetime

import psycopg

from bench import scratch_database
from fleet import agents
from fleet.agents import Selection
from fleet.db import migrate
from fleet.service.root import bootstrap
from fleet.settings import Settings

ADMIN = os.environ.get("FLEET_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--persona", default="social_media_marketer")
    args = parser.parse_args()
    name = scratch_database()
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + "/" + name
    fleet = bootstrap(Settings(database_url=url, seed=1))
    try:
        migrate.upgrade(fleet.engine)
        now = datetime.now(UTC)
        began = time.perf_counter()
        created = agents.create_agents(
            fleet.sessions,
            fleet.personas,
            agents.NewAgents(args.persona, args.count),
            fleet_seed=1,
            now=now,
        )
        create_seconds = time.perf_counter() - began
        began = time.perf_counter()
        started = agents.change_status(
            fleet.sessions,
            fleet.personas,
            "start",
            Selection(id_range=(created.first_id, created.last_id)),
            now=now,
        )
        start_seconds = time.perf_counter() - began
        print(
            json.dumps(
                {
                    "benchmark": "create_agents",
                    "backend": "postgresql",
                    "agents": created.count,
                    "create_seconds": round(create_seconds, 3),
                    "create_agents_per_second": round(created.count / create_seconds),
                    "start_seconds": round(start_seconds, 3),
                    "start_agents_per_second": round(started.changed / start_seconds),
                },
                indent=2,
            )
        )
    finally:
        fleet.close()
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
