"""The live half of ``bench.capacity``: how many actions a second the stack carries with one
and two worker processes, and with one and two namespaced worker hosts, and the queue
latency at a steady rate below it.

One stack for every configuration: a private Postgres and Redis (``bench.capacity_hosts``,
on ``10.231.0.1``), the sandbox gallery in a process of its own on that address, the
offline writer, beat and the ticks' worker (``-P solo``) in this machine's namespace. What
changes is the actions' workers (``-Q content,engage -P prefork -c <concurrency>``, as
compose's engage worker): ``workers`` runs N of them here, worker i pinned to CPU i with
``taskset`` (its pool's children inherit it); ``hosts`` runs N in network namespaces,
host i's worker in namespace i, pinned to CPU i, reaching Postgres, Redis and the gallery
over its veth pair. Beat, the ticks' worker, the servers and the gallery are not pinned:
on a two-core machine they share the cores with the workers, as they would share a
database host's.

Per configuration, on fresh workers: a warm-up burst (other agents), then

- ``burst``: ``--agents`` agents due at one second, as ``bench.pipeline``: actions/s =
  burst / (last end - due); its mix of kinds is the dispatcher's own at that hour;
- ``steady``: agents due one after another at ``--steady-share`` of the burst's rate for
  ``--window`` seconds; queue latency (due -> ended) p50/p95/max.

The steady rate keeps up when its p95 is under ``--latency-target`` (60 s).
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import and_, func, select, text

from bench import cpu
from bench.capacity_hosts import Hosts, private_servers, server_address
from bench.pipeline_stack import ROOT, Bench
from bench.pipeline_util import _free_port, _percentile, _wait
from bench.sandbox import TOKEN, _listening
from fleet.db import migrate
from fleet.db.models import AgentActivity
from fleet.gallery.client import HttpGallery
from fleet.service.accounts import provision_accounts
from fleet.service.root import bootstrap
from fleet.settings import GallerySettings, Settings
from fleet.worker.app import create_app


class LiveBench(Bench):
    """``bench.pipeline``'s stack on private servers reachable from the namespaces."""

    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__(args)
        self.prefix = f"fleet-capacity-{uuid.uuid4().hex[:6]}:"
        self.logs = Path(tempfile.mkdtemp(prefix="fleet-bench-capacity-"))
        self.placed: dict[str, list[str]] = {}  # worker name -> command prefix
        # The fleet's processes every configuration shares (the ticks' worker, beat): pids.
        self.shared: dict[str, int] = {}

    @contextmanager
    def running(self) -> Iterator[LiveBench]:
        with server_address() as address, private_servers(address) as (admin, redis_url):
            self.admin, self.redis_url = admin, redis_url
            with psycopg.connect(admin, autocommit=True) as connection:
                connection.execute(f'CREATE DATABASE "{self.name}"')
            self.url = admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
            self.url += f"/{self.name}"
            port = _free_port()
            sandbox = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "from fleet.cli import main; main()",
                    "sandbox",
                    "serve",
                    f"--host={address}",
                    f"--port={port}",
                    f"--database={self.logs / 'sandbox.db'}",
                    "--no-access-log",
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                env=os.environ | {"FLEET_GALLERY__TOKEN": TOKEN},
            )
            self.sandbox_pid = sandbox.pid
            self.gallery_url = f"http://{address}:{port}"
            self.address = address
            try:
                self.settings = Settings(
                    database_url=self.url,
                    broker_url=redis_url,
                    redis_url=redis_url,
                    broker_key_prefix=self.prefix,
                    seed=1,
                )
                self.fleet = bootstrap(self.settings)
                migrate.upgrade(self.fleet.engine)
                self.app = create_app(self.settings)
                _listening(sandbox)
                yield self
            finally:
                for process in reversed(self.processes):
                    self.stop(process)
                sandbox.terminate()
                sandbox.wait(timeout=15)
                if hasattr(self, "fleet"):
                    self.fleet.close()

    @property
    def env(self) -> dict[str, str]:
        return {
            **{
                k: v
                for k, v in os.environ.items()
                if not k.startswith("FLEET_") and k not in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY")
            },
            "FLEET_DATABASE_URL": self.url,
            "FLEET_BROKER_URL": self.redis_url,
            "FLEET_REDIS_URL": self.redis_url,
            "FLEET_BROKER_KEY_PREFIX": self.prefix,
            "FLEET_SEED": "1",
            "FLEET_GALLERY__URL": self.gallery_url,
            "FLEET_GALLERY__TOKEN": TOKEN,
            # The sandbox is on the run's own address, not 127.0.0.1: the fleet then asks
            # who runs it (docs/disclosure.md).
            "FLEET_DISCLOSURE__OPERATOR_NAME": "Fleet capacity bench",
            "FLEET_DISCLOSURE__OPERATOR_URL": f"{self.gallery_url}/about/agents",
            "FLEET_ACTIONS__GALLERY_REQUESTS_PER_SECOND": "100000",
            "FLEET_ACTIONS__BOT_ENGAGEMENTS_PER_POST_PER_HOUR": "100000",
            "FLEET_ACTIONS__BREAKER_THRESHOLD": "1000",
            "FLEET_TASKS__ACTION_BATCH_SIZE": str(self.batch_size),
            "FLEET_TASKS__TICK_BATCH_SIZE": str(self.args.tick_batch_size),
        }

    def spawn(self, name: str, *args: str, nice: int = 0) -> subprocess.Popen[bytes]:
        placed = next((p for key, p in self.placed.items() if key in name), [])
        with (self.logs / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(
                [*placed, sys.executable, "-m", "celery", *args],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.processes.append(process)
        return process

    def provision(self, ids: list[int]) -> None:
        gallery = HttpGallery(GallerySettings(url=self.gallery_url, token=TOKEN))
        try:
            made = provision_accounts(self.fleet.sessions, gallery, ids)
        finally:
            gallery.close()
        if made.failed:
            raise SystemExit(f"capacity: {len(made.failed)} gallery accounts not made")

    def steady(self, ids: list[int], rate: float) -> dict[str, Any]:
        """``ids`` due one after another at ``rate`` a second from two seconds on; each
        action's latency from its due time to its end."""
        start = datetime.fromtimestamp(math.ceil(time.time()) + 2, UTC)
        dues = [start + timedelta(seconds=i / rate) for i in range(len(ids))]
        with self.fleet.engine.begin() as connection:
            connection.execute(
                text(
                    "UPDATE agents SET next_tick_at = v.due FROM "
                    "(SELECT unnest(CAST(:ids AS integer[])) AS id, "
                    "unnest(CAST(:dues AS timestamptz[])) AS due) v WHERE agents.id = v.id"
                ),
                {"ids": ids, "dues": dues},
            )
        window = (
            AgentActivity.agent_id.in_(ids),
            AgentActivity.due_at >= start,
            AgentActivity.due_at <= dues[-1],
        )

        def ended() -> bool:
            with self.fleet.sessions() as session:
                done = session.scalar(
                    select(func.count())
                    .select_from(AgentActivity)
                    .where(and_(*window), AgentActivity.status != "pending")
                )
            return done == len(ids)

        _wait(ended, len(ids) / rate + self.args.drain_seconds, "the steady run to end")
        with self.fleet.sessions() as session:
            rows = session.execute(
                select(AgentActivity.action, AgentActivity.status, AgentActivity.due_at)
                .add_columns(AgentActivity.finished_at)
                .where(and_(*window))
            ).all()
        waits = [(r.finished_at - r.due_at).total_seconds() for r in rows]
        return {
            "rate_per_s": round(rate, 2),
            "actions": len(rows),
            "seconds": round(len(ids) / rate, 1),
            "kinds": dict(Counter(r.action for r in rows)),
            "outcomes": dict(Counter(r.status for r in rows)),
            "latency_p50_s": round(statistics.median(waits), 2),
            "latency_p95_s": round(_percentile(waits, 0.95), 2),
            "latency_max_s": round(max(waits), 2),
        }


def configuration(
    bench: LiveBench, hosts: Hosts | None, count: int, steady_ids: list[int]
) -> dict[str, Any]:
    """One configuration's burst and steady run on fresh action workers."""
    cpus = os.cpu_count() or 1
    bench.placed = {}
    tag = uuid.uuid4().hex[:4]
    specs = []
    names = []
    for n in range(count):
        name = f"actions{n}-{tag}"
        where = hosts.prefix(n + 1) if hosts is not None else []
        bench.placed[name] = [*where, "taskset", "-c", str(n % cpus)]
        specs.append(name)
        names.append(name)
    started = []
    for name in names:
        node = f"{name}@%h"
        process = bench.spawn(
            name,
            *("-A", "fleet.worker", "worker", "-Q", "content,engage", "-P", "prefork"),
            *("-c", str(bench.args.concurrency), "-n", node),
            *("--without-mingle", "--without-gossip", "--loglevel", "WARNING"),
        )
        started.append((process, node.replace("%h", os.uname().nodename)))
    for _, full in started:  # a loaded machine takes a while to start a prefork pool
        _wait(
            lambda f=full: bool(bench.app.control.ping(destination=[f], timeout=1.0)),  # type: ignore[misc]
            240,
            f"worker {full}",
        )
    workers = [process for process, _ in started]
    parties = {"sandbox": bench.sandbox_pid, "bench": os.getpid(), **bench.shared}
    parties |= {f"worker {n}": p.pid for n, p in enumerate(workers)}
    bench.burst(parties, bench.warm_ids)
    busy, total = cpu.machine()
    burst = bench.burst(parties)
    busy, total = cpu.machine()[0] - busy, cpu.machine()[1] - total
    rate = burst["actions_per_second"] * bench.args.steady_share
    wanted = min(len(steady_ids), max(10, math.ceil(rate * bench.args.window)))
    steady = bench.steady(steady_ids[:wanted], rate)
    for process in workers:
        bench.stop(process)
    load = os.getloadavg()
    return {
        "workers": count,
        "namespaced_hosts": hosts is not None,
        "placement": {name: " ".join(p) for name, p in bench.placed.items()},
        "burst": {
            k: burst[k]
            for k in ("actions", "seconds", "actions_per_second", "outcomes", "dispatch_lag_p99_s")
        }
        | {"by_kind_per_second": burst["by_kind_per_second"]},
        "burst_cpu": burst_cpu(burst, busy, total),
        "steady": steady,
        "load_average_after": [round(v, 2) for v in load],
    }


def burst_cpu(burst: dict[str, Any], busy: float, total: float) -> dict[str, Any]:
    """Where the burst's CPU went: seconds per party (each worker; the ticks' worker; beat;
    the sandbox gallery; Postgres's backends of the run; every redis-server; ``bench``,
    this process measuring, which no fleet has), the machine's busy share of its cores
    over the burst, and what the rest of the machine (other work than this run's) took
    meanwhile. ``rest_cpu_ms_per_action`` is what one action cost outside its worker,
    the measuring left out.

    ``fleet_cores_busy`` is the run's CPU seconds over the burst's seconds: how many
    cores the run used at once. ``others_cores_busy``, the cores other work on the machine
    used meanwhile. When ``machine_busy_share`` is near 1 the burst was CPU-bound: two
    workers can only carry more than one if the servers leave them the cores.
    """
    parties = {k: v for k, v in burst["cpu_s_by_party"].items() if k != "postgres_all"}
    spent = sum(v for k, v in parties.items() if k != "bench")
    cores = os.cpu_count() or 1
    workers = sum(v for k, v in parties.items() if k.startswith("worker"))
    return {
        "cpu_s_by_party": parties,
        "cpu_ms_per_action": round(1000 * spent / burst["actions"], 1),
        "worker_cpu_ms_per_action": round(1000 * workers / burst["actions"], 1),
        "rest_cpu_ms_per_action": round(1000 * (spent - workers) / burst["actions"], 1),
        "fleet_cores_busy": round(spent / (total / cores), 2) if total else None,
        "machine_busy_share": round(busy / total, 2) if total else None,
        "others_cores_busy": (
            round(max(0.0, busy - spent - parties.get("bench", 0.0)) / total * cores, 2)
            if total
            else None
        ),
    }
