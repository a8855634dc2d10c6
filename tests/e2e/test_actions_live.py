"""End to end: real Celery workers on the real Redis and Postgres act on the sandbox over HTTP.

Every test checks the books: each decided action ends in exactly one terminal state, and
the gallery's posts, likes and comments are exactly the succeeded activities.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pydantic import SecretStr
from sqlalchemy import Engine, func, select, update

from bench.pipeline_util import _children
from fleet import activities, agents
from fleet.cli import cli
from fleet.db.models import Agent, AgentActivity, DeadLetter
from fleet.service.root import Fleet, bootstrap
from fleet.settings import Settings
from fleet.worker.app import create_app
from fleet_sandbox.config import SandboxConfig
from fleet_sandbox.server import BackgroundSandbox
from tests.conftest import active_agents
from tests.e2e.conftest import REDIS_URL, Processes, wait_for
from tests.gallery.conftest import Admin, clean_admin

pytestmark = pytest.mark.slow

TOKEN = "svc-e2e-token-8c1f2a"
LEASE = 6


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[BackgroundSandbox]:
    with BackgroundSandbox(SandboxConfig(service_token=SecretStr(TOKEN), seed=11)) as server:
        yield server


@pytest.fixture
def admin(sandbox_server: BackgroundSandbox) -> Iterator[Admin]:
    with clean_admin(sandbox_server.url, TOKEN) as admin:
        yield admin


@pytest.fixture
def env(processes: Processes, sandbox_server: BackgroundSandbox) -> dict[str, str]:
    """The workers' environment: short leases and backoffs so that failures play out fast."""
    processes.env.update(
        {
            "FLEET_GALLERY__URL": sandbox_server.url,
            "FLEET_GALLERY__TOKEN": TOKEN,
            "FLEET_TASKS__MAX_RETRIES": "6",
            "FLEET_TASKS__LEASE_SECONDS": str(LEASE),
            "FLEET_TASKS__SWEEP_INTERVAL_SECONDS": "1",
            "FLEET_TASKS__SOFT_TIME_LIMIT_SECONDS": "20",
            "FLEET_TASKS__TIME_LIMIT_SECONDS": "30",
            "FLEET_TASKS__VISIBILITY_TIMEOUT_SECONDS": "40",
            "FLEET_ACTIONS__BACKOFF_BASE_SECONDS": "0.05",
            "FLEET_ACTIONS__BACKOFF_MAX_SECONDS": "0.5",
            "FLEET_ACTIONS__PAUSE_PROBE_SECONDS": "0.5",
            "FLEET_ACTIONS__MAX_DEFERRALS": "4",
            "FLEET_ACTIONS__GALLERY_REQUESTS_PER_SECOND": "1000",
            "FLEET_ACTIONS__BREAKER_THRESHOLD": "50",
            "FLEET_ACTIONS__FEED_SNAPSHOT_SECONDS": "0",
        }
    )
    del processes.env["FLEET_PERSONAS_DIR"]
    return processes.env


@pytest.fixture
def fleet(env: dict[str, str], pg_engine: Engine) -> Iterator[Fleet]:
    settings = Settings(
        database_url=env["FLEET_DATABASE_URL"],
        broker_url=REDIS_URL,
        redis_url=REDIS_URL,
        broker_key_prefix=env["FLEET_BROKER_KEY_PREFIX"],
        seed=7,
        gallery={"url": env["FLEET_GALLERY__URL"], "token": TOKEN},  # type: ignore[arg-type]
    )
    instance = bootstrap(settings, pg_engine)
    yield instance
    instance.close()


def start_worker(
    processes: Processes, name: str = "acts", *, pool: str = "prefork", concurrency: int = 4
) -> Any:
    return processes.start(
        name,
        "worker",
        "-Q",
        "ticks,content,engage",
        "-P",
        pool,
        "-c",
        str(concurrency),
        "--loglevel",
        "INFO",
        "-n",
        f"{name}-{os.getpid()}@%h",
    )


def crew(fleet: Fleet, count: int, persona: str = "social_media_marketer") -> list[Any]:
    """Active agents whose own ticks are a day away: the test decides what they do."""
    now = datetime.now(UTC)
    first = active_agents(fleet, count, persona, now=now)[0]
    with fleet.sessions.begin() as session:
        session.execute(update(Agent).values(next_tick_at=now + timedelta(days=1)))
        return list(
            session.execute(
                select(Agent.id, Agent.handle).where(Agent.id >= first).order_by(Agent.id)
            )
        )


class Orders:
    """Decided actions sent to the workers, as the tick task would send them."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet
        self.app = create_app(fleet.settings)
        self.keys: list[str] = []
        self._second = int(datetime.now(UTC).timestamp())

    def send(self, agent_id: int, action: str, *, times: int = 1) -> str:
        self._second += 1
        key = f"{agent_id}:{self._second}:{action}"
        due = datetime.fromtimestamp(self._second, UTC)
        activities.create_activity(
            self.fleet.sessions,
            agent_id,
            action,
            due,
            key,
            now=datetime.now(UTC),
            lease=timedelta(seconds=LEASE),
        )
        queue = "content" if action in ("post", "comment") else "engage"
        for _ in range(times):
            self.app.send_task(f"fleet.{action}", args=(key,), queue=queue)
        self.keys.append(key)
        return key

    def statuses(self) -> dict[str, str]:
        return {key: status for key, status, _ in self._ended()}

    def unsucceeded(self) -> list[tuple[str, str, str | None]]:
        """(key, status, error) of each order that did not succeed: why it did not."""
        return [row for row in self._ended() if row[1] != "succeeded"]

    def _ended(self) -> list[tuple[str, str, str | None]]:
        """(key, status, error) of each order the database holds."""
        with self.fleet.sessions() as session:
            rows = session.execute(
                select(
                    AgentActivity.idempotency_key, AgentActivity.status, AgentActivity.error
                ).where(AgentActivity.idempotency_key.in_(self.keys))
            )
            return [(key, status, error) for key, status, error in rows]

    def wait_all_terminal(self, timeout: float = 90) -> dict[str, str]:
        wait_for(
            lambda: (
                all(s != "pending" for s in self.statuses().values())
                and len(self.statuses()) == len(self.keys)
            ),
            timeout,
            "every action to end",
        )
        return self.statuses()


def books(fleet: Fleet, admin: Admin) -> tuple[Counter[str], Counter[str], dict[str, Any]]:
    """(succeeded activities by action, gallery effects by kind, the gallery's report)."""
    with fleet.sessions() as session:
        succeeded = Counter(
            dict(
                session.execute(
                    select(AgentActivity.action, func.count())
                    .where(AgentActivity.status == "succeeded")
                    .group_by(AgentActivity.action)
                ).all()
            )
        )
    report = admin.report()
    effects: Counter[str] = Counter()
    for user in report["users"]:
        effects["post"] += user["posts"]
        effects["like"] += user["likes"]
        effects["comment"] += user["comments"]
    return succeeded, effects, report


def assert_books_balance(fleet: Fleet, admin: Admin, *, like_flaps: bool = False) -> dict[str, Any]:
    """Gallery effects equal succeeded activities; no duplicate post or comment.

    Without idempotency keys a like retried after a lost answer toggles the post off and
    on again (``like_flaps``): allowed, as long as it ends liked, once. (A like that went
    dead with its answers lost may have left its like, or not: replayed, it is liked.)
    """
    succeeded, effects, report = books(fleet, admin)
    for kind in ("post", "like", "comment"):
        assert effects[kind] == succeeded[kind], (
            f"{kind}: gallery {effects[kind]}, ledger {succeeded[kind]}"
        )
    duplicates = report["duplicates"]
    assert not duplicates["posts"] and not duplicates["comments"], duplicates
    if like_flaps:
        assert all(flap["liked"] for flap in duplicates["likes"]), duplicates["likes"]
    else:
        assert not duplicates["likes"], duplicates["likes"]
    return report


def test_each_action_reaches_the_gallery_once(
    processes: Processes, fleet: Fleet, admin: Admin
) -> None:
    start_worker(processes)
    (author, author_handle), (fan, fan_handle) = crew(fleet, 2)
    # What `fleet activity tail` follows: one event per finished action.
    heard: list[dict[str, Any]] = []

    def listen() -> None:
        for event in fleet.activity_channel.follow(timeout=60):
            heard.append(event)
            if len(heard) == 4:
                return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    wait_for(
        lambda: fleet.redis.pubsub_numsub(fleet.activity_channel.name)[0][1] > 0,
        60,
        "the listener to follow fleet:activity",
        every=0.01,
    )
    orders = Orders(fleet)
    orders.send(author, "post")
    orders.wait_all_terminal()
    for action in ("like", "comment", "browse"):
        orders.send(fan, action)
    statuses = orders.wait_all_terminal()
    assert list(statuses.values()) == ["succeeded"] * 4
    report = assert_books_balance(fleet, admin)
    by_user = {u["username"]: u for u in report["users"]}
    assert by_user[author_handle]["posts"] == 1
    assert (by_user[fan_handle]["likes"], by_user[fan_handle]["comments"]) == (1, 1)
    shown = agents.get_agent(fleet.sessions, str(fan))
    assert shown.actions == {"like": 1, "comment": 1, "browse": 1}
    listener.join(timeout=30)
    assert sorted((e["key"], e["status"], e["handle"]) for e in heard) == sorted(
        (key, "succeeded", author_handle if key.startswith(f"{author}:") else fan_handle)
        for key in orders.keys
    )


def test_likes_sent_one_message_each_are_carried_out_together_and_once(
    processes: Processes, fleet: Fleet, admin: Admin
) -> None:
    """A like or a browse alone is a message of its own; the worker hands those it holds
    at once to one pool process together (``fleet.worker.coalescing``), each settled and
    acknowledged on its own, a copy delivered twice in the same batch done once."""
    processes.env["FLEET_TASKS__COALESCE_SECONDS"] = "0.05"
    # Twelve likes of one post: above the default cap of bot likes per post an hour (10),
    # the eleventh would be refused ("had enough from the fleet"), which is not this test's.
    processes.env["FLEET_ACTIONS__BOT_ENGAGEMENTS_PER_POST_PER_HOUR"] = "20"
    members = crew(fleet, 13)
    orders = Orders(fleet)
    orders.send(members[0][0], "post")
    start_worker(processes)
    orders.wait_all_terminal()
    for agent_id, _ in members[1:]:
        orders.send(agent_id, "like", times=2 if agent_id == members[1][0] else 1)
        orders.send(agent_id, "browse")
    statuses = orders.wait_all_terminal()
    assert Counter(statuses.values()) == Counter({"succeeded": 25}), orders.unsucceeded()
    _succeeded, effects, _ = books(fleet, admin)
    assert effects["like"] == 12
    assert_books_balance(fleet, admin)
    log = (processes.logs / "acts.log").read_text(encoding="utf-8", errors="replace")
    coalesced = [line for line in log.splitlines() if "batch done" in line and "coalesced" in line]
    assert coalesced, "no like or browse was carried out in a coalesced batch"
    # Every message was acknowledged: nothing is left unacknowledged for a redelivery.
    prefix = fleet.settings.broker_key_prefix
    wait_for(
        lambda: not fleet.redis.hlen(f"{prefix}unacked"),
        30,
        "every message to be acknowledged",
    )


def test_the_same_message_delivered_twice_gives_one_effect(
    processes: Processes, fleet: Fleet, admin: Admin
) -> None:
    start_worker(processes)
    members = crew(fleet, 4)
    orders = Orders(fleet)
    for agent_id, _ in members[:2]:
        orders.send(agent_id, "post", times=2)
    orders.wait_all_terminal()
    for agent_id, _ in members[2:]:
        orders.send(agent_id, "like", times=3)
        orders.send(agent_id, "comment", times=2)
    statuses = orders.wait_all_terminal()
    assert Counter(statuses.values()) == Counter({"succeeded": 6})
    _succeeded, effects, _ = books(fleet, admin)
    assert effects == Counter({"post": 2, "like": 2, "comment": 2})
    assert_books_balance(fleet, admin)


@pytest.mark.parametrize("keys_on", [True, False], ids=["idempotency-keys", "no-idempotency-keys"])
def test_lost_answers_neither_duplicate_nor_lose_an_effect(
    processes: Processes, fleet: Fleet, admin: Admin, keys_on: bool
) -> None:
    admin.idempotency(keys_on)
    start_worker(processes)
    members = crew(fleet, 8)
    orders = Orders(fleet)
    for agent_id, _ in members[:4]:
        orders.send(agent_id, "post")
    orders.wait_all_terminal()
    # Three answers in ten are lost after the gallery committed the effect.
    admin.faults(
        loseAnswerRates={"execute": 0.3, "create_post": 0.3, "like": 0.3, "create_comment": 0.3}
    )
    for agent_id, _ in members:
        orders.send(agent_id, "post")
        orders.send(agent_id, "like")
        orders.send(agent_id, "comment")
    statuses = orders.wait_all_terminal(timeout=150)
    admin.faults()
    assert "pending" not in statuses.values()
    assert Counter(statuses.values())["succeeded"] >= len(statuses) * 0.8
    # An action whose answers were lost until its retries ran out is dead, its effect
    # perhaps on the gallery (a like's toggle answers are the only way to read it). The
    # repair, once the fault is gone, is the replay: it finds or makes the effect, once.
    letters = [str(letter.id) for letter in activities.list_dead_letters(fleet.sessions)]
    if letters:
        result = CliRunner().invoke(cli, ["dlq", "replay", *letters], obj=fleet)
        assert result.exit_code == 0, result.output
    assert "dead" not in orders.wait_all_terminal().values()
    assert_books_balance(fleet, admin, like_flaps=not keys_on)


@pytest.mark.parametrize("pool", ["threads", "prefork"])
def test_a_worker_killed_mid_run_leaves_every_action_terminal_once(
    processes: Processes, fleet: Fleet, admin: Admin, pool: str
) -> None:
    """SIGKILL to the worker and its pool's processes at once (a killed container), then
    a new worker: prefork is how compose runs the action workers."""
    admin.faults(latencyMs=150)
    worker = start_worker(processes, "doomed", pool=pool)
    processes.start(
        "beat", "beat", "--schedule", str(processes.logs / "beat-schedule"), "--loglevel", "INFO"
    )
    members = crew(fleet, 10)
    orders = Orders(fleet)
    for agent_id, _ in members:
        orders.send(agent_id, "post")
    orders.wait_all_terminal()
    for agent_id, _ in members:
        orders.send(agent_id, "like")
        orders.send(agent_id, "comment")
        orders.send(agent_id, "browse")
    wait_for(
        lambda: Counter(orders.statuses().values())["succeeded"] >= 15,
        60,
        "some actions to succeed",
    )
    processes.kill(worker)
    assert "pending" in orders.statuses().values(), "the kill interrupted the run"
    start_worker(processes, "heir", pool=pool)
    statuses = orders.wait_all_terminal(timeout=120)
    admin.faults()
    assert "pending" not in statuses.values()
    assert_books_balance(fleet, admin)


@pytest.mark.parametrize("pool", ["threads", "prefork"])
def test_a_worker_cuts_an_action_at_its_soft_time_limit_and_the_retry_lands_once(
    processes: Processes, fleet: Fleet, admin: Admin, pool: str
) -> None:
    """Both pools production runs actions in enforce the soft time limit (prefork by
    billiard's signal, threads by Fleet's watchdog: Celery's threads pool alone does not):
    a like stuck past the soft limit is cut, counted as a failed attempt and retried, and
    lands once. Each gallery call has its own deadline under the
    soft limit (a setting checked at start), so the like is slowed call by call: three
    calls of 0.7 s (its account, the feed, the like), each within its 1 s deadline, add up
    past the 1.5 s soft limit."""
    processes.env.update(
        {
            "FLEET_TASKS__SOFT_TIME_LIMIT_SECONDS": "1.5",
            "FLEET_TASKS__TIME_LIMIT_SECONDS": "10",
            # A publish to a silent broker must give up within the soft limit.
            "FLEET_TASKS__REDIS_TIMEOUT_SECONDS": "0.3",
            "FLEET_GALLERY__TIMEOUT_SECONDS": "1",
        }
    )
    start_worker(processes, pool=pool, concurrency=2)
    (author, _), (fan, _) = crew(fleet, 2)
    orders = Orders(fleet)
    orders.send(author, "post")
    orders.wait_all_terminal()
    admin.faults(latencyMs=700)
    key = orders.send(fan, "like")

    def cut() -> tuple[int, str]:
        with fleet.sessions() as session:
            attempts, error = session.execute(
                select(AgentActivity.attempts, AgentActivity.error).where(
                    AgentActivity.idempotency_key == key
                )
            ).one()
        return attempts, error or ""

    wait_for(lambda: cut()[0] >= 1, 30, "the soft time limit to cut the like", every=0.05)
    admin.faults()
    assert cut()[1].startswith("TimeLimitExceeded")  # Fleet's interrupt, both pools
    assert orders.wait_all_terminal() == {key: "succeeded"} | {orders.keys[0]: "succeeded"}
    assert_books_balance(fleet, admin)


def pool_children(worker: subprocess.Popen[bytes]) -> set[int]:
    """The pool processes of a prefork worker now (its main process's children)."""
    return set(_children(worker.pid))


def test_a_pool_process_is_replaced_by_a_fresh_fork_after_its_tasks_and_nothing_is_lost(
    processes: Processes, fleet: Fleet, admin: Admin
) -> None:
    """``FLEET_TASKS__MAX_TASKS_PER_CHILD``: the one pool process runs two tasks, then a
    fresh fork takes its place (what a child copied of its parent's pages and kept for
    itself goes with it), and every action still lands once."""
    processes.env["FLEET_TASKS__MAX_TASKS_PER_CHILD"] = "2"
    worker = start_worker(processes, pool="prefork", concurrency=1)
    (author, _), *fans = crew(fleet, 4)
    orders = Orders(fleet)
    orders.send(author, "post")
    orders.wait_all_terminal()
    wait_for(lambda: len(pool_children(worker)) == 1, 30, "the pool's one process")
    first = pool_children(worker)
    for fan, _ in fans:
        orders.send(fan, "like")
        orders.wait_all_terminal()
    statuses = orders.wait_all_terminal()
    assert set(statuses.values()) == {"succeeded"}, orders.unsucceeded()
    wait_for(lambda: len(pool_children(worker)) == 1, 30, "the pool's one process")
    assert pool_children(worker).isdisjoint(first), "the pool process was never replaced"
    assert_books_balance(fleet, admin)


KINDS = ("post", "comment", "like", "browse")


def test_the_pause_defers_every_action_and_never_dead_letters_it(
    processes: Processes, fleet: Fleet, admin: Admin
) -> None:
    """Each kind in turn meets the paused gallery itself (the hold it left is lifted before
    the next kind is sent, or the next would only wait on the hold); one worker for all."""
    start_worker(processes)
    (author, _), *actors = crew(fleet, 1 + len(KINDS))
    orders = Orders(fleet)
    orders.send(author, "post")
    orders.wait_all_terminal()
    for action, (actor, _) in zip(KINDS, actors, strict=True):
        admin.pause(True)
        key = orders.send(actor, action)
        wait_for(
            lambda actor=actor: (
                activities.list_activities(
                    fleet.sessions, activities.ActivityFilter(agent_id=actor)
                )[0].status
                != "pending"
                or _held(fleet)
            ),
            30,
            f"the fleet to be held by a paused {action}",
        )
        assert _held(fleet), action
        admin.pause(False)
        statuses = orders.wait_all_terminal()
        assert statuses[key] in ("succeeded", "skipped"), action
        with fleet.sessions() as session:
            assert session.scalar(select(func.count()).select_from(DeadLetter)) == 0, action
            attempts = session.scalar(
                select(AgentActivity.attempts).where(AgentActivity.idempotency_key == key)
            )
            assert attempts == 0, action
        activities.release_holds(fleet.sessions)
    assert_books_balance(fleet, admin)


def _held(fleet: Fleet) -> bool:
    with fleet.sessions() as session:
        return activities.active_hold(session, datetime.now(UTC) - timedelta(seconds=5)) is not None


def test_an_agent_budget_answer_defers_the_agent_in_every_action(
    processes: Processes, fleet: Fleet, admin: Admin
) -> None:
    """One actor per kind, each with a budget of 0: every kind is skipped and its agent waits."""
    start_worker(processes)
    (author, _), *actors = crew(fleet, 1 + len(KINDS))
    orders = Orders(fleet)
    orders.send(author, "post")
    orders.wait_all_terminal()
    admin.budgets(perAgent={handle: 0 for _, handle in actors}, everyCall=True)
    keys = {
        action: orders.send(actor, action) for action, (actor, _) in zip(KINDS, actors, strict=True)
    }
    statuses = orders.wait_all_terminal()
    assert {action: statuses[key] for action, key in keys.items()} == dict.fromkeys(
        KINDS, "skipped"
    )
    midnight = (datetime.now(UTC) + timedelta(days=1)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    for action, (actor, _) in zip(KINDS, actors, strict=True):
        shown = agents.get_agent(fleet.sessions, str(actor))
        assert shown.next_tick_at == midnight, f"the {action} agent waits for its budget's reset"
    with fleet.sessions() as session:
        assert session.scalar(select(func.count()).select_from(DeadLetter)) == 0
    assert_books_balance(fleet, admin)


def test_a_dead_letter_replayed_after_the_fault_is_removed_succeeds_once(
    processes: Processes, fleet: Fleet, admin: Admin, tmp_path: Path
) -> None:
    start_worker(processes)
    (author, _), (fan, _) = crew(fleet, 2)
    orders = Orders(fleet)
    orders.send(author, "post")
    orders.wait_all_terminal()
    admin.faults(errorRates={"like": 1.0})
    key = orders.send(fan, "like")
    assert orders.wait_all_terminal()[key] == "dead"
    letters = activities.list_dead_letters(fleet.sessions)
    assert [letter.arguments["key"] for letter in letters] == [key]
    admin.faults()
    result = CliRunner().invoke(cli, ["dlq", "replay", str(letters[0].id)], obj=fleet)
    assert result.exit_code == 0, result.output
    assert orders.wait_all_terminal()[key] == "succeeded"
    _, effects, _ = books(fleet, admin)
    assert effects["like"] == 1
    assert_books_balance(fleet, admin)
