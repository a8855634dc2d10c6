"""Benchmark: what one batched browse costs, in measures this machine's noise cannot move.

``bench.actions`` times browses through a real worker against the no-op ceiling; on a
machine shared with other work its CPU figures move from run to run. This runs the same
work in one process, where it can be counted, as ``bench.like_cpu`` does for likes:
batches of browses (``fleet.engage_batch``, as the tick sends them) carried out in this
process on the local Postgres, with the sandbox gallery in a process of its own on an
in-memory database. Each browsing agent follows ``--follows`` of the posts' authors, so
its home feed (``FLEET_ACTIONS__HOME_FEED_SHARE``) has posts to show.

Per browse it prints:

- ``python_calls``: the Python function calls the worker's side made (``cProfile``, a
  deterministic count for a given tree), and where its time went (``profile``);
- ``round_trips``: the gallery requests and the Redis commands the worker's side made
  (counted by the profile: calls of the gallery client's request and of redis-py's
  command execution);
- ``cpu_ms``: CPU milliseconds of this process, the sandbox and the database's Postgres
  backends per browse (noisy: a figure to read beside the counts, not instead of them).

    python -m bench.browse_cpu [--agents 50] [--posts 100] [--authors 10] [--follows 3]
        [--batches 4] [--top 25]
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy import func, select, update

from bench import cpu, forget_keys, scratch_database
from bench.actions import ADMIN, REDIS, TOKEN, _free_port, _sandbox, _until_listening
from bench.engage_batches import Batches, seed_posts
from bench.like_cpu import _profile
from fleet import agents
from fleet.agents import Selection
from fleet.db import migrate
from fleet.db.models import Agent, AgentActivity
from fleet.gallery.client import HttpGallery
from fleet.infra import logs
from fleet.service.accounts import provision_accounts
from fleet.service.root import bootstrap
from fleet.settings import Settings
from fleet.worker.app import create_app

PERSONA = "social_media_marketer"

# The round trips a browse makes, by the function that makes each (file mark, name).
ROUND_TRIPS = {
    "gallery_requests": ("fleet/gallery/client", "_call"),
    "redis_commands": ("redis/client", "execute_command"),
}


def _round_trips(stats: pstats.Stats, browses: int) -> dict[str, float]:
    entries = stats.stats  # type: ignore[attr-defined]
    counted = dict.fromkeys(ROUND_TRIPS, 0)
    for (filename, _, name), (_, nc, _, _, _) in entries.items():
        for label, (mark, function) in ROUND_TRIPS.items():
            if mark in filename.replace("\\", "/") and name == function:
                counted[label] += nc
    return {label: round(n / browses, 2) for label, n in counted.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=50, help="browses per batch: one per agent")
    parser.add_argument("--posts", type=int, default=100, help="posts on the gallery's feed")
    parser.add_argument("--authors", type=int, default=10, help="agents the posts are by")
    parser.add_argument(
        "--follows", type=int, default=3, help="authors each browsing agent follows"
    )
    parser.add_argument("--batches", type=int, default=4, help="measured batches per phase")
    parser.add_argument("--top", type=int, default=25, help="functions listed by own time")
    parser.add_argument("--dump", help="write the profile here too (pstats, for snakeviz)")
    args = parser.parse_args()
    logs.configure("WARNING", stream=sys.stderr)  # stdout is the JSON's

    name = scratch_database()
    prefix = f"fleet-bench-{uuid.uuid4().hex[:8]}:"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    plain = ADMIN.rsplit("/", 1)[0] + "/" + name
    url = plain.replace("postgresql://", "postgresql+psycopg://", 1)
    port = _free_port()
    gallery_url = f"http://127.0.0.1:{port}"
    sandbox = _sandbox(port)
    settings = Settings(
        database_url=url,
        broker_url=REDIS,
        redis_url=REDIS,
        broker_key_prefix=prefix,
        seed=1,
        gallery={"url": gallery_url, "token": TOKEN},
        actions={"gallery_requests_per_second": 100000},
    )
    fleet = bootstrap(settings)
    out: dict[str, Any] = {
        "benchmark": "browse_cpu",
        "batch_size": args.agents,
        "posts": args.posts,
        "follows_per_agent": args.follows,
        "home_feed_share": settings.actions.home_feed_share,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    try:
        migrate.upgrade(fleet.engine)
        app = create_app(settings)
        app.conf.fleet = fleet
        from fleet.worker import tasks  # noqa: F401 - registers the tasks on the app

        now = datetime.now(UTC)
        authors = max(1, args.authors)
        created = agents.create_agents(
            fleet.sessions,
            fleet.personas,
            agents.NewAgents(PERSONA, args.agents + authors),
            fleet_seed=1,
            now=now,
        )
        agents.change_status(
            fleet.sessions, fleet.personas, "start", Selection(everyone=True), now=now
        )
        with fleet.sessions.begin() as session:
            session.execute(update(Agent).values(next_tick_at=now + timedelta(days=1)))
        ids = list(range(created.first_id, created.first_id + args.agents + authors))
        writers, readers = ids[:authors], ids[authors:]
        _until_listening(sandbox, port)
        setup = HttpGallery(settings.gallery)
        provision_accounts(fleet.sessions, setup, ids)
        handle = {i: agents.get_agent(fleet.sessions, str(i)).handle for i in ids}
        seed_posts(setup, gallery_url, [handle[w] for w in writers], args.posts)
        for n, reader in enumerate(readers):
            for k in range(min(args.follows, authors)):
                followed = handle[writers[(n + k) % authors]]
                setup.follow(
                    agent=handle[reader], handle=followed, idempotency_key=f"bench-follow-{n}-{k}"
                )
        batch_task = app.tasks["fleet.engage_batch"]
        batches = Batches(fleet, batch_task, readers, "browse", now)
        run = batches.run

        # Warm-up: imports, connections, compiled statements.
        run(2, lambda work: work())
        browses = args.batches * len(readers)

        parties = {"sandbox": sandbox.pid}
        spent_before = cpu.snapshot(parties, name)
        began = time.process_time()
        keys = run(args.batches, lambda work: work())
        worker_s = time.process_time() - began
        spent = cpu.per_item_ms(spent_before, cpu.snapshot(parties, name), browses)
        with fleet.sessions() as session:
            outcomes = dict(
                session.execute(
                    select(AgentActivity.status, func.count())
                    .where(AgentActivity.idempotency_key.in_(keys))
                    .group_by(AgentActivity.status)
                ).all()
            )
        out["browses_measured"] = browses
        out["outcomes"] = {str(k): v for k, v in outcomes.items()}
        out["cpu_ms_per_browse"] = {
            "worker": round(worker_s * 1000 / browses, 3),
            "sandbox": round(spent["sandbox"], 3),
            "postgres": round(spent["postgres"], 3),
        }

        # Counted: the Python calls and where the CPU went, on batches of their own.
        stats = batches.profiled(args.batches)
        out["round_trips_per_browse"] = _round_trips(stats, browses)
        out["profile"] = _profile(stats, browses, args.top, unit="browse")
        if args.dump:
            stats.dump_stats(args.dump)
        setup.close()
    finally:
        fleet.close()
        sandbox.terminate()
        sandbox.wait(timeout=30)
        forget_keys(REDIS, prefix)
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
