"""Exactly once on Takahē (which ignores ``Idempotency-Key``), under the chaos rig's faults:
real worker and beat processes (``tests.e2e.conftest.Processes``), answers to posts,
comments, replies and likes lost after Takahē acted (``tests.platforms.lose``, a share
of 0.3), and the worker SIGKILLed mid-run with its pool (as ``tests.chaos`` does) and
started again; and the worker SIGKILLed at the worst point, after Takahē made a post, a
comment and a like but before Fleet recorded it (``tests.platforms.die``). After the
drain: 0 duplicates and 0 missing, counted from Takahē's own database
(``tests.platforms.books``) against the fleet's ledger.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from cryptography.fernet import Fernet
from sqlalchemy import Engine, func, select

from fleet import agents
from fleet.db.models import AgentActivity
from fleet.service.root import Fleet, bootstrap
from fleet.settings import Settings
from fleet.worker.app import create_app
from tests.conftest import active_agents
from tests.e2e.conftest import REDIS_URL, ROOT, Processes, wait_for
from tests.e2e.conftest import processes as processes
from tests.e2e.conftest import redis_prefix as redis_prefix
from tests.platforms.books import compare, since, takahe_books
from tests.platforms.die import KINDS
from tests.platforms.servers import Takahe

pytestmark = [pytest.mark.platform, pytest.mark.slow]

PERSONA = "steady_ticker"  # tests/e2e/personas: the rhythm is the interval alone
AGENTS = 8
INTERVAL = (2.0, 4.0)
LEASE = 5
KILL_AT, RUN_SECONDS = 12.0, 30.0
ARTIFACTS = ROOT / "artifacts" / "chaos"


@pytest.fixture
def env(processes: Processes, takahe_server: Takahe, tmp_path: Path) -> dict[str, str]:
    processes.env.update(
        {
            "FLEET_GALLERY__KIND": "mastodon",
            "FLEET_GALLERY__URL": takahe_server.url,
            "FLEET_GALLERY__TIMEOUT_SECONDS": "20",
            "FLEET_CREDENTIALS__KEYS": Fernet.generate_key().decode(),
            "FLEET_IMAGES__DIRECTORY": str(tmp_path / "images"),
            "FLEET_IMAGES__WIDTH": "128",
            "FLEET_IMAGES__HEIGHT": "128",
            "FLEET_DISCLOSURE__OPERATOR_NAME": "Fleet chaos on Takahe",
            "FLEET_DISCLOSURE__OPERATOR_URL": "https://operator.test/chaos",
            "FLEET_TASKS__MAX_RETRIES": "8",
            "FLEET_TASKS__LEASE_SECONDS": str(LEASE),
            "FLEET_TASKS__UNCLAIMED_SECONDS": str(2 * LEASE),
            "FLEET_TASKS__SWEEP_INTERVAL_SECONDS": "1",
            "FLEET_TASKS__SOFT_TIME_LIMIT_SECONDS": "40",
            "FLEET_TASKS__TIME_LIMIT_SECONDS": "60",
            "FLEET_TASKS__VISIBILITY_TIMEOUT_SECONDS": "90",
            "FLEET_ACTIONS__BACKOFF_BASE_SECONDS": "0.05",
            "FLEET_ACTIONS__BACKOFF_MAX_SECONDS": "0.5",
            "FLEET_ACTIONS__PAUSE_PROBE_SECONDS": "0.5",
            "FLEET_ACTIONS__GALLERY_REQUESTS_PER_SECOND": "1000",
            "FLEET_ACTIONS__BREAKER_THRESHOLD": "50",
            "FLEET_ACTIONS__BREAKER_OPEN_SECONDS": "1",
            "FLEET_TEST_LOSE_SHARE": "0.3",
            "FLEET_TEST_LOSE_LOG": str(tmp_path / "lost.log"),
        }
    )
    return processes.env


@pytest.fixture
def fleet(env: dict[str, str], pg_engine: Engine, redis_prefix: str) -> Iterator[Fleet]:
    settings = Settings(
        database_url=env["FLEET_DATABASE_URL"],
        broker_url=REDIS_URL,
        redis_url=REDIS_URL,
        broker_key_prefix=redis_prefix,
        seed=7,
        personas_dir=Path(env["FLEET_PERSONAS_DIR"]),
        gallery={"kind": "mastodon", "url": env["FLEET_GALLERY__URL"]},
        credentials={"keys": env["FLEET_CREDENTIALS__KEYS"]},
        disclosure={
            "operator_name": env["FLEET_DISCLOSURE__OPERATOR_NAME"],
            "operator_url": env["FLEET_DISCLOSURE__OPERATOR_URL"],
        },
        tasks={"lease_seconds": LEASE},
    )
    made = bootstrap(settings, pg_engine)
    yield made
    made.close()


def _count(fleet: Fleet, *statuses: str) -> int:
    with fleet.sessions() as session:
        query = select(func.count()).select_from(AgentActivity)
        if statuses:
            query = query.where(AgentActivity.status.in_(statuses))
        return int(session.scalar(query) or 0)


def _queued(prefix: str) -> int:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        return sum(int(client.llen(f"{prefix}{q}")) for q in ("ticks", "content", "engage"))
    finally:
        client.close()


def _worker(
    processes: Processes,
    name: str,
    load: str = "tests.platforms.lose",
    env: dict[str, str] | None = None,
) -> Any:
    return processes.start(
        name,
        "worker",
        "-Q",
        "ticks,content,engage,dead_letter",
        "-P",
        "prefork",
        "-c",
        "2",
        "--without-mingle",
        "--without-gossip",
        "--loglevel",
        "INFO",
        "-n",
        f"{name}-{os.getpid()}@%h",
        "-I",
        load,
        env=env,
    )


def test_lost_answers_and_a_killed_worker_leave_each_effect_once_on_takahe(
    processes: Processes,
    fleet: Fleet,
    takahe_server: Takahe,
    env: dict[str, str],
    redis_prefix: str,
    tmp_path: Path,
) -> None:
    ids = active_agents(fleet, AGENTS, PERSONA, interval=INTERVAL)
    handles = [agents.get_agent(fleet.sessions, str(i)).handle for i in ids]
    tokens = takahe_server.accounts(handles)
    seal = fleet.token_seal()
    for handle in handles:
        agents.set_token(fleet.sessions, seal, handle, tokens[handle], now=fleet.clock.now())
    worker = _worker(processes, "worker")
    beat = processes.start(
        "beat", "beat", "--schedule", str(processes.logs / "beat-schedule"), "--loglevel", "INFO"
    )
    started = time.monotonic()
    # The kill lands mid-run, while the worker holds claimed work (waited for, bounded).
    wait_for(lambda: time.monotonic() - started >= KILL_AT, KILL_AT + 5, "the kill's second")
    wait_for(
        lambda: _count(fleet, "succeeded") > 0 and _count(fleet, "pending") > 0,
        60,
        "work in flight to kill",
        every=0.05,
    )
    in_flight = _count(fleet, "pending")
    processes.kill(worker)
    _worker(processes, "worker-restarted")
    wait_for(lambda: time.monotonic() - started >= RUN_SECONDS, RUN_SECONDS + 60, "the run's end")
    processes.stop(beat)
    _drain(fleet, redis_prefix)
    books = compare(fleet, takahe_books(takahe_server, handles))
    lost_log = tmp_path / "lost.log"
    lost = len(lost_log.read_text().splitlines()) if lost_log.exists() else 0
    with fleet.sessions() as session:
        by = dict(
            session.execute(
                select(AgentActivity.status, func.count()).group_by(AgentActivity.status)
            ).all()
        )
    found = {
        "scenario": "takahe_lost_answers_and_sigkill",
        "agents": AGENTS,
        "answers_lost": lost,
        "pending_at_kill": in_flight,
        "activities": {str(k): int(v) for k, v in by.items()},
        **books,
    }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "takahe.json").write_text(json.dumps(found) + "\n")
    print(json.dumps(found))
    assert lost > 0, found  # the fault struck
    assert books["statuses_recorded"] + books["likes_recorded"] >= AGENTS, found
    assert books["duplicates"] == 0, found
    assert books["missing"] == 0, found


def _drain(fleet: Fleet, redis_prefix: str) -> None:
    """Sweep until no activity is pending and no message is queued for 3 s (bounded)."""
    app = create_app(fleet.settings)
    last = 0.0
    quiet_since: float | None = None

    def drained() -> bool:
        nonlocal last, quiet_since
        if time.monotonic() - last >= 1.0:
            app.send_task("fleet.sweep_leases", queue="ticks")
            last = time.monotonic()
        if _count(fleet, "pending") or _queued(redis_prefix):
            quiet_since = None
            return False
        quiet_since = quiet_since or time.monotonic()
        return time.monotonic() - quiet_since >= 3.0

    wait_for(drained, 240, "the drain (no activity pending, no message queued)", every=0.25)


@pytest.mark.timeout(480)  # about 2 minutes on idle cores; busy ones take longer
def test_a_worker_killed_after_the_effect_before_the_ledger_leaves_each_once_on_takahe(
    processes: Processes,
    fleet: Fleet,
    takahe_server: Takahe,
    env: dict[str, str],
    redis_prefix: str,
    tmp_path: Path,
) -> None:
    """The worker's pool process dies (SIGKILL) once for each kind of effect, just after
    Takahē made the post, the comment or the like and before Fleet wrote it down; the
    re-delivery looks before it sends again and records what it finds."""
    died = tmp_path / "died"
    died.mkdir()
    dying = {"FLEET_TEST_DIE_DIR": str(died), "FLEET_TEST_LOSE_SHARE": "0"}
    ids = active_agents(fleet, AGENTS, PERSONA, interval=INTERVAL)
    handles = [agents.get_agent(fleet.sessions, str(i)).handle for i in ids]
    tokens = takahe_server.accounts(handles)
    seal = fleet.token_seal()
    # The session's server kept the earlier test's statuses by the same handles.
    before = takahe_books(takahe_server, handles)
    for handle in handles:
        agents.set_token(fleet.sessions, seal, handle, tokens[handle], now=fleet.clock.now())
    beat = processes.start(
        "beat", "beat", "--schedule", str(processes.logs / "beat-schedule"), "--loglevel", "INFO"
    )
    workers = [_worker(processes, "worker-0", "tests.platforms.die", dying)]

    def all_died() -> bool:
        if workers[-1].poll() is not None:  # not expected: only pool processes die
            workers.append(
                _worker(processes, f"worker-{len(workers)}", "tests.platforms.die", dying)
            )
        return all((died / kind).exists() for kind in KINDS)

    wait_for(all_died, 180, "a death after each kind of effect (post, comment, like)", every=0.1)
    processes.stop(beat)
    _drain(fleet, redis_prefix)
    books = compare(fleet, since(takahe_books(takahe_server, handles), before))
    logs = "".join(
        (processes.logs / f"worker-{n}.log").read_text(errors="replace")
        for n in range(len(workers))
    )
    killed = {kind: (died / kind).read_text().split()[0] for kind in KINDS}
    with fleet.sessions() as session:
        ends = {
            key: (status, result or {})
            for key, status, result in session.execute(
                select(
                    AgentActivity.idempotency_key, AgentActivity.status, AgentActivity.result
                ).where(AgentActivity.idempotency_key.in_(killed.values()))
            ).all()
        }
    found = {
        "scenario": "takahe_killed_between_effect_and_ledger",
        "agents": AGENTS,
        "killed": {
            kind: [key, *ends.get(key, ("never claimed",))[:1]] for kind, key in killed.items()
        },
        "pool_processes_killed": len({(died / k).read_text().split()[1] for k in KINDS}),
        # The re-delivery looked before it sent again, and found it: the post by its
        # media (the adapter's log), the comment under its post (``recovered``).
        "post_found_again": logs.count("post with media"),
        "comment_found_again": logs.count("reply under")
        + sum(1 for _, r in ends.values() if r.get("recovered")),
        **books,
    }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "takahe_kill_points.json").write_text(json.dumps(found) + "\n")
    print(json.dumps(found))
    assert found["pool_processes_killed"] == len(KINDS), found  # one death per kind
    assert all(ends.get(key, ("",))[0] == "succeeded" for key in killed.values()), found
    assert found["post_found_again"] >= 1, found
    assert found["comment_found_again"] >= 1, found
    assert books["duplicates"] == 0, found
    assert books["missing"] == 0, found
