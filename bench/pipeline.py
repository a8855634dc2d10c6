"""Benchmark: the whole pipeline (beat, dispatcher, ticks, actions, gallery), and its ceiling.

On the local Postgres and Redis and a sandbox gallery process: real Celery worker
processes and a real beat (the dispatcher every second). A burst of ``--agents`` agents
becomes due at one whole second; the run ends when each has decided and finished its
action. Measured from the activities in Postgres:

- actions per second, all and by kind: burst size / (last finish - the burst's due time);
- dispatch lag, p50 and p99: due time -> the action decided (the activity row written);
- tick-to-effect latency, p50 and p99: due time -> the activity finished.

Default mode also runs the ceiling: the same worker settings consuming no-op tasks of a
Celery app of their own (``bench/noop.py``, its own key prefix), and the ratio; and the
worker's memory (VmRSS of the worker processes after a burst, fresh workers each time)
with 1,000 and with 100,000 registered agents. ``--gallery-latency-ms 100`` instead runs
the burst at ``--concurrency`` and at four times it (threads), to show throughput rising
with concurrency while the gallery is slow; ``--scale`` runs one and then two worker
processes on the same queues.

Agents tick once an hour otherwise; the gallery is seeded with posts to like and answer; the gallery rate limit and the per-post engagement cap are lifted (they would
measure themselves). Uses a database and a Redis key prefix of its own, removed at the
end. JSON on stdout, a short table on stderr.

    python -m bench.pipeline [--agents 300] [--workers 1] [--pool threads] [--concurrency 4]
    python -m bench.pipeline --gallery-latency-ms 100
    python -m bench.pipeline --scale
    python -m bench.pipeline --batches [--batch-size 50]   # one message per action vs batches
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import redis
from celery import Celery
from sqlalchemy import func, select, text

from bench import scratch_database
from bench.sandbox import TOKEN
from bench.sandbox import _start as start_sandbox
from fleet import agents
from fleet.db import migrate
from fleet.db.models import Agent, AgentActivity
from fleet.service.root import Fleet, bootstrap
from fleet.settings import Settings
from workers.app import create_app

ADMIN = os.environ.get("FLEET_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("FLEET_BENCH_REDIS", "redis://127.0.0.1:6379/0")
ROOT = Path(__file__).resolve().parents[1]
ONCE = (3600.0, 7200.0)  # agents tick once in a run
SEED_POSTS = 40
NOOPS = 3000
BURST_TIMEOUT = 150.0


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"bench: timed out waiting for {what}")
        time.sleep(0.02)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def _rss_kib(pid: int) -> int:
    """VmRSS of one process, in KiB (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(child) for child in found]


class Bench:
    """The database, Redis prefix, sandbox and processes of one benchmark run."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.name = scratch_database()
        self.prefix = f"fleet-bench-{uuid.uuid4().hex[:8]}:"
        self.logs = Path(tempfile.mkdtemp(prefix="fleet-bench-pipeline-"))
        self.processes: list[subprocess.Popen[bytes]] = []
        self.burst_ids: list[int] = []
        self.registered = 0
        self.batch_size: int = args.batch_size

    @contextmanager
    def running(self) -> Iterator[Bench]:
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{self.name}"')
        url = ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
        self.url = f"{url}/{self.name}"
        sandbox, self.gallery_url = start_sandbox(str(self.logs / "sandbox.db"))
        try:
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
            client = redis.Redis.from_url(REDIS)
            keys = list(client.scan_iter(match=f"{self.prefix}*", count=1000))
            if keys:
                client.delete(*keys)
            client.close()
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
            "BENCH_NOOP_BROKER": REDIS,
            "BENCH_NOOP_PREFIX": f"{self.prefix}noop:",
        }

    def spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        with (self.logs / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "celery", *args],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
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

    def workers(
        self, app: str, queues: str, count: int, concurrency: int
    ) -> list[subprocess.Popen[bytes]]:
        """``count`` worker processes of ``app``, each answering a ping before this returns."""
        tag = uuid.uuid4().hex[:6]
        started = []
        for n in range(count):
            node = f"{app.replace('.', '-')}{n}-{tag}@%h"
            process = self.spawn(
                f"{app}-{n}-{tag}",
                "-A",
                app,
                "worker",
                "-Q",
                queues,
                "-P",
                self.args.pool,
                "-c",
                str(concurrency),
                "-n",
                node,
                "--without-mingle",
                "--without-gossip",
                "--loglevel",
                "WARNING",
            )
            celery = self.app if app == "workers" else _noop_app(self.env)
            full = node.replace("%h", os.uname().nodename)
            _wait(
                lambda c=celery, f=full: bool(c.control.ping(destination=[f], timeout=0.5)),  # type: ignore[misc]
                60,
                f"worker {full}",
            )
            started.append(process)
        return started

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
                        persona=slug,
                        count=n,
                        fleet_seed=1,
                        now=now,
                        interval=ONCE,
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
                self.burst_ids = list(
                    session.scalars(select(Agent.id).order_by(Agent.id).limit(self.args.agents))
                )

    def burst(self) -> dict[str, Any]:
        """Make the burst due at the next whole second; measure until every action ended."""
        due = math.ceil(time.time()) + 1
        due_at = datetime.fromtimestamp(due, UTC)
        with self.fleet.engine.begin() as connection:
            connection.execute(
                text("UPDATE agents SET next_tick_at = :due WHERE id = ANY(:ids)"),
                {"due": due_at, "ids": self.burst_ids},
            )
        size = len(self.burst_ids)

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
            "dispatch_lag_p50_s": round(statistics.median(decided), 3),
            "dispatch_lag_p99_s": round(_percentile(decided, 0.99), 3),
            "tick_to_effect_p50_s": round(statistics.median(effect), 3),
            "tick_to_effect_p99_s": round(_percentile(effect, 0.99), 3),
            # Per kind: the cheap kinds' latency is not the LLM-bound kinds'.
            "tick_to_effect_by_kind": {
                kind: {
                    "p50_s": round(statistics.median(waits), 3),
                    "p99_s": round(_percentile(waits, 0.99), 3),
                }
                for kind in sorted(kinds)
                if (
                    waits := [
                        (row.finished_at - due_at).total_seconds()
                        for row in rows
                        if row.action == kind
                    ]
                )
            },
        }

    def pipeline(self, count: int, concurrency: int) -> tuple[dict[str, Any], int]:
        """One burst on ``count`` fresh worker processes; (figures, their RSS in KiB)."""
        started = self.workers("workers", "ticks,content,engage,dead_letter", count, concurrency)
        figures = self.burst()
        rss = sum(_rss_kib(p.pid) + sum(_rss_kib(c) for c in _children(p.pid)) for p in started)
        for process in started:
            self.stop(process)
        figures |= {"workers": count, "pool": self.args.pool, "concurrency": concurrency}
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
        started = self.workers("bench.noop", "noop", self.args.workers, self.args.concurrency)
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


def _table(out: dict[str, Any]) -> None:
    lines = []
    for run in out["runs"]:
        lines.append(
            f"{run['label']:<26} {run['actions_per_second']:>7.1f} actions/s  "
            f"lag p50/p99 {run['dispatch_lag_p50_s']:.2f}/{run['dispatch_lag_p99_s']:.2f} s  "
            f"effect p50/p99 {run['tick_to_effect_p50_s']:.2f}/{run['tick_to_effect_p99_s']:.2f} s"
        )
        like = run.get("tick_to_effect_by_kind", {}).get("like")
        if like:
            lines.append(f"{'':<26} like effect p50/p99 {like['p50_s']:.2f}/{like['p99_s']:.2f} s")
    if "ceiling" in out:
        lines.append(
            f"{'no-op ceiling':<26} {out['ceiling']['tasks_per_second']:>7.1f} tasks/s    "
            f"pipeline/ceiling {out['ratio']}"
        )
    for registered, mib in out.get("worker_rss_mib", {}).items():
        lines.append(f"{'worker RSS, ' + registered + ' agents':<26} {mib:>7.1f} MiB")
    print("\n".join(lines), file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=300, help="agents in a burst")
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    parser.add_argument("--pool", default="threads", choices=["threads", "prefork", "solo"])
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--gallery-latency-ms", type=float, default=0.0, dest="latency")
    parser.add_argument("--scale", action="store_true", help="one, then two worker processes")
    parser.add_argument(
        "--batch-size", type=int, default=50, help="keys per batch message of likes and browses"
    )
    parser.add_argument(
        "--batches",
        action="store_true",
        help="the burst one message per action, then in batches, then the ceiling",
    )
    args = parser.parse_args()
    if args.latency and args.pool == "solo":
        parser.error("--gallery-latency-ms compares concurrencies: use --pool threads or prefork")

    bench = Bench(args)
    out: dict[str, Any] = {
        "benchmark": "pipeline",
        "machine_cores": os.cpu_count(),
        "agents_in_burst": args.agents,
        "pool": args.pool,
        "gallery_latency_ms": args.latency,
        "runs": [],
    }
    with bench.running():
        bench.seed()
        bench.register(max(1000, args.agents))
        if args.latency:
            headers = {"Authorization": f"Bearer {TOKEN}"}
            httpx.put(
                f"{bench.gallery_url}/admin/faults",
                json={"latencyMs": args.latency},
                headers=headers,
                timeout=10,
            ).raise_for_status()
        beat = bench.spawn(
            "beat", "-A", "workers", "beat", "--schedule", str(bench.logs / "beat-schedule")
        )
        if args.latency:
            for concurrency in (args.concurrency, args.concurrency * 4):
                figures, _ = bench.pipeline(args.workers, concurrency)
                out["runs"].append({"label": f"c={concurrency}"} | figures)
        elif args.batches:
            for size in (1, args.batch_size):
                bench.batch_size = size
                figures, _ = bench.pipeline(args.workers, args.concurrency)
                out["runs"].append({"label": f"batch size {size}"} | figures)
            out["ceiling"] = bench.ceiling()
            out["ratio"] = {
                run["label"]: round(
                    run["actions_per_second"] / out["ceiling"]["tasks_per_second"], 3
                )
                for run in out["runs"]
            }
        elif args.scale:
            for count in (1, 2):
                figures, _ = bench.pipeline(count, args.concurrency)
                out["runs"].append({"label": f"{count} worker process(es)"} | figures)
        else:
            figures, rss_small = bench.pipeline(args.workers, args.concurrency)
            out["runs"].append({"label": f"{bench.registered:,} registered"} | figures)
            out["ceiling"] = bench.ceiling()
            out["ratio"] = round(
                figures["actions_per_second"] / out["ceiling"]["tasks_per_second"], 3
            )
            bench.register(100_000)
            figures, rss_large = bench.pipeline(args.workers, args.concurrency)
            out["runs"].append({"label": f"{bench.registered:,} registered"} | figures)
            out["worker_rss_mib"] = {
                f"{max(1000, args.agents):,}": round(rss_small / 1024, 1),
                f"{bench.registered:,}": round(rss_large / 1024, 1),
            }
        bench.stop(beat)
    print(json.dumps(out, indent=2))
    _table(out)


if __name__ == "__main__":
    main()
