"""The stack of one ``bench.pipeline`` run: its database, Redis key prefix, sandbox gallery,
beat and worker processes, the agents, and the measurement of one burst.

Workers are laid out as ``docker-compose.yml`` runs them (``layout="queues"``): one worker
per queue group, each with compose's pool and concurrency (ticks: solo; content: threads
-c 8, or ``--content-pool``; engage: prefork at ``--concurrency``), so a like never waits behind a post in the
same worker. ``layout="single"`` runs every queue on one worker (``--workers``,
``--pool``, ``--concurrency``), as the benchmark did before.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import redis
from celery import Celery
from sqlalchemy import func, select, text

from bench import cpu, forget_keys, scratch_database
from bench.pipeline_util import (
    _by_kind,
    _children,
    _free_port,
    _memory_kib,
    _percentile,
    _rss_kib,
    _skip_reasons,
    _wait,
)
from bench.sandbox import TOKEN, _listening, _spawn
from fleet import agents
from fleet.db import migrate
from fleet.db.models import Agent, AgentActivity
from fleet.gallery.client import HttpGallery
from fleet.service.accounts import provision_accounts
from fleet.service.root import Fleet, bootstrap
from fleet.settings import GallerySettings, Settings
from fleet.worker.app import create_app

ADMIN = os.environ.get("FLEET_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("FLEET_BENCH_REDIS", "redis://127.0.0.1:6379/0")
ROOT = Path(__file__).resolve().parents[1]
ONCE = (3600.0, 7200.0)  # agents tick once in a run
SEED_POSTS = 40
NOOPS = 3000
BURST_TIMEOUT = float(os.environ.get("FLEET_BENCH_BURST_TIMEOUT", "150"))

# docker-compose.yml's workers: (name, queues, pool, concurrency); engage's concurrency is
# the benchmark's --concurrency (compose: 4), the others are compose's.
COMPOSE_GROUPS = (
    ("ticks", "ticks,dead_letter", "solo", 1),
    ("content", "content", "threads", 8),
    ("engage", "engage", "prefork", 0),
)


def _pool_memory(
    specs: list[tuple[str, str, int]], started: list[subprocess.Popen[bytes]]
) -> dict[str, dict[str, float]]:
    """Each worker's memory after a burst, its main process and its pool's children
    together: the sums of RSS (shared pages counted once per process), PSS (each shared
    page divided among its sharers) and USS (private pages), in MiB; its main process's
    and its children's mean (``main_*``, ``child_*``); and the totals."""
    out: dict[str, dict[str, float]] = {}
    total = {"rss": 0, "pss": 0, "uss": 0, "processes": 0}
    for n, ((queues, pool, concurrency), process) in enumerate(zip(specs, started, strict=True)):
        children = _children(process.pid)
        sums = {"rss": 0, "pss": 0, "uss": 0}
        each = [_memory_kib(pid) for pid in [process.pid, *children]]
        for figures in each:
            for name, kib in figures.items():
                sums[name] += kib
        for name, kib in sums.items():
            total[name] += kib
        total["processes"] += len(each)
        label = f"{queues.split(',')[0]} {n} ({pool} -c {concurrency})"
        out[label] = {name: round(kib / 1024, 1) for name, kib in sums.items()}
        out[label]["processes"] = len(each)
        for name, kib in each[0].items():
            out[label][f"main_{name}"] = round(kib / 1024, 1)
        if children:
            for name in sums:
                mean = sum(figures[name] for figures in each[1:]) / len(children)
                out[label][f"child_{name}"] = round(mean / 1024, 1)
    out["total"] = {
        name: (round(v / 1024, 1) if name != "processes" else v) for name, v in total.items()
    }
    return out


@dataclass(frozen=True, slots=True)
class ContentLayout:
    """The content workers of a run: ``workers`` processes of ``pool`` at ``concurrency``,
    the local model running ``parallel`` calls at once in each (None: its default)."""

    pool: str
    workers: int = 1
    concurrency: int = 8
    parallel: int | None = None

    @classmethod
    def parse(cls, spec: str) -> ContentLayout:
        """``threads-1x8``, ``threads-2x4-p1``, ``prefork-1x4``: pool, processes x
        concurrency, and ``-pN`` for the model's calls at once."""
        try:
            pool, shape, *rest = spec.split("-")
            workers, concurrency = (int(n) for n in shape.split("x"))
            parallel = int(rest[0].removeprefix("p")) if rest else None
        except ValueError:
            raise SystemExit(f"bench: a content layout {spec!r} is not POOL-NxC[-pN]") from None
        if pool not in ("threads", "prefork", "solo") or workers < 1 or concurrency < 1:
            raise SystemExit(f"bench: a content layout {spec!r} is not POOL-NxC[-pN]")
        return cls(pool, workers, concurrency, parallel)

    @property
    def label(self) -> str:
        shape = f"{self.pool}-{self.workers}x{self.concurrency}"
        return shape if self.parallel is None else f"{shape}-p{self.parallel}"

    def env(self) -> dict[str, str]:
        if self.parallel is None:
            return {}
        return {"FLEET_EMBEDDINGS__LOCAL_PARALLEL": str(self.parallel)}


class Bench:
    """The database, Redis prefix, sandbox and processes of one benchmark run."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.name = scratch_database()
        self.prefix = f"fleet-bench-{uuid.uuid4().hex[:8]}:"
        self.logs = Path(tempfile.mkdtemp(prefix="fleet-bench-pipeline-"))
        self.processes: list[subprocess.Popen[bytes]] = []
        self.burst_ids: list[int] = []
        self.warm_ids: list[int] = []
        self.registered = 0
        self.batch_size: int = args.batch_size
        # The first run's workers, started with the sandbox (their imports take seconds).
        self.early: list[tuple[subprocess.Popen[bytes], str]] = []
        # The content workers: their pool, how many, each one's concurrency, and the
        # local model's calls at once in each (None: the setting's default).
        self.content = ContentLayout(getattr(args, "content_pool", None) or "threads")

    @contextmanager
    def running(self) -> Iterator[Bench]:
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{self.name}"')
        url = ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
        self.url = f"{url}/{self.name}"
        port = _free_port()
        sandbox = _spawn(str(self.logs / "sandbox.db"), port)
        self.sandbox_pid = sandbox.pid
        self.gallery_url = f"http://127.0.0.1:{port}"
        try:
            self.early = self.spawn_workers(
                "fleet.worker", self.layout(self.args.workers, self.args.concurrency)
            )
            self.settings = Settings(
                database_url=self.url,
                broker_url=REDIS,
                redis_url=REDIS,
                broker_key_prefix=self.prefix,
                seed=1,
            )
            self.fleet: Fleet = bootstrap(self.settings)
            migrate.upgrade(self.fleet.engine)
            self.app: Celery = create_app(self.settings)
            _listening(sandbox)
            yield self
        finally:
            for process in reversed(self.processes):
                self.stop(process)
            sandbox.terminate()
            sandbox.wait(timeout=15)
            if hasattr(self, "fleet"):
                self.fleet.close()
            # Redis first: a database that cannot be dropped (its server restarting)
            # must not leave the keys behind too.
            forget_keys(REDIS, self.prefix)
            with psycopg.connect(ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    @property
    def env(self) -> dict[str, str]:
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith("FLEET_")},
            "FLEET_DATABASE_URL": self.url,
            "FLEET_BROKER_URL": REDIS,
            "FLEET_REDIS_URL": REDIS,
            "FLEET_BROKER_KEY_PREFIX": self.prefix,
            "FLEET_SEED": "1",
            "FLEET_GALLERY__URL": self.gallery_url,
            "FLEET_GALLERY__TOKEN": TOKEN,
            "FLEET_ACTIONS__GALLERY_REQUESTS_PER_SECOND": "100000",
            "FLEET_ACTIONS__BOT_ENGAGEMENTS_PER_POST_PER_HOUR": "100000",
            "FLEET_ACTIONS__BREAKER_THRESHOLD": "1000",
            "FLEET_TASKS__ACTION_BATCH_SIZE": str(self.batch_size),
            "FLEET_TASKS__TICK_BATCH_SIZE": str(self.args.tick_batch_size),
            "BENCH_NOOP_BROKER": REDIS,
            "BENCH_NOOP_PREFIX": f"{self.prefix}noop:",
        }

    def spawn(
        self, name: str, *args: str, nice: int = 0, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        with (self.logs / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "celery", *args],
                cwd=ROOT,
                env=self.env | (env or {}),
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=(lambda: os.nice(nice) and None) if nice else None,
            )
        self.processes.append(process)
        return process

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process in self.processes:
            self.processes.remove(process)

    def spawn_workers(
        self, app: str, specs: list[tuple[str, str, int]]
    ) -> list[tuple[subprocess.Popen[bytes], str]]:
        """A worker process of ``app`` per (queues, pool, concurrency), and its node name."""
        tag = uuid.uuid4().hex[:6]
        started = []
        for n, (queues, pool, concurrency) in enumerate(specs):
            group = queues.split(",")[0]
            node = f"{app.replace('.', '-')}-{group}{n}-{tag}@%h"
            process = self.spawn(
                f"{app}-{group}{n}-{tag}",
                *("-A", app, "worker", "-Q", queues, "-P", pool, "-c", str(concurrency)),
                *("-n", node, "--without-mingle", "--without-gossip"),
                *("--loglevel", "WARNING"),
                nice=self.args.content_nice if group == "content" else 0,
                env=self.content.env() if group == "content" else None,
            )
            started.append((process, node.replace("%h", os.uname().nodename)))
        return started

    def workers(
        self,
        app: str,
        specs: list[tuple[str, str, int]],
        started: list[tuple[subprocess.Popen[bytes], str]] | None = None,
    ) -> list[subprocess.Popen[bytes]]:
        """Workers of ``app`` (those ``started``, or new ones per spec), each answering a
        ping before this returns."""
        started = started or self.spawn_workers(app, specs)
        celery = self.app if app == "fleet.worker" else _noop_app(self.env)
        for _, full in started:
            _wait(
                lambda f=full: bool(celery.control.ping(destination=[f], timeout=0.5)),  # type: ignore[misc]
                180,  # a loaded machine starts a worker slowly
                f"worker {full}",
            )
        return [process for process, _ in started]

    def layout(self, count: int, concurrency: int) -> list[tuple[str, str, int]]:
        """The workers of a run: compose's groups (``count`` engage workers), or ``count``
        workers of every queue."""
        if self.args.layout == "single":
            every = "ticks,content,engage,dead_letter"
            return [(every, self.args.pool or "threads", concurrency)] * count
        specs = []
        for name, queues, pool, fixed in COMPOSE_GROUPS:
            if name == "content":
                content = self.content
                specs += [(queues, content.pool, content.concurrency)] * content.workers
            elif fixed:
                specs.append((queues, pool, fixed))
            else:
                specs += [(queues, self.args.pool or pool, concurrency)] * count
        return specs

    def seed(self) -> None:
        """Posts on the gallery, by an account outside the fleet, for agents to engage with."""
        headers = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=self.gallery_url, headers=headers, timeout=30) as http:
            http.post(
                "/api/admin/users/invite",
                json={"name": "Seeder", "username": "seeder", "isAgent": True},
            ).raise_for_status()
            for n in range(SEED_POSTS):
                http.post(
                    "/api/showcase",
                    json={
                        "imageUrl": f"{self.gallery_url}/images/placeholder.png",
                        "title": f"#{n}",
                    },
                    headers={"X-Agent-Id": "seeder"},
                ).raise_for_status()

    def register(self, total: int) -> None:
        """Registered agents up to ``total``: the first ``--agents`` are the burst."""
        slugs = self.fleet.personas.slugs()
        now = datetime.now(UTC)
        while self.registered < total:
            count = min(50_000, total - self.registered)
            per = [
                count // len(slugs) + (1 if i < count % len(slugs) else 0)
                for i in range(len(slugs))
            ]
            for slug, n in zip(slugs, per, strict=True):
                if n:
                    agents.create_agents(
                        self.fleet.sessions,
                        self.fleet.personas,
                        agents.NewAgents(slug, n, interval=ONCE),
                        fleet_seed=1,
                        now=now,
                    )
            self.registered += count
        with self.fleet.engine.begin() as connection:
            connection.execute(
                text(
                    "UPDATE agents SET status = 'active', next_tick_at = :later "
                    "WHERE status = 'created'"
                ),
                {"later": now + timedelta(days=1)},
            )
        with psycopg.connect(self.url.replace("+psycopg", ""), autocommit=True) as raw:
            raw.execute("VACUUM ANALYZE agents")
        if not self.burst_ids:
            with self.fleet.sessions() as session:
                first = list(
                    session.scalars(select(Agent.id).order_by(Agent.id).limit(2 * self.args.agents))
                )
            self.burst_ids, self.warm_ids = first[: self.args.agents], first[self.args.agents :]
            # Their gallery accounts, as ``fleet agents start`` makes them: a burst measures
            # agents at work, not each one's first action creating its account.
            gallery = HttpGallery(GallerySettings(url=self.gallery_url, token=TOKEN))
            try:
                made = provision_accounts(
                    self.fleet.sessions, gallery, self.burst_ids + self.warm_ids
                )
            finally:
                gallery.close()
            if made.failed:
                handle, reason = next(iter(made.failed.items()))
                raise SystemExit(f"bench: {len(made.failed)} accounts not made, {handle}: {reason}")

    def burst(self, parties: dict[str, int], ids: list[int] | None = None) -> dict[str, Any]:
        """Make the burst (of ``ids``, or the burst's agents) due at the next whole second;
        measure until every action ended, and the CPU seconds each of ``parties`` (and
        Postgres, Redis) spent meanwhile."""
        ids = ids or self.burst_ids
        before = cpu.snapshot(parties, self.name)
        due = math.ceil(time.time()) + 1
        due_at = datetime.fromtimestamp(due, UTC)
        with self.fleet.engine.begin() as connection:
            connection.execute(
                text("UPDATE agents SET next_tick_at = :due WHERE id = ANY(:ids)"),
                {"due": due_at, "ids": ids},
            )
        size = len(ids)

        def ended() -> bool:
            with self.fleet.sessions() as session:
                done = session.scalar(
                    select(func.count())
                    .select_from(AgentActivity)
                    .where(AgentActivity.due_at == due_at, AgentActivity.status != "pending")
                )
            return done == size

        _wait(ended, BURST_TIMEOUT, f"a burst of {size} actions to end")
        with self.fleet.sessions() as session:
            rows = session.execute(
                select(
                    AgentActivity.action,
                    AgentActivity.status,
                    AgentActivity.created_at,
                    AgentActivity.finished_at,
                    AgentActivity.error,
                ).where(AgentActivity.due_at == due_at)
            ).all()
        last = max(row.finished_at for row in rows)
        seconds = (last - due_at).total_seconds()
        decided = [(row.created_at - due_at).total_seconds() for row in rows]
        effect = [(row.finished_at - due_at).total_seconds() for row in rows]
        kinds = Counter(row.action for row in rows)
        return {
            "actions": size,
            "seconds": round(seconds, 2),
            "actions_per_second": round(size / seconds, 1),
            "by_kind_per_second": {k: round(n / seconds, 1) for k, n in sorted(kinds.items())},
            "outcomes": dict(Counter(row.status for row in rows)),
            # Why the skipped ones were: a burst's pace depends on how many of its actions
            # end early (nothing to like, a draft refused), not on the workers alone.
            "skipped_by_reason": _skip_reasons(rows),
            "dispatch_lag_p50_s": round(statistics.median(decided), 3),
            "dispatch_lag_p99_s": round(_percentile(decided, 0.99), 3),
            "tick_to_effect_p50_s": round(statistics.median(effect), 3),
            "tick_to_effect_p99_s": round(_percentile(effect, 0.99), 3),
            # Per kind: the cheap kinds' latency is not the LLM-bound kinds'; and the part
            # of it after the decision (the action's queue and its carrying out).
            "tick_to_effect_by_kind": _by_kind(rows, lambda r: r.finished_at - due_at),
            "decided_to_effect_by_kind": _by_kind(rows, lambda r: r.finished_at - r.created_at),
            "cpu_s_by_party": {
                k: round(v - before.get(k, 0.0), 2)
                for k, v in cpu.snapshot(parties, self.name).items()
            },
        }

    def pipeline(self, count: int, concurrency: int) -> tuple[dict[str, Any], int]:
        """One burst on fresh worker processes; (figures, their RSS in KiB)."""
        specs = self.layout(count, concurrency)
        early, self.early = self.early, []
        started = self.workers("fleet.worker", specs, early or None)
        parties = {"sandbox": self.sandbox_pid, "bench": os.getpid()}
        parties |= {
            f"worker {q.split(',')[0]} {n}": p.pid
            for n, ((q, _, _), p) in enumerate(zip(specs, started, strict=True))
        }
        if self.args.warm_up and self.warm_ids:
            # Fresh workers' first actions import, connect and compile in every child
            # process: a cold start, not the pace of the workers production runs.
            self.burst(parties, self.warm_ids)
        figures = self.burst(parties)
        rss = sum(_rss_kib(p.pid) + sum(_rss_kib(c) for c in _children(p.pid)) for p in started)
        memory = _pool_memory(specs, started)
        for process in started:
            process.terminate()
        for process in started:
            self.stop(process)
        content_s = sum(
            spent for party, spent in figures["cpu_s_by_party"].items() if " content " in party
        )
        figures |= {
            "content_layout": self.content.label,
            # The content workers' CPU seconds per second of the burst: more than 1.0 is
            # more than one core's worth (their CPU spread over cores).
            "content_cpu_s": round(content_s, 2),
            "content_cores_used": round(content_s / max(figures["seconds"], 1e-9), 2),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "layout": self.args.layout,
            "workers": [f"-Q {q} -P {p} -c {c}" for q, p, c in specs],
            "concurrency": concurrency,
            "memory_mib": memory,
        }
        return figures, rss

    def ceiling(self) -> dict[str, Any]:
        """No-op tasks consumed per second by the same worker settings."""
        noop = _noop_app(self.env)
        client = redis.Redis.from_url(REDIS)
        queue = f"{self.prefix}noop:noop"
        with noop.producer_or_acquire() as producer:
            for _ in range(NOOPS):
                noop.send_task("bench.noop", queue="noop", producer=producer)
        _wait(lambda: int(client.llen(queue)) == NOOPS, 30, "the no-op queue to fill")
        # The engage worker's settings (all queues' worker's, in the single layout).
        pool = self.args.pool or ("threads" if self.args.layout == "single" else "prefork")
        started = self.workers("bench.noop", [("noop", pool, self.args.concurrency)])
        _wait(lambda: int(client.llen(queue)) < NOOPS, 30, "the no-op worker to start")
        began = time.perf_counter()
        _wait(
            lambda: (
                int(client.llen(queue)) == 0 and int(client.hlen(f"{self.prefix}noop:unacked")) == 0
            ),
            120,
            "the no-op queue to drain",
        )
        seconds = time.perf_counter() - began
        client.close()
        for process in started:
            self.stop(process)
        return {"tasks": NOOPS, "tasks_per_second": round(NOOPS / seconds, 1)}


def _noop_app(env: dict[str, str]) -> Celery:
    app = Celery("bench-noop", broker=env["BENCH_NOOP_BROKER"])
    app.conf.broker_transport_options = {"global_keyprefix": env["BENCH_NOOP_PREFIX"]}
    app.conf.task_serializer = "json"
    return app
