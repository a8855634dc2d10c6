"""A running fleet to break: real worker and beat processes, the sandbox, agents on a 2-4 s rhythm.

``rig`` starts a worker, starts the agents, then beat (the real dispatcher every second
and the lease sweeper); a scenario lets it run while it breaks something, then drains:
beat stops, the faults are lifted, and the real ``fleet.sweep_leases`` task is sent every
second until no activity is pending and no worker holds a message. Then the books are
read from Postgres and the gallery, written to ``artifacts/chaos/<scenario>.json`` as one
JSON line, printed, and checked.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from kombu.exceptions import OperationalError as BrokerError
from pydantic import SecretStr
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import OperationalError

from fleet import activities
from fleet.actions import perform
from fleet.core.kinds import KINDS, Action, ActionKey
from fleet.db import migrate
from fleet.db.engine import build_engine
from fleet.db.models import Agent, AgentActivity, DeadLetter, Engagement
from fleet.gallery.client import HttpGallery
from fleet.infra.queue import broker_queue_depths
from fleet.service.reconcile import Reconciliation, reconcile, repair
from fleet.service.root import Fleet, bootstrap
from fleet.settings import Settings
from fleet.worker.app import create_app
from fleet_sandbox.config import SandboxConfig
from fleet_sandbox.server import BackgroundSandbox
from tests.conftest import active_agents
from tests.e2e.conftest import REDIS_URL, ROOT, Processes, wait_for
from tests.e2e.conftest import redis_prefix as redis_prefix
from tests.gallery.conftest import Admin, clean_admin
from tests.servers import PrivatePostgres, PrivateRabbitMQ, PrivateRedis

TOKEN = "svc-chaos-token-5d2e9b"
PERSONAS = ROOT / "tests" / "e2e" / "personas"
PERSONA = "steady_ticker"  # multiplier 1 around the clock: the rhythm is the interval alone
AGENTS = 24
INTERVAL = (2.0, 4.0)
LEASE = 5
RUN_SECONDS = 18.0
# What a run must have decided for its books to say anything (two actions an agent), and how
# long past its scheduled end a run may go on to get there while beat still publishes.
ENOUGH_DECIDED = 2 * AGENTS
ENOUGH_SECONDS = 60.0
# The drain's deadline only bounds a stuck run: it ends as soon as the fleet is quiet
# (under 10 s on a quiet machine; 30-40 s measured on two cores at load 8-12).
DRAIN_SECONDS = 180.0
ARTIFACTS = ROOT / "artifacts" / "chaos"
EFFECTS = {"post": "posts", "like": "likes", "comment": "comments"}


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[BackgroundSandbox]:
    with BackgroundSandbox(SandboxConfig(service_token=SecretStr(TOKEN), seed=13)) as server:
        yield server


@pytest.fixture
def admin(sandbox_server: BackgroundSandbox) -> Iterator[Admin]:
    with clean_admin(sandbox_server.url, TOKEN) as admin:
        yield admin


@dataclass
class Servers:
    """The Redis, Postgres and broker a scenario runs on: the machine's, or (for a scenario
    that stops one) a server of the test's own, never the machine's. The broker is Redis
    unless the scenario runs on a RabbitMQ of its own (``private_rabbitmq``)."""

    redis_url: str
    database_url: str
    engine: Engine
    redis: PrivateRedis | None = None
    postgres: PrivatePostgres | None = None
    rabbitmq: PrivateRabbitMQ | None = None
    broker_url: str = ""

    def __post_init__(self) -> None:
        self.broker_url = self.broker_url or self.redis_url


def _at(url: str, host: str | None) -> str:
    """``url`` with 127.0.0.1 replaced by ``host`` (the servers' address for namespaced
    hosts, ``tests.netns``), or as it is."""
    return (
        url.replace("@127.0.0.1:", f"@{host}:").replace("//127.0.0.1:", f"//{host}:")
        if host
        else url
    )


@pytest.fixture
def processes(tmp_path: Path, redis_prefix: str) -> Iterator[Processes]:
    """The e2e suite's processes (``tests.e2e.conftest``) without the machine's Postgres:
    ``env`` names the scenario's database, which may be a cluster of its own."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FLEET_")},
        "FLEET_BROKER_KEY_PREFIX": redis_prefix,
        "FLEET_SEED": "7",
        "FLEET_PERSONAS_DIR": str(PERSONAS),
        # As the e2e suite: two agents' offline comments on one post are not echoes.
        "FLEET_MEMORY__ECHO_SIMILARITY": "1",
        "FLEET_ENV_FILE": "",
    }
    running = Processes(env, tmp_path)
    yield running
    running.stop_all()


@pytest.fixture
def servers(request: pytest.FixtureRequest) -> Iterator[Servers]:
    """Private servers as the scenario's markers ask; a scenario on namespaced hosts
    (``netns``, its module's ``hosts`` fixture) has them listen on the hosts' server address
    too, and every URL names that address."""
    host: str | None = None
    also: tuple[str, ...] = ()
    if request.node.get_closest_marker("netns"):
        host = request.getfixturevalue("hosts").server
        also = (host,)
    with ExitStack() as stack:
        redis_server = None
        redis_url = REDIS_URL
        if request.node.get_closest_marker("private_redis"):
            redis_server = stack.enter_context(PrivateRedis(also))
            redis_url = _at(redis_server.url, host)
        rabbitmq = None
        broker_url = redis_url
        if request.node.get_closest_marker("private_rabbitmq"):
            try:
                rabbitmq = stack.enter_context(PrivateRabbitMQ(also))
            except RuntimeError as error:
                pytest.skip(f"no RabbitMQ of the test's own: {error}")
            broker_url = _at(rabbitmq.url, host)
        if request.node.get_closest_marker("private_postgres"):
            postgres_server = stack.enter_context(PrivatePostgres(also))
            postgres_server.create_database("fleet_chaos")
            url = _at(postgres_server.url("fleet_chaos"), host)
            engine = build_engine(postgres_server.url("fleet_chaos"))
            stack.callback(engine.dispose)
            migrate.upgrade(engine)
            yield Servers(
                redis_url, url, engine, redis_server, postgres_server, rabbitmq, broker_url
            )
            return
        engine = request.getfixturevalue("pg_engine")
        yield Servers(
            redis_url,
            request.getfixturevalue("postgres_database"),
            engine,
            redis_server,
            None,
            rabbitmq,
            broker_url,
        )


@pytest.fixture
def env(
    processes: Processes, sandbox_server: BackgroundSandbox, servers: Servers
) -> dict[str, str]:
    """Short leases, sweeps and backoffs, so that a failure plays out within the run."""
    processes.env.update(
        {
            "FLEET_DATABASE_URL": servers.database_url,
            "FLEET_BROKER_URL": servers.broker_url,
            "FLEET_REDIS_URL": servers.redis_url,
            "FLEET_GALLERY__URL": sandbox_server.url,
            "FLEET_GALLERY__TOKEN": TOKEN,
            "FLEET_GALLERY__TIMEOUT_SECONDS": "5",
            "FLEET_PERSONAS_DIR": str(PERSONAS),
            "FLEET_TASKS__MAX_RETRIES": "6",
            "FLEET_TASKS__LEASE_SECONDS": str(LEASE),
            "FLEET_TASKS__UNCLAIMED_SECONDS": str(2 * LEASE),
            "FLEET_TASKS__SWEEP_INTERVAL_SECONDS": "1",
            "FLEET_TASKS__SOFT_TIME_LIMIT_SECONDS": "20",
            "FLEET_TASKS__TIME_LIMIT_SECONDS": "30",
            "FLEET_TASKS__VISIBILITY_TIMEOUT_SECONDS": "60",
            "FLEET_ACTIONS__BACKOFF_BASE_SECONDS": "0.05",
            "FLEET_ACTIONS__BACKOFF_MAX_SECONDS": "0.5",
            "FLEET_ACTIONS__PAUSE_PROBE_SECONDS": "0.5",
            "FLEET_ACTIONS__MAX_DEFERRALS": "4",
            "FLEET_ACTIONS__GALLERY_REQUESTS_PER_SECOND": "1000",
            "FLEET_ACTIONS__BREAKER_THRESHOLD": "50",
            "FLEET_ACTIONS__BREAKER_OPEN_SECONDS": "1",
        }
    )
    if "//127.0.0.1:" not in sandbox_server.url:
        # A gallery off the loopback (namespaced hosts reach it at the servers' address)
        # needs its operator named, as any gallery not on this machine does.
        processes.env |= OPERATOR
    return processes.env


# Who runs the agents, for a scenario whose sandbox is off the loopback.
OPERATOR = {
    "FLEET_DISCLOSURE__OPERATOR_NAME": "Fleet chaos tests",
    "FLEET_DISCLOSURE__OPERATOR_URL": "http://chaos.invalid/about/agents",
}


@pytest.fixture
def fleet(env: dict[str, str], servers: Servers) -> Iterator[Fleet]:
    settings = Settings(
        database_url=env["FLEET_DATABASE_URL"],
        broker_url=servers.broker_url,
        redis_url=servers.redis_url,
        broker_key_prefix=env["FLEET_BROKER_KEY_PREFIX"],
        seed=7,
        personas_dir=PERSONAS,
        gallery={"url": env["FLEET_GALLERY__URL"], "token": TOKEN},
        tasks={"lease_seconds": LEASE},
        **(
            {
                "disclosure": {
                    "operator_name": env["FLEET_DISCLOSURE__OPERATOR_NAME"],
                    "operator_url": env["FLEET_DISCLOSURE__OPERATOR_URL"],
                }
            }
            if "FLEET_DISCLOSURE__OPERATOR_NAME" in env
            else {}
        ),
    )
    instance = bootstrap(settings, servers.engine)
    yield instance
    instance.close()


class Rig:
    """A fleet of real processes on the real Postgres and Redis, and its books."""

    def __init__(self, processes: Processes, fleet: Fleet, admin: Admin, prefix: str) -> None:
        self.processes = processes
        self.fleet = fleet
        self.admin = admin
        self.prefix = prefix
        self.app = create_app(fleet.settings)
        self.workers: list[str] = []
        self.beat: subprocess.Popen[bytes] | None = None
        self.started = 0.0
        self.evidence: dict[str, Any] = {}
        self.fault_at: datetime | None = None
        self.state: dict[str, Any] = {}
        self.worker: subprocess.Popen[bytes] | None = None
        self.worker_options: tuple[str, ...] = ()
        # Every worker watched for an exit (``_supervise``): its process, its options, and
        # start_worker's keywords that started it (wrap, queues, pool, concurrency).
        self.supervised: dict[
            str, tuple[subprocess.Popen[bytes], tuple[str, ...], dict[str, Any]]
        ] = {}
        self.redis_url = str(fleet.settings.redis_url)

    def start_worker(
        self,
        name: str,
        *extra: str,
        wait: bool = True,
        wrap: Sequence[str] = (),
        queues: str = "ticks,content,engage,dead_letter",
        pool: str = "prefork",
        concurrency: int = 4,
    ) -> subprocess.Popen[bytes]:
        """A worker on ``queues`` (every queue, prefork, 4 processes, as compose runs the
        engage worker), answering pings before it returns; on another host (a namespace,
        ``tests.netns``) when ``wrap`` says so.

        ``wait=False`` (a restart mid-fault) returns at once: whether it works shows in
        the drain, which has its own deadline, and in the books.
        """
        node = f"{name}-{os.getpid()}@%h"
        worker = self.processes.start(
            name,
            "worker",
            "-Q",
            queues,
            "-P",
            pool,
            "-c",
            str(concurrency),
            "--without-mingle",
            "--without-gossip",
            "--loglevel",
            "INFO",
            "-n",
            node,
            *extra,
            wrap=wrap,
        )
        self.workers.append(name)
        self.worker, self.worker_options = worker, extra
        how = {"wrap": tuple(wrap), "queues": queues, "pool": pool, "concurrency": concurrency}
        self.supervised[name] = (worker, extra, how)
        full = self.node_name(name)
        if not wait:
            return worker
        wait_for(
            # Tolerant: a worker restarted while Redis is down waits for it, as this does.
            lambda: _tolerant(lambda: bool(self.app.control.ping(destination=[full], timeout=0.5))),
            120,
            f"worker {name} to answer a ping",
        )
        return worker

    @staticmethod
    def node_name(name: str) -> str:
        """The Celery node name of the worker started as ``name``."""
        return f"{name}-{os.getpid()}@{os.uname().nodename}"

    def kill_worker(self) -> int:
        """SIGKILL the worker and its pool's processes, as when its container is killed
        (the test restarts it, not the supervisor); its exit code."""
        worker, self.worker = self.worker, None
        assert worker is not None
        self.supervised = {k: v for k, v in self.supervised.items() if v[0] is not worker}
        os.killpg(worker.pid, signal.SIGKILL)
        return worker.wait(timeout=10)

    def _supervise(self) -> None:
        """Restart a worker that exited, as the stack's ``restart: unless-stopped`` does.

        Each exit is kept in the books' evidence with the worker's last critical line.
        """
        for name, (worker, options, how) in list(self.supervised.items()):
            if worker.poll() is None:
                continue
            del self.supervised[name]
            critical = [
                line[:300]
                for line in logs_of(self.processes, name).splitlines()
                if '"level": "critical"' in line
            ]
            self.evidence.setdefault("worker_exits", []).append(
                {"worker": name, "exit_code": worker.returncode, "critical": critical[-1:]}
            )
            self.start_worker(f"{name}-restarted", *options, wait=False, **how)

    def status(self, env: dict[str, str] | None = None) -> dict[str, Any]:
        """``fleet status`` as an operator runs it, from outside the fleet's processes (with
        ``env`` over the fleet's settings): its exit code and what it printed (stdout and
        stderr), and when."""
        done = subprocess.run(
            [str(Path(sys.executable).parent / "fleet"), "status"],
            env={**self.processes.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return {
            "second": round(time.monotonic() - self.started, 1),
            "exit_code": done.returncode,
            "output": (done.stdout + done.stderr)[-3000:],
        }

    def start(self, *worker_options: str) -> subprocess.Popen[bytes]:
        """Worker, agents, beat: the fleet runs from now on."""
        worker = self.start_worker("worker", *worker_options)
        self.start_agents_and_beat()
        return worker

    def start_as_compose(self) -> None:
        """The workers as compose runs them (content on threads in a process of its own;
        ticks, likes and browses on a prefork pool), agents, beat."""
        self.start_worker("content", queues="content", pool="threads", concurrency=8)
        self.start_worker("worker", queues="ticks,engage,dead_letter")
        self.start_agents_and_beat()

    def start_agents_and_beat(self) -> None:
        """The agents and beat, with whatever workers are running (perhaps none for the
        actions yet: then the actions queue up)."""
        active_agents(self.fleet, AGENTS, PERSONA, interval=INTERVAL)
        self.beat = self.processes.start(
            "beat",
            "beat",
            "--schedule",
            str(self.processes.logs / "beat-schedule"),
            "--loglevel",
            "INFO",
        )
        self.started = time.monotonic()

    def fault(self) -> None:
        """Mark the moment the fault strikes: the books count what was decided after it."""
        self.fault_at = _now()

    def until(self, second: float) -> None:
        """Let the fleet run until ``second`` seconds after it started."""

        def reached() -> bool:
            self._supervise()
            return time.monotonic() - self.started >= second

        wait_for(
            reached,
            second + 60,
            f"second {second:.0f} of the run",
            every=0.1,
        )

    def wait(self, condition: Callable[[], bool], seconds: float, what: str) -> None:
        """Wait for ``condition`` while the fleet runs (a worker that exits is restarted and
        counted, as in ``until``)."""

        def met() -> bool:
            self._supervise()
            return condition()

        wait_for(met, seconds, what, every=0.1)

    def _quiet(self) -> bool:
        """No activity pending, no message queued, and no worker holding one."""
        self.state = {"pending": self.pending()}
        self.state |= {queue: self.queued(queue) for queue in ("ticks", "content", "engage")}
        if any(self.state.values()):
            return False
        # A connection of its own: a pooled one may believe its reply queue is still
        # declared after Redis lost it (kombu caches declarations per connection).
        with self.app.connection_for_write() as connection:
            inspect = self.app.control.inspect(timeout=1.0, limit=1, connection=connection)
            for view in ("active", "reserved", "scheduled"):
                held = getattr(inspect, view)()
                self.state[view] = held
                if held is None or any(held.values()):
                    return False
        return not self.pending()

    def _diagnosis(self) -> dict[str, Any]:
        """What a stuck drain looks like: the state, the workers' own view, Redis's keys.

        The workers are also sent SIGUSR1, on which Celery logs every thread's stack.
        """
        found: dict[str, Any] = dict(self.state)
        with self.app.connection_for_write() as connection:
            inspect = self.app.control.inspect(timeout=2.0, connection=connection)
            for view in ("active", "reserved", "scheduled", "stats"):
                found[view] = getattr(inspect, view)()
        client = redis.Redis.from_url(self.redis_url)
        try:
            found["keys"] = {
                str(key): str(client.type(key))
                for key in client.scan_iter(match=f"{self.prefix}*", count=1000)
            }
        finally:
            client.close()
        for process in self.processes.running:
            if process.poll() is None and process is not self.beat:
                os.kill(process.pid, signal.SIGUSR1)
        found["exit_codes"] = {
            str(process.args[-1] if isinstance(process.args, list) else process.pid): process.poll()
            for process in self.processes.running
        }
        found["logs"] = str(self.processes.logs)
        return found

    def queued(self, queue: str) -> int:
        """Messages waiting in ``queue``, from the broker (Redis's list, RabbitMQ's count)."""
        if not self.fleet.settings.broker_url.startswith("redis"):
            return broker_queue_depths(self.fleet.settings)[queue] or 0
        client = redis.Redis.from_url(self.redis_url)
        try:
            return int(client.llen(f"{self.prefix}{queue}"))
        finally:
            client.close()

    def pending(self) -> int:
        with self.fleet.sessions() as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(AgentActivity)
                    .where(AgentActivity.status == "pending")
                )
                or 0
            )

    def decided(self) -> int:
        """Every action decided so far, whatever became of it."""
        with self.fleet.sessions() as session:
            return int(session.scalar(select(func.count()).select_from(AgentActivity)) or 0)

    def succeeded_since(self, moment: datetime) -> int:
        """Actions decided at or after ``moment`` that succeeded: the fleet works again."""
        with self.fleet.sessions() as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(AgentActivity)
                    .where(AgentActivity.status == "succeeded", AgentActivity.created_at >= moment)
                )
                or 0
            )

    def batch_in_flight(self) -> int:
        """The most actions one delivery holds claimed and unfinished (a batch's claim gives
        all its actions one token): a batch is in the middle of its work when over 1."""
        with self.fleet.sessions() as session:
            counts = session.scalars(
                select(func.count())
                .select_from(AgentActivity)
                .where(AgentActivity.status == "pending", AgentActivity.claimed_by.is_not(None))
                .group_by(AgentActivity.claimed_by)
            ).all()
            return max(counts, default=0)

    def drain(self) -> float:
        """Stop beat, lift the faults, sweep every second until quiet; returns the seconds."""
        assert self.beat is not None
        self.processes.stop(self.beat)
        self.admin.faults()
        began = time.monotonic()
        last_sweep = 0.0

        def quiet() -> bool:
            nonlocal last_sweep
            if time.monotonic() - last_sweep >= 1.0:
                self.app.send_task("fleet.sweep_leases", queue="ticks")
                last_sweep = time.monotonic()
            self._supervise()
            return _tolerant(self._quiet)

        # Quiet twice, a second apart: a message a worker has taken from the broker but
        # not yet reserved shows nowhere for a moment (a tick sent just before beat
        # stopped decided a comment after a single quiet look once).
        deadline = began + DRAIN_SECONDS
        quiet_since: float | None = None
        while quiet_since is None or time.monotonic() - quiet_since < 1.0:
            if not quiet():
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            if time.monotonic() > deadline:
                pytest.fail(f"not drained in {DRAIN_SECONDS:.0f}s: {self._diagnosis()}")
            time.sleep(0.25)
        return time.monotonic() - began

    def _replay_dead_likes(self) -> dict[str, int]:
        """Replay the dead letters of dead likes, the faults lifted; their outcomes.

        A like whose answer was lost and whose retries then ran out is dead with its
        effect on the gallery, and the gallery's API does not say who liked a post, so
        reconciliation cannot see it. Its designed repair is the dead letter's replay
        (the same key: the gallery answers with the like it made). Every dead like is
        replayed so, as an operator would once the fault is gone; the books then balance.
        """
        with self.fleet.sessions() as session:
            letters = session.scalars(
                select(DeadLetter.id)
                .join(AgentActivity, AgentActivity.id == DeadLetter.activity_id)
                .where(
                    AgentActivity.action == "like",
                    AgentActivity.status == "dead",
                    DeadLetter.replayed_at.is_(None),
                )
            ).all()
        outcomes: Counter[str] = Counter()
        for letter in letters:
            _, arguments = activities.replay(
                self.fleet.sessions, letter, now=_now(), lease=timedelta(seconds=LEASE)
            )
            outcomes[perform(self.fleet.action_kit, ActionKey.parse(arguments["key"])).status] += 1
        return dict(outcomes)

    def books(self, scenario: str, drained: float) -> dict[str, Any]:
        """The books of the run, as one JSON-able dict (see ``check``).

        Dead likes are replayed first (``_replay_dead_likes``), then reconciliation
        runs, before the books are read: an action whose answer was lost after the gallery
        made its effect, and whose retries then ran out, is dead with its effect on the
        gallery. That is the designed outcome (the effect happened once; the activity
        ended once), and ``fleet reconcile --fix`` its designed repair: such findings
        are repaired and counted (``recovered_by_reconcile``); any other finding stays
        and fails the books.
        """
        # A like dead with its effect on the gallery shows there as a like the ledger
        # lacks (a like_excess, which reconciliation now sees) until its replay records it.
        replayed = self._replay_dead_likes()
        gallery = HttpGallery(self.fleet.settings.gallery)
        try:
            found = reconcile(self.fleet.sessions, gallery, now=_now())
        finally:
            gallery.close()
        recovered = [f for f in found.findings if f.kind == "unrecorded"]
        unexplained = [f.to_json() for f in found.findings if f.kind != "unrecorded"]
        if recovered:
            repair(
                self.fleet.sessions,
                Reconciliation(found.since, recovered, found.scanned),
                now=_now(),
                lease=timedelta(seconds=LEASE),
                send=_no_send,
            )
        with self.fleet.sessions() as session:
            statuses = Counter(
                dict(
                    session.execute(
                        select(AgentActivity.status, func.count()).group_by(AgentActivity.status)
                    ).all()
                )
            )
            decided, keys = session.execute(
                select(func.count(), func.count(AgentActivity.idempotency_key.distinct()))
            ).one()
            by_action = {
                f"{action}:{status}": count
                for action, status, count in session.execute(
                    select(AgentActivity.action, AgentActivity.status, func.count()).group_by(
                        AgentActivity.action, AgentActivity.status
                    )
                )
            }
            made: Counter[tuple[str, str]] = Counter()
            for handle, action, count in session.execute(
                select(Agent.handle, AgentActivity.action, func.count())
                .join(Agent, Agent.id == AgentActivity.agent_id)
                .where(AgentActivity.status == "succeeded")
                .group_by(Agent.handle, AgentActivity.action)
            ):
                # What each kind leaves on the gallery: a reply is a comment there.
                made[(handle, KINDS[Action(action)].makes)] += count
            engaging = [k.action.value for k in KINDS.values() if k.engages]
            succeeded_engaging = Counter(
                {
                    action: count
                    for action, count in session.execute(
                        select(AgentActivity.action, func.count())
                        .where(
                            AgentActivity.status == "succeeded",
                            AgentActivity.action.in_(engaging),
                        )
                        .group_by(AgentActivity.action)
                    )
                }
            )
            ledger = Counter(
                {
                    kind: count
                    for kind, count in session.execute(
                        select(Engagement.kind, func.count()).group_by(Engagement.kind)
                    )
                }
            )
            # Where the two disagree, which activities: a success of an engaging kind with
            # no ledger row of its own, and a ledger row whose activity is not a success.
            unledgered = [
                {"id": a.id, "action": a.action, "target": a.target_post_id, "result": a.result}
                for a in session.scalars(
                    select(AgentActivity)
                    .where(
                        AgentActivity.status == "succeeded",
                        AgentActivity.action.in_(engaging),
                        ~select(Engagement.id)
                        .where(Engagement.activity_id == AgentActivity.id)
                        .exists(),
                    )
                    .order_by(AgentActivity.id)
                    .limit(5)
                )
            ]
            stray_rows = [
                {"engagement": e.id, "activity": e.activity_id, "post": e.target_id, "kind": e.kind}
                for e in session.scalars(
                    select(Engagement)
                    .outerjoin(AgentActivity, AgentActivity.id == Engagement.activity_id)
                    .where((AgentActivity.id.is_(None)) | (AgentActivity.status != "succeeded"))
                    .order_by(Engagement.id)
                    .limit(5)
                )
            ]
            # One row per key is the database's promise, not this count's: check it is made.
            key_constraint = session.scalar(
                text(
                    "SELECT count(*) FROM pg_constraint WHERE contype = 'u' "
                    "AND conrelid = 'agent_activities'::regclass "
                    "AND conname = 'uq_agent_activities_idempotency_key'"
                )
            )
            without_tick = session.scalar(
                select(func.count())
                .select_from(Agent)
                .where(Agent.status == "active", Agent.next_tick_at.is_(None))
            )
            unlettered = session.scalar(
                select(func.count())
                .select_from(AgentActivity)
                .where(
                    AgentActivity.status == "dead",
                    ~select(DeadLetter.id)
                    .where(DeadLetter.activity_id == AgentActivity.id)
                    .exists(),
                )
            )
            dead_errors = list(
                session.scalars(
                    select(AgentActivity.error)
                    .where(AgentActivity.status == "dead")
                    .order_by(AgentActivity.id)
                    .limit(3)
                )
            )
            if self.fault_at is not None:
                self.evidence["succeeded_after_fault"] = session.scalar(
                    select(func.count())
                    .select_from(AgentActivity)
                    .where(
                        AgentActivity.created_at > self.fault_at,
                        AgentActivity.status == "succeeded",
                    )
                )
            skips = Counter(
                (reason or "")[:40]
                for reason in session.scalars(
                    select(AgentActivity.error).where(AgentActivity.status == "skipped")
                )
            )
        report = self.admin.report()
        on_gallery: Counter[tuple[str, str]] = Counter()
        for user in report["users"]:
            for action, column in EFFECTS.items():
                on_gallery[(user["username"], action)] += user[column]
        pairs = {pair for pair in set(made) | set(on_gallery) if pair[1] in EFFECTS}
        unequal = sorted(
            (*pair, made[pair], on_gallery[pair])
            for pair in pairs
            if made[pair] != on_gallery[pair]
        )
        return {
            "scenario": scenario,
            "agents": AGENTS,
            "run_seconds": RUN_SECONDS,
            "drain_seconds": round(drained, 1),
            "decided": decided,
            "unique_keys": keys,
            "key_constraint": key_constraint == 1,
            "succeeded": statuses["succeeded"],
            "skipped": statuses["skipped"],
            "dead": statuses["dead"],
            "pending": statuses["pending"],
            "dead_without_letter": unlettered,
            "by_action": by_action,
            "gallery": dict(report["totals"]),
            "duplicates": len(report["duplicates"]["posts"])
            + len(report["duplicates"]["comments"])
            + len([like for like in report["duplicates"]["likes"] if not _liked_once(like)]),
            "missing": sum(max(0, made[pair] - on_gallery[pair]) for pair in pairs),
            "extra": sum(max(0, on_gallery[pair] - made[pair]) for pair in pairs),
            # Which agents' books disagree, and how: (handle, kind, succeeded, on the gallery),
            # with the first one's actions of that kind, to tell what happened.
            "unequal": unequal[:5],
            "unequal_actions": self._actions_of(*unequal[0][:2]) if unequal else [],
            # Every success of a kind that engages has its row in the engagement ledger, and
            # every row its success: the counts, and no row or success of the one without
            # the other (equal counts could hide one of each).
            "ledger_matches": succeeded_engaging == ledger and not unledgered and not stray_rows,
            "ledger": {"succeeded": dict(succeeded_engaging), "rows": dict(ledger)},
            "ledger_unmatched": {"successes": unledgered, "rows": stray_rows},
            "active_agents_without_tick": without_tick,
            "recovered_by_reconcile": len(recovered),
            "dead_likes_replayed": replayed,
            "reconcile_unexplained": unexplained[:5],
            "dead_errors": [(error or "")[:120] for error in dead_errors],
            "skip_reasons": dict(skips.most_common(4)),
            "duplicate_detail": report["duplicates"],
            "evidence": self.evidence,
        }

    def _actions_of(self, handle: str, makes: str) -> list[dict[str, Any]]:
        """An agent's activities of the kinds that make ``makes`` on the gallery."""
        kinds = [k.action.value for k in KINDS.values() if k.makes == makes]
        with self.fleet.sessions() as session:
            rows = session.execute(
                select(AgentActivity)
                .join(Agent, Agent.id == AgentActivity.agent_id)
                .where(Agent.handle == handle, AgentActivity.action.in_(kinds))
                .order_by(AgentActivity.id)
            ).scalars()
            return [
                {
                    "key": a.idempotency_key,
                    "status": a.status,
                    "attempts": a.attempts,
                    "deliveries": a.deliveries,
                    "target": a.target_post_id,
                    "result": a.result,
                    "error": (a.error or "")[:120],
                }
                for a in rows
            ]

    def record(self, scenario: str) -> dict[str, Any]:
        """Let the fleet run on until it has decided what ``check`` asks of a run (a slow
        machine or a long fault leaves little of the scheduled run; a fleet that never gets
        there fails the check with its books), then drain, read the books, write them to
        artifacts/chaos, print them, and check them."""
        beat = self.beat
        with suppress(pytest.fail.Exception):  # past the deadline, the check says it
            self.wait(
                lambda: beat is None or beat.poll() is not None or self.decided() >= ENOUGH_DECIDED,
                ENOUGH_SECONDS,
                "enough decided actions",
            )
        drained = self.drain()
        books = self.books(scenario, drained)
        line = json.dumps(books, sort_keys=True)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / f"{scenario}.json").write_text(line + "\n", encoding="utf-8")
        print(line)
        check(books)
        return books


def _liked_once(like: dict[str, Any]) -> bool:
    """A like the agent made again after a lost answer, on a gallery that keeps no keys:
    the toggle API leaves no other way (like, unlike, like), and the effect is one like."""
    return bool(like["liked"]) and like["likes"] - like["unlikes"] == 1


def check(books: dict[str, Any]) -> None:
    """Every decided action terminal once, the gallery equal to the successes, ticks ahead."""
    assert books["decided"] >= ENOUGH_DECIDED, f"the fleet hardly ran: {books}"
    assert books["pending"] == 0, books
    assert set(books["dead_likes_replayed"]) <= {"succeeded"}, books
    assert books["unique_keys"] == books["decided"] and books["key_constraint"], books
    assert books["succeeded"] + books["skipped"] + books["dead"] == books["decided"], books
    assert books["dead_without_letter"] == 0, books
    assert books["duplicates"] == 0, books
    assert books["missing"] == 0, books
    assert books["extra"] == 0, books
    assert books["ledger_matches"], books
    assert books["active_agents_without_tick"] == 0, books
    assert books["reconcile_unexplained"] == [], books


def _no_send(key: ActionKey[Action]) -> None:
    raise AssertionError(f"nothing is stale after the drain, yet {key.text} was re-sent")


def _now() -> datetime:
    return datetime.now(UTC)


def _tolerant(condition: Callable[[], bool]) -> bool:
    """A condition that counts a server still coming back as "not yet"."""
    try:
        return condition()
    except (OperationalError, BrokerError, redis.ConnectionError):
        return False


@pytest.fixture
def rig(processes: Processes, fleet: Fleet, admin: Admin, redis_prefix: str) -> Iterator[Rig]:
    yield Rig(processes, fleet, admin, redis_prefix)


def logs_of(processes: Processes, name: str) -> str:
    path: Path = processes.logs / f"{name}.log"
    return path.read_text(encoding="utf-8", errors="replace")
