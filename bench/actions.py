"""Benchmark: actions per second through the whole path, and the no-op ceiling.

On the local Postgres and Redis, with the sandbox gallery in a process of its own (the
gallery is another service) on an in-memory database: a real Celery worker (a
subprocess, offline writer) carries out pre-decided actions of one kind at a time, and
the time until every one is terminal gives actions per second per kind. In the same run
the same worker, with the same settings, consumes ``fleet.noop`` tasks: the ceiling.

Both are measured the same way: the worker stops consuming the queue, the messages are
published, then it consumes again and the clock runs from its first message taken until
the last is done. So the benchmark's own publishing does not compete with the worker for
the CPU, nor does the control broadcast that resumes consuming count as its work.

The worker runs as compose runs the engage worker: prefork, two processes per core.

Actions are bound by the CPU of the whole machine (worker, gallery, Postgres and Redis
share it), the ceiling by the worker's main process alone, so ``cores_for_half_ceiling``
tells how many cores the actions would need to run at half the ceiling. To see the
scaling, run it once on one core (``taskset -c 0``, with Postgres and Redis moved to
core 0 by ``taskset -a -p 0x1 PID``) and once on all of them.

The batchable kinds (like, browse) are measured twice: one message per action, and in
batch messages of ``--batch-size`` keys (``fleet.engage_batch``), as the tick sends them.
A burst of ``--burst`` likes, sent at once to the consuming worker, gives the send-to-effect
latency p50/p99 both ways.

    python -m bench.actions [--count 600] [--pool prefork] [--concurrency 2 x cores]
        [--kinds like,browse] [--batch-size 50] [--burst 300] [--noop-runs 3]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import redis
from celery import Celery
from sqlalchemy import func, select, update

from bench import cpu, forget_keys, scratch_database
from fleet import activities, agents
from fleet.agents import Selection
from fleet.core.kinds import ActionKey, kind_of
from fleet.db import migrate
from fleet.db.models import Agent, AgentActivity
from fleet.gallery.client import HttpGallery
from fleet.infra.queue import send_actions
from fleet.service.accounts import provision_accounts
from fleet.service.root import bootstrap
from fleet.settings import Settings
from fleet.worker.app import create_app

ADMIN = os.environ.get("FLEET_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("FLEET_BENCH_REDIS", "redis://127.0.0.1:6379/0")
TOKEN = "bench-token"
ROOT = Path(__file__).resolve().parents[1]
FLEET = Path(sys.executable).with_name("fleet")


def _wait(condition: Callable[[], bool], timeout: float, every: float = 0.01) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("bench: timed out")
        time.sleep(every)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _sandbox(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            str(FLEET),
            "sandbox",
            "serve",
            "--port",
            str(port),
            "--database",
            ":memory:",
            "--no-access-log",
        ],
        env={**os.environ, "FLEET_GALLERY__TOKEN": TOKEN},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    return process


def _until_listening(process: subprocess.Popen[bytes], port: int) -> None:
    def listening() -> bool:
        if process.poll() is not None:
            raise SystemExit("bench: the sandbox did not start")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        except OSError:
            return False
        return True

    _wait(listening, 30)


def _timed(
    app: Celery,
    worker: str,
    queue: str,
    send: Callable[[], None],
    done: Callable[[], bool],
    parties: dict[str, int],
    items: int,
    database: str | None,
    queued: Callable[[], int],
    last_end: Callable[[], float] | None = None,
    every: float = 0.05,
) -> tuple[float, dict[str, float]]:
    """Seconds the worker takes to drain what ``send`` queued, publishing excluded, and
    the CPU milliseconds per item each party spent meanwhile. With ``last_end`` (the
    epoch second the last item ended, as recorded), the phase ends then, not when a poll
    noticed it: a poll's delay would weigh on a phase of a second."""
    app.control.cancel_consumer(queue, destination=[worker], reply=True)
    # A fetch the worker had already begun still takes the next message on the queue: let
    # it take a no-op, not one of the phase's (which it would carry out before the clock).
    app.send_task("fleet.noop", queue=queue)
    time.sleep(0.2)
    send()
    waiting = queued()
    before = cpu.snapshot(parties, database)
    began = time.perf_counter()
    app.control.add_consumer(queue, destination=[worker], reply=True)
    # The clock starts when the worker takes its first message: the broadcast that tells
    # it to consume again (a round trip through the broker, up to a few hundred ms on a
    # busy machine) is not its pace, and would weigh on a phase of a dozen batch messages
    # far more than on one of thousands of no-ops. The queue's length (Redis) is read
    # every 2 ms; ``done`` (for actions a count in Postgres, whose CPU this phase's figures
    # count) only every 25th time, not at each poll until the worker takes a message.
    polls = itertools.count(1)
    _wait(lambda: queued() < waiting or (next(polls) % 25 == 0 and done()), 60, every=0.002)
    began, began_epoch = time.perf_counter(), time.time()
    # Polled every 50 ms by default: often enough for seconds-long phases, rarely enough
    # not to take the CPU from what is measured.
    _wait(done, 600, every=every)
    seconds = time.perf_counter() - began
    spent = cpu.per_item_ms(before, cpu.snapshot(parties, database), items)
    if last_end is not None:
        seconds = last_end() - began_epoch
    return seconds, spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=600, help="actions per kind")
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--posts", type=int, default=100, help="posts on the gallery beforehand")
    parser.add_argument(
        "--warmup",
        type=int,
        default=50,
        help="unmeasured actions of each kind first (two messages per pool process at least)",
    )
    parser.add_argument(
        "--noops",
        type=int,
        help="no-op tasks per ceiling run (default: 8 per action, 5,000 at least)",
    )
    parser.add_argument(
        "--noop-runs", type=int, default=3, help="ceiling runs, the best one kept (default 3)"
    )
    parser.add_argument("--pool", default="prefork", choices=["prefork", "threads", "solo"])
    parser.add_argument("--concurrency", type=int, default=2 * (os.cpu_count() or 1))
    parser.add_argument(
        "--kinds", default="post,like,comment,browse", help="comma-separated actions to measure"
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=50,
        help="keys per batch message for the batchable kinds (like, browse)",
    )
    parser.add_argument(
        "--modes",
        default="one,batch",
        help="one message per action (one), batch messages (batch), or both",
    )
    parser.add_argument(
        "--burst", type=int, default=300, help="likes in the latency burst (0: no burst)"
    )
    args = parser.parse_args()

    name = scratch_database()
    prefix = f"fleet-bench-{uuid.uuid4().hex[:8]}:"
    worker_name = f"bench-{os.getpid()}@{socket.gethostname()}"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + "/" + name
    out: dict[str, object] = {
        "benchmark": "actions",
        "pool": args.pool,
        "concurrency": args.concurrency,
        "per_kind": args.count,
        "warmup_per_kind": args.warmup,
    }
    port = _free_port()
    gallery = f"http://127.0.0.1:{port}"
    sandbox = _sandbox(port)
    worker: subprocess.Popen[bytes] | None = None
    settings = Settings(
        database_url=url,
        broker_url=REDIS,
        redis_url=REDIS,
        broker_key_prefix=prefix,
        seed=1,
        gallery={"url": gallery, "token": TOKEN},
    )
    fleet = bootstrap(settings)
    app = create_app(settings)
    client = redis.Redis.from_url(REDIS)
    env = {
        **os.environ,
        "FLEET_DATABASE_URL": url,
        "FLEET_BROKER_URL": REDIS,
        "FLEET_REDIS_URL": REDIS,
        "FLEET_BROKER_KEY_PREFIX": prefix,
        "FLEET_GALLERY__URL": gallery,
        "FLEET_GALLERY__TOKEN": TOKEN,
        "FLEET_ACTIONS__GALLERY_REQUESTS_PER_SECOND": "100000",
        "FLEET_ACTIONS__BOT_ENGAGEMENTS_PER_POST_PER_HOUR": "1000000",
    }
    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in the finally below)
    try:
        migrate.upgrade(fleet.engine)
        # The worker and the sandbox start while the agents are made (a few seconds each
        # on a loaded machine, the better part of a small run).
        worker = subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "-A", "fleet.worker", "worker"),
                *("-Q", "content,engage", "-P", args.pool, "-c", str(args.concurrency)),
                *("--loglevel", "WARNING", "-n", worker_name),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        now = datetime.now(UTC)
        created = agents.create_agents(
            fleet.sessions,
            fleet.personas,
            agents.NewAgents("social_media_marketer", args.agents),
            fleet_seed=1,
            now=now,
        )
        agents.change_status(
            fleet.sessions, fleet.personas, "start", Selection(everyone=True), now=now
        )
        with fleet.sessions.begin() as session:
            session.execute(update(Agent).values(next_tick_at=now + timedelta(days=1)))
        # Outside the measurement: every agent has its account, the feed has posts.
        agent_ids = list(range(created.first_id, created.first_id + args.agents))
        _until_listening(sandbox, port)
        setup = HttpGallery(settings.gallery)
        provision_accounts(fleet.sessions, setup, agent_ids)
        listed = agents.list_agents(fleet.sessions, agents.AgentFilter(limit=args.agents))
        handles = [agent.handle for agent in listed]
        for i in range(args.posts):
            setup.create_post(
                agent=handles[i % len(handles)],
                image_url=f"{gallery}/images/placeholder.png",
                title=f"Seed post {i}",
                description="A post that was there before the benchmark.",
                idempotency_key=f"bench-seed-{i}",
            )
        with log:
            _wait(lambda: bool(app.control.ping(destination=[worker_name], timeout=0.5)), 60)
            parties = {"worker": worker.pid, "sandbox": sandbox.pid, "bench": os.getpid()}
            second = int(now.timestamp())
            rates: dict[str, float] = {}
            cpu_ms: dict[str, dict[str, float]] = {}

            def decided(action: str, count: int) -> list[str]:
                """``count`` new pending actions of a kind, as a tick records them."""
                nonlocal second
                keys = []
                for i in range(count):
                    agent_id = created.first_id + i % args.agents
                    second += 1
                    key = str(ActionKey.tick(agent_id, second, action))
                    activities.create_activity(
                        fleet.sessions,
                        agent_id,
                        action,
                        datetime.fromtimestamp(second, UTC),
                        key,
                        now=now,
                        lease=timedelta(minutes=10),
                    )
                    keys.append(key)
                return keys

            def alive() -> None:
                """Stop at once, with its last words, when the worker died: a wait for
                work it will never do would only end at its deadline."""
                if worker.poll() is not None:
                    log.seek(0)
                    raise SystemExit(f"bench: the worker died:\n{log.read().decode()[-2000:]}")

            def finished() -> bool:
                alive()
                with fleet.sessions() as session:
                    left = session.scalar(
                        select(func.count())
                        .select_from(AgentActivity)
                        .where(AgentActivity.status == "pending")
                    )
                return left == 0

            def run(action: str, count: int, batch: int) -> tuple[float, dict[str, float]]:
                """Seconds the worker takes to carry out ``count`` new actions of a kind,
                sent as the tick sends them (in batch messages of up to ``batch`` keys for
                the batchable kinds), and the CPU it and the others spent meanwhile."""
                keys = decided(action, count)
                kind = kind_of(action)

                def send() -> None:
                    send_actions(app, [ActionKey.parse(key) for key in keys], batch_size=batch)

                def last_end() -> float:
                    with fleet.sessions() as session:
                        end = session.scalar(
                            select(func.max(AgentActivity.finished_at)).where(
                                AgentActivity.idempotency_key.in_(keys)
                            )
                        )
                    assert end is not None
                    return float(end.timestamp())

                return _timed(
                    app,
                    worker_name,
                    kind.queue,
                    send,
                    finished,
                    parties,
                    count,
                    name,
                    lambda: int(client.llen(f"{prefix}{kind.queue}")),
                    last_end,
                )

            # Each kind one message per action ("one"), and the batchable ones also in
            # batch messages ("batch"), in the same run with the same worker.
            kinds = args.kinds.split(",")
            modes_wanted = args.modes.split(",")
            modes = [
                (action, mode, size)
                for action in kinds
                for mode, size in (("one", 1), ("batch", args.batch_size))
                if mode in modes_wanted and (mode == "one" or kind_of(action).batchable)
            ]
            # A worker's first actions import, connect and compile: not its pace. Each
            # pool process does that once, so the warm-up sends two messages per process
            # at least (in batch mode one message would warm one process of many).
            for action, _, size in modes if args.warmup else ():
                run(action, max(args.warmup, 2 * args.concurrency * size), size)
            for action, mode, size in modes:
                label = action if mode == "one" else f"{action}_batch"
                print(f"bench: measuring {label}", file=sys.stderr, flush=True)
                seconds, cpu_ms[label] = run(action, args.count, size)
                rates[label] = round(args.count / seconds, 1)

            # Tick-to-effect of a burst of likes: the worker consuming, the burst sent as
            # the tick sends its decisions; from the send to each activity's finish.
            latency: dict[str, dict[str, float]] = {}
            bursts = [
                (m, s) for m, s in (("one", 1), ("batch", args.batch_size)) if m in modes_wanted
            ]
            for mode, size in bursts if args.burst else ():
                keys = decided("like", args.burst)
                sent = datetime.now(UTC)
                send_actions(app, [ActionKey.parse(key) for key in keys], batch_size=size)
                _wait(finished, 600, every=0.05)
                with fleet.sessions() as session:
                    ends = session.scalars(
                        select(AgentActivity.finished_at).where(
                            AgentActivity.idempotency_key.in_(keys)
                        )
                    ).all()
                waits = sorted((end - sent).total_seconds() for end in ends if end is not None)
                latency[mode] = {
                    "p50_s": round(statistics.median(waits), 3),
                    "p99_s": round(waits[min(len(waits) - 1, int(0.99 * len(waits)))], 3),
                }
            out["like_burst"] = args.burst
            out["like_send_to_effect"] = latency
            with fleet.sessions() as session:
                outcomes = dict(
                    session.execute(
                        select(AgentActivity.status, func.count()).group_by(AgentActivity.status)
                    ).all()
                )
            out["actions_per_second"] = rates
            out["outcomes"] = outcomes

            # The ceiling: the same worker consuming no-op tasks from the same broker.
            noops = args.noops or max(5000, args.count * 8)

            def send_noops() -> None:
                with app.producer_or_acquire() as producer:
                    for _ in range(noops):
                        app.send_task("fleet.noop", queue="engage", producer=producer)

            def drained() -> bool:
                # Acknowledged late: a message is done when it left the queue and the
                # hash of unacknowledged deliveries.
                alive()
                return client.llen(f"{prefix}engage") == 0 and client.hlen(f"{prefix}unacked") == 0

            # The best of three runs: a ceiling is what the worker can do, and this
            # machine's noise only ever lowers a run.
            runs = []
            for _ in range(max(1, args.noop_runs)):
                print("bench: measuring noop", file=sys.stderr, flush=True)
                seconds, cpu_ms["noop"] = _timed(
                    app,
                    worker_name,
                    "engage",
                    send_noops,
                    drained,
                    parties,
                    noops,
                    name,
                    lambda: int(client.llen(f"{prefix}engage")),
                    # No record of when a no-op ended: its end is noticed by a poll, often
                    # (two Redis lengths) so that its delay weighs a tenth of a percent.
                    every=0.01,
                )
                runs.append(noops / seconds)
            ceiling = max(runs)
            out["noop_runs_per_second"] = [round(run, 1) for run in runs]
            out["noop_ceiling_per_second"] = round(ceiling, 1)
            out["ratio_to_ceiling"] = {k: round(v / ceiling, 3) for k, v in rates.items()}
            out["cpu_ms_per_task"] = cpu_ms
            # Actions are bound by the machine's CPU, the ceiling by the worker's main
            # process (one core, however many there are): what the worker, the gallery,
            # Postgres and Redis spent per action (the benchmark's own polling left out)
            # says how many cores half the ceiling would take.
            out["cores"] = len(os.sched_getaffinity(0))
            machine = {
                kind: sum(
                    ms
                    for party, ms in cpu_ms[kind].items()
                    if party not in ("bench", "postgres_all")
                )
                for kind in rates
            }
            out["machine_cpu_ms_per_task"] = {k: round(v, 2) for k, v in machine.items()}
            out["cores_for_half_ceiling"] = {
                kind: round(ceiling / 2 * machine[kind] / 1000, 2) for kind in rates
            }
            alive()  # a death after the last wait spoils its figures too
    finally:
        # Both stop at once: their shutdowns overlap.
        for process in (worker, sandbox):
            if process is not None:
                process.terminate()
        for process in (worker, sandbox):
            if process is not None:
                process.wait(timeout=30)
        log.close()
        fleet.close()
        client.close()
        forget_keys(REDIS, prefix)
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
