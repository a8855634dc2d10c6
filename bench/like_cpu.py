"""Benchmark: what one batched like costs, in measures this machine's noise cannot move.

``bench.actions`` times likes through a real worker against the no-op ceiling; on a
machine shared with other work its CPU figures move by a tenth from run to run. This
runs the same work in one process, where it can be counted: batches of likes
(``fleet.engage_batch``, as the tick sends them) carried out in this process on the local
Postgres, with the sandbox gallery in a process of its own on an in-memory database.

Per like it prints:

- ``python_calls``: the Python function calls the worker's side made (``cProfile``, a
  deterministic count for a given tree), and where its time went (``profile``: the
  functions with the most own time, and the share of the areas a like crosses);
- ``rows_read``: the rows Postgres read from the two tables target choice reads
  (``pg_stat_user_tables``: index and sequential tuples of ``agent_activities`` and
  ``engagements``, after ``--settle`` seconds for the counts to reach the collector),
  and ``taken_by``: those the choice's one read of the ledger (``activities.taken_by``)
  read as its plan says (``EXPLAIN ANALYZE``), with its median execution time; each
  agent has a history of ``--history`` likes of posts no longer on the feed beforehand
  (a history that must not weigh on it);
- ``cpu_ms``: CPU milliseconds of this process, the sandbox and the database's Postgres
  backends per like (noisy: a figure to read beside the counts, not instead of them).

With ``--callgrind`` the measured batches run with valgrind's instrumentation on (run it
as ``valgrind --tool=callgrind --instr-atstart=no python -m bench.like_cpu --callgrind``);
the instructions are those callgrind's output file counts, divided by the likes printed.

    python -m bench.like_cpu [--agents 50] [--posts 100] [--batches 4] [--history 0]
        [--top 25] [--callgrind]
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy import func, insert, select, text, update

from bench import cpu, forget_keys, scratch_database
from bench.actions import ADMIN, REDIS, TOKEN, _free_port, _sandbox, _until_listening
from bench.engage_batches import Batches, seed_posts
from fleet import agents
from fleet.activities import kept_targets
from fleet.agents import Selection
from fleet.db import migrate
from fleet.db.models import Agent, AgentActivity, Engagement
from fleet.gallery.client import HttpGallery
from fleet.infra import logs
from fleet.service.accounts import provision_accounts
from fleet.service.root import bootstrap
from fleet.settings import Settings
from fleet.worker.app import create_app

PERSONA = "social_media_marketer"
TABLES = ("agent_activities", "engagements")

# Where a like's time goes, by the module its functions live in (first match wins).
AREAS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "answer parsing",
        ("http/client", "email/", "httpx/", "h11/", "fleet/gallery/wire", "fleet/gallery/answers"),
    ),
    ("gallery client", ("fleet/gallery/",)),
    (
        "target choice",
        (
            "fleet/actions/choosing",
            "fleet/actions/feed_snapshot",
            "fleet/impact/holdout_view",
            "fleet/consent/book",
            "fleet/activities/kept_targets",
        ),
    ),
    ("taste", ("fleet/core/taste", "fleet/core/interests", "fleet/actions/interests")),
    ("sqlalchemy", ("sqlalchemy/",)),
    ("psycopg", ("psycopg/", "psycopg_")),
    ("celery and kombu", ("celery/", "kombu/", "billiard/", "redis/")),
    ("logging", ("structlog/", "logging/")),
    ("socket and ssl", ("socket.py", "ssl.py", "selectors.py")),
    ("json", ("json/",)),
    ("threads and queues", ("threading.py", "concurrent/", "queue.py")),
    ("other fleet", ("fleet/",)),
)


def _rows_read(url: str) -> dict[str, int]:
    """Tuples read so far from the tables target choice reads, by the index that read
    them (or ``seq``: a table's sequential scans), as the statistics collector has them
    (each backend flushes its counts some seconds after going idle: wait before
    reading, ``_settled_rows_read``)."""
    with psycopg.connect(url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT indexrelname, idx_tup_read FROM pg_stat_user_indexes"
            " WHERE relname = ANY(%(tables)s)"
            " UNION ALL SELECT relname || ' seq', seq_tup_read FROM pg_stat_user_tables"
            " WHERE relname = ANY(%(tables)s)",
            {"tables": list(TABLES)},
        ).fetchall()
    return {str(name): int(count or 0) for name, count in rows}


def _delta(before: dict[str, int], after: dict[str, int], per: int) -> dict[str, float]:
    """Rows read per ``per`` between two readings, by index, the busiest first."""
    spent = {name: (after.get(name, 0) - before.get(name, 0)) / per for name in after}
    return {
        name: round(count, 1)
        for name, count in sorted(spent.items(), key=lambda item: -item[1])
        if count
    }


def _settled_rows_read(url: str, settle: float) -> dict[str, int]:
    time.sleep(settle)
    return _rows_read(url)


def _area(filename: str) -> str:
    path = filename.replace("\\", "/")
    for area, marks in AREAS:
        if any(mark in path for mark in marks):
            return area
    return "other" if path.startswith("/") or path.startswith("<") else "builtins"


def _profile(stats: pstats.Stats, likes: int, top: int, unit: str = "like") -> dict[str, Any]:
    """The profile per ``unit`` (a like, or another kind's action: ``likes`` of them):
    calls, the functions with the most own time, the areas."""
    entries = stats.stats  # type: ignore[attr-defined]
    total = sum(tt for (_, _, tt, _, _) in entries.values()) or 1.0
    calls = sum(nc for (_, nc, _, _, _) in entries.values())
    areas: dict[str, float] = {}
    area_calls: dict[str, int] = {}
    for (filename, _, _), (_, nc, tt, _, callers) in entries.items():
        area = _area(filename)
        area_calls[area] = area_calls.get(area, 0) + nc
        if area != "builtins" or not callers:
            areas[area] = areas.get(area, 0.0) + tt
            continue
        # A builtin's time is its callers': split by what each call edge spent.
        edges = sum(edge[2] for edge in callers.values()) or 1.0
        for (caller, _, _), edge in callers.items():
            share = tt * edge[2] / edges
            areas[_area(caller)] = areas.get(_area(caller), 0.0) + share
    ranked = sorted(entries.items(), key=lambda item: item[1][2], reverse=True)[:top]
    cumulative = sorted(
        ((key, value) for key, value in entries.items() if "/fleet/" in key[0]),
        key=lambda item: item[1][3],
        reverse=True,
    )[:top]
    return {
        f"python_calls_per_{unit}": round(calls / likes, 1),
        f"cpu_ms_per_{unit}_profiled": round(total * 1000 / likes, 3),
        "areas_share_of_cpu": {
            area: round(seconds / total, 3)
            for area, seconds in sorted(areas.items(), key=lambda item: -item[1])
        },
        f"areas_calls_per_{unit}": {
            area: round(count / likes, 1)
            for area, count in sorted(area_calls.items(), key=lambda item: -item[1])
        },
        "top_own_cpu": [
            {
                "function": f"{_short(filename)}:{line}({name})",
                f"calls_per_{unit}": round(nc / likes, 2),
                "share": round(tt / total, 3),
            }
            for (filename, line, name), (_, nc, tt, _, _) in ranked
        ],
        "fleet_functions_cumulative": [
            {
                "function": f"{_short(filename)}:{line}({name})",
                f"calls_per_{unit}": round(nc / likes, 2),
                "share": round(ct / total, 3),
            }
            for (filename, line, name), (_, nc, _, ct, _) in cumulative
        ],
    }


def _short(filename: str) -> str:
    for mark in ("site-packages/", "/fleet/", "python3.11/"):
        if mark in filename:
            return (
                filename.split(mark, 1)[1]
                if mark != "/fleet/"
                else "fleet/" + filename.split(mark, 1)[1]
            )
    return filename


def _history(url: str, agent_ids: Sequence[int], likes: int, now: datetime) -> None:
    """Each agent's ``likes`` earlier likes, of posts long off the feed: a succeeded
    activity and its ledger row each, as a like leaves them."""
    if likes <= 0:
        return
    from sqlalchemy import create_engine

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    then = now - timedelta(days=30)
    with engine.begin() as connection:
        for agent_id in agent_ids:
            rows = [
                {
                    "agent_id": agent_id,
                    "action": "like",
                    "idempotency_key": f"{agent_id}:history-{n}:like",
                    "due_at": then,
                    "status": "succeeded",
                    "target_post_id": f"old-post-{agent_id}-{n}",
                    "created_at": then,
                    "updated_at": then,
                    "finished_at": then,
                }
                for n in range(likes)
            ]
            ids = connection.execute(
                insert(AgentActivity).returning(AgentActivity.id), rows
            ).scalars()
            connection.execute(
                insert(Engagement),
                [
                    {
                        "agent_id": agent_id,
                        "target_kind": "post",
                        "target_id": row["target_post_id"],
                        "kind": "like",
                        "activity_id": activity_id,
                        "created_at": then,
                    }
                    for row, activity_id in zip(rows, ids, strict=True)
                ],
            )
        connection.execute(text("ANALYZE agent_activities; ANALYZE engagements"))
    engine.dispose()


def _callgrind(switch: str) -> None:
    subprocess.run(
        ["callgrind_control", "-i", switch, str(os.getpid())],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=50, help="likes per batch: one per agent")
    parser.add_argument("--posts", type=int, default=100, help="posts on the gallery's feed")
    parser.add_argument("--batches", type=int, default=4, help="measured batches per phase")
    parser.add_argument(
        "--history", type=int, default=0, help="earlier likes per agent, of posts off the feed"
    )
    parser.add_argument("--top", type=int, default=25, help="functions listed by own time")
    parser.add_argument(
        "--settle",
        type=float,
        default=11.0,
        help="seconds to wait for Postgres's counts (an idle backend flushes them within"
        " PGSTAT_IDLE_INTERVAL, 10 s in Postgres 15)",
    )
    parser.add_argument("--dump", help="write the profile here too (pstats, for snakeviz)")
    parser.add_argument(
        "--callgrind",
        action="store_true",
        help="instrument the measured batches only, and stop after them",
    )
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
        actions={
            "gallery_requests_per_second": 100000,
            "bot_engagements_per_post_per_hour": 1000000,
        },
    )
    fleet = bootstrap(settings)
    out: dict[str, Any] = {
        "benchmark": "like_cpu",
        "batch_size": args.agents,
        "posts": args.posts,
        "history_per_agent": args.history,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    try:
        migrate.upgrade(fleet.engine)
        app = create_app(settings)
        app.conf.fleet = fleet
        from fleet.worker import tasks  # noqa: F401 - registers the tasks on the app

        now = datetime.now(UTC)
        created = agents.create_agents(
            fleet.sessions,
            fleet.personas,
            agents.NewAgents(PERSONA, args.agents + 1),
            fleet_seed=1,
            now=now,
        )
        agents.change_status(
            fleet.sessions, fleet.personas, "start", Selection(everyone=True), now=now
        )
        with fleet.sessions.begin() as session:
            session.execute(update(Agent).values(next_tick_at=now + timedelta(days=1)))
        ids = list(range(created.first_id, created.first_id + args.agents + 1))
        author, fans = ids[0], ids[1:]
        _until_listening(sandbox, port)
        setup = HttpGallery(settings.gallery)
        provision_accounts(fleet.sessions, setup, ids)
        handle = agents.get_agent(fleet.sessions, str(author)).handle
        seed_posts(setup, gallery_url, [handle], args.posts)
        setup.close()
        _history(plain, fans, args.history, now)
        batch_task = app.tasks["fleet.engage_batch"]
        batches = Batches(fleet, batch_task, fans, "like", now)
        run = batches.run

        # Warm-up: imports, connections, compiled statements, the feed's first page.
        run(2, lambda work: work())
        likes = args.batches * args.agents

        # CPU, and the rows read (settled before and after).
        parties = {"sandbox": sandbox.pid}
        rows_before = _settled_rows_read(plain, args.settle)
        spent_before = cpu.snapshot(parties, name)
        began = time.process_time()
        if args.callgrind:
            _callgrind("on")
        keys = run(args.batches, lambda work: work())
        if args.callgrind:
            _callgrind("off")
        worker_s = time.process_time() - began
        spent = cpu.per_item_ms(spent_before, cpu.snapshot(parties, name), likes)
        rows_after = _settled_rows_read(plain, args.settle)
        with fleet.sessions() as session:
            outcomes = dict(
                session.execute(
                    select(AgentActivity.status, func.count())
                    .where(AgentActivity.idempotency_key.in_(keys))
                    .group_by(AgentActivity.status)
                ).all()
            )
        out["likes_measured"] = likes
        out["outcomes"] = {str(k): v for k, v in outcomes.items()}
        read = _delta(rows_before, rows_after, likes)
        out["rows_read_per_like"] = round(sum(read.values()), 1)
        out["rows_read_per_like_by_index"] = read
        out["cpu_ms_per_like"] = {
            "worker": round(worker_s * 1000 / likes, 3),
            "sandbox": round(spent["sandbox"], 3),
            "postgres": round(spent["postgres"], 3),
        }

        if args.callgrind:  # the instructions are the figure: nothing more to run slowly
            print(json.dumps(out, indent=1))
            return

        # The choice's one read of the ledger alone, for a batch's agents and the feed:
        # the rows its plan read (EXPLAIN ANALYZE, exact), and the time Postgres took.
        feed = setup_feed(settings, handle)
        out["taken_by"] = _taken_by_plan(fleet.engine, fans, feed, now - timedelta(hours=1))

        # Counted: the Python calls and where the CPU went, on batches of their own.
        stats = batches.profiled(args.batches)
        out["profile"] = _profile(stats, likes, args.top)
        if args.dump:
            stats.dump_stats(args.dump)
    finally:
        fleet.close()
        sandbox.terminate()
        sandbox.wait(timeout=30)
        forget_keys(REDIS, prefix)
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(json.dumps(out, indent=1))


def _plan_reads(plan: dict[str, Any], into: dict[str, float]) -> None:
    """Rows each scan of the two tables read (kept and filtered out, over its loops),
    by the index that read them (or ``<table> seq``), added to ``into``."""
    table = plan.get("Relation Name")
    if table in TABLES:
        per_loop = plan["Actual Rows"] + plan.get("Rows Removed by Filter", 0)
        per_loop += plan.get("Rows Removed by Index Recheck", 0)
        name = plan.get("Index Name") or f"{table} {plan['Node Type'].lower()}"
        into[name] = into.get(name, 0) + per_loop * plan["Actual Loops"]
    for child in plan.get("Plans", []):
        _plan_reads(child, into)


def _taken_by_plan(
    engine: Any, agent_ids: list[int], post_ids: list[str], since: datetime
) -> dict[str, Any]:
    """``activities.taken_by``'s statement as Postgres ran it for these agents and posts:
    rows read by index (its bitmap scans by the table: ``<table> bitmap heap scan``),
    and the median execution and planning milliseconds of ten runs."""
    statement = kept_targets._TAKEN_BY["postgresql"]
    runs: list[tuple[float, float]] = []
    reads: dict[str, float] = {}
    with engine.connect() as connection:
        compiled = statement.compile(dialect=connection.dialect)
        given = {"agents": agent_ids, "posts": post_ids, "kind": "like", "since": since}
        parameters = compiled.construct_params(given)  # taken_by's own (taken_by_parameters)
        for _ in range(10):
            reads = {}
            (explained,) = connection.exec_driver_sql(
                f"EXPLAIN (ANALYZE, FORMAT JSON) {compiled}", parameters
            ).scalar_one()
            _plan_reads(explained["Plan"], reads)
            runs.append((explained["Execution Time"], explained["Planning Time"]))
    return {
        "rows_read_per_batch": round(sum(reads.values()), 1),
        "rows_read_per_batch_by_index": {k: round(v, 1) for k, v in reads.items()},
        "execution_ms_median": round(statistics.median(r[0] for r in runs), 3),
        "planning_ms_median": round(statistics.median(r[1] for r in runs), 3),
    }


def setup_feed(settings: Settings, handle: str) -> list[str]:
    """The ids of the candidates a like's choice sees (``FeedSnapshot``): the first page
    of each feed sort, without repeats."""
    gallery = HttpGallery(settings.gallery)
    size = settings.taste.page_size
    try:
        pages = [gallery.feed(agent=handle, limit=size, sort=s) for s in settings.taste.sorts]
        return list(dict.fromkeys(post.id for page in pages for post in page))
    finally:
        gallery.close()


if __name__ == "__main__":
    main()
