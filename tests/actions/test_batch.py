"""Batches of cheap actions: one claim statement and one finish statement for a batch of
likes and browses, each action still ending once under its own key; a redelivered or
concurrent copy of a batch does nothing twice; a failing action leaves the batch alone,
as a message of its own with its backoff. The sandbox over HTTP, on Postgres and SQLite
(the demo's), and the batch task on the real Redis."""

from __future__ import annotations

import json
import re
from base64 import b64decode
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from celery import Celery
from sqlalchemy import Engine, event, select

from fleet import activities, agents
from fleet.actions import ActionKit, Outcome
from fleet.actions.feed_snapshot import FeedSnapshot
from fleet.actions.following import PublicPage
from fleet.actions.handlers import choosing
from fleet.actions.interests import Interests
from fleet.actions.kit import Limits, Targeting
from fleet.actions.perform import perform_batch
from fleet.content.offline.writer import OfflineWriter
from fleet.content.port import Usage
from fleet.core.kinds import BATCH_TASKS, KINDS, Action, ActionKey
from fleet.core.taste import Weights
from fleet.db.engine import autocommit
from fleet.db.models import AgentActivity, Engagement
from fleet.errors import TransientError
from fleet.gallery.client import HttpGallery
from fleet.gallery.port import Liked
from fleet.infra.queue import create_app, send_actions
from fleet.service.root import Fleet
from fleet.settings import ActionSettings
from tests.actions.test_like_first_choice import report_likes
from tests.conftest import active_agents, count_target_keeps
from tests.gallery.conftest import Admin

LEASE = timedelta(minutes=5)


def test_the_registry_batches_likes_and_browses_on_the_engage_queue_only() -> None:
    assert {k.action for k in KINDS.values() if k.batchable} == {Action.LIKE, Action.BROWSE}
    assert BATCH_TASKS == {"engage": "fleet.engage_batch"}


def _posts(gallery: HttpGallery, fleet: Fleet, author: int, count: int) -> list[str]:
    handle = agents.get_agent(fleet.sessions, str(author)).handle
    gallery.provision_user(handle=handle, name="Author", persona="social_media_marketer")
    return [
        gallery.create_post(
            agent=handle,
            image_url="http://example.test/i.png",
            title=f"Post {n}",
            description="d",
            idempotency_key=f"seed-{n}",
        ).id
        for n in range(count)
    ]


def _kit(fleet: Fleet, gallery: Any) -> ActionKit:
    return ActionKit(
        sessions=fleet.sessions,
        personas=fleet.personas,
        gallery=gallery,
        writer=OfflineWriter(),
        settings=ActionSettings(human_share=0.0),
        limits=Limits(LEASE),
        targeting=Targeting(feed_snapshot=FeedSnapshot(3600.0)),
    )


def parsed(keys: list[str]) -> list[ActionKey[Action]]:
    """Keys as a task's entry hands them on: parsed."""
    return [ActionKey.parse(key) for key in keys]


def texts(done: dict[ActionKey[Action], Outcome]) -> dict[str, Outcome]:
    """A batch's outcomes by the keys' text (as the ledger and these tests name them)."""
    return {key.text: outcome for key, outcome in done.items()}


def _decided(fleet: Fleet, agent_ids: list[int], action: str, now: datetime) -> list[str]:
    keys = []
    for second, agent_id in enumerate(agent_ids, start=1):
        due = now + timedelta(seconds=second)
        key = f"{agent_id}:{int(due.timestamp())}:{action}"
        activities.create_activity(fleet.sessions, agent_id, action, due, key, now=now, lease=LEASE)
        keys.append(key)
    return keys


@pytest.fixture
def statements(fleet: Fleet) -> Iterator[list[str]]:
    """The SQL statements run on the fleet's database while the test runs (its engine's
    and its autocommit engine's)."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    engines = {fleet.engine, autocommit(fleet.sessions)}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    yield seen
    for engine in engines:
        event.remove(engine, "before_cursor_execute", record)


def test_a_batch_claims_once_finishes_once_and_each_action_lands_once(
    fleet: Fleet, gallery: HttpGallery, admin: Admin, engine: Engine, statements: list[str]
) -> None:
    now = datetime.now(UTC)
    author, *fans = active_agents(fleet, 7, now=now)
    posts = _posts(gallery, fleet, author, 4)
    likes = _decided(fleet, fans, "like", now)
    browses = _decided(fleet, fans[:3], "browse", now + timedelta(minutes=1))
    kit = _kit(fleet, gallery)

    statements.clear()
    done = texts(perform_batch(kit, parsed(likes + browses), threads=4))

    assert {key: getattr(o, "status", o) for key, o in done.items()} == {
        key: "succeeded" for key in likes + browses
    }
    claims = [s for s in statements if "deliveries" in s and s.lstrip().startswith("UPDATE")]
    finishes = [s for s in statements if re.search(r"finished_at\s*=", s)]
    if engine.dialect.name == "postgresql":
        assert (len(claims), len(finishes)) == (1, 1)
    else:  # SQLite (the demo) takes them one by one
        assert len(finishes) == 9
    with fleet.sessions() as session:
        rows = session.execute(
            select(AgentActivity.idempotency_key, AgentActivity.status, AgentActivity.result)
        ).all()
        assert {key: status for key, status, _ in rows} == {k: "succeeded" for k in likes + browses}
        liked = {key: result["post_id"] for key, _, result in rows if key.endswith(":like")}
        ledger = session.execute(select(Engagement.agent_id, Engagement.target_id)).all()
    assert sorted(ledger) == sorted((int(k.split(":")[0]), p) for k, p in liked.items())
    assert set(liked.values()) <= set(posts)
    handles = [agents.get_agent(fleet.sessions, str(f)).handle for f in fans]
    assert sum(report_likes(admin, h) for h in handles) == len(likes)

    # The same batch delivered again: nothing is done twice.
    again = texts(perform_batch(kit, parsed(likes + browses), threads=4))
    assert {getattr(o, "status", o) for o in again.values()} == {"already-finished"}
    assert sum(report_likes(admin, h) for h in handles) == len(likes)


def test_an_action_another_delivery_holds_is_left_to_it(
    fleet: Fleet, gallery: HttpGallery, admin: Admin
) -> None:
    now = datetime.now(UTC)
    author, *fans = active_agents(fleet, 4, now=now)
    _posts(gallery, fleet, author, 3)
    likes = _decided(fleet, fans, "like", now)
    kit = _kit(fleet, gallery)
    # A copy of the batch (or a single message of one of its likes) is running.
    held = activities.claim(fleet.sessions, ActionKey.parse(likes[0]), now=now, lease=LEASE)
    assert isinstance(held, activities.Claim)

    done = texts(perform_batch(kit, parsed(likes), threads=2))

    assert getattr(done[likes[0]], "status", None) == "held-elsewhere"
    assert [getattr(done[k], "status", None) for k in likes[1:]] == ["succeeded"] * 2
    with fleet.sessions() as session:
        first = session.scalars(
            select(AgentActivity).where(AgentActivity.idempotency_key == likes[0])
        ).one()
        assert (first.status, first.deliveries) == ("pending", 1)


class FailingFor:
    """The gallery, failing (transiently) the likes of one key."""

    def __init__(self, inner: HttpGallery, key: str) -> None:
        self.inner, self.key, self.calls = inner, key, 0

    def like(self, *, agent: str, post_id: str, idempotency_key: str) -> Liked:
        if idempotency_key == self.key:
            self.calls += 1
            raise TransientError("the gallery timed out")
        return self.inner.like(agent=agent, post_id=post_id, idempotency_key=idempotency_key)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_failing_action_leaves_the_batch_as_a_message_of_its_own_with_its_backoff(
    pg_engine: Engine,
    fleet_on_redis: Fleet,
    gallery: HttpGallery,
    admin: Admin,
    redis_keys: str,
) -> None:
    fleet = fleet_on_redis
    now = datetime.now(UTC)
    author, *fans = active_agents(fleet, 5, now=now)
    _posts(gallery, fleet, author, 3)
    likes = _decided(fleet, fans, "like", now)
    failing = FailingFor(gallery, likes[1])
    kit = fleet.action_kit
    kit.gallery = failing  # type: ignore[assignment]
    app: Celery = create_app(fleet.settings)
    app.conf.fleet = fleet
    from fleet.worker import tasks  # noqa: F401 - registers the tasks on the app

    # A string that is no key (parsed at the task's entry) is told apart, not the batch's end.
    tally = app.tasks["fleet.engage_batch"].apply(args=([*likes, "not-a-key"],)).get()

    assert tally == {"succeeded": 3, "retry": 1, "unknown": 1}
    assert failing.calls == 1
    with fleet.sessions() as session:
        failed = session.scalars(
            select(AgentActivity).where(AgentActivity.idempotency_key == likes[1])
        ).one()
        # Its own attempt counted, its claim let go for its retry; the batch never retries.
        assert (failed.status, failed.attempts, failed.claimed_by) == ("pending", 1, None)
    (message,) = fleet.redis.lrange(f"{redis_keys}:engage", 0, -1)
    sent = json.loads(message)
    assert sent["headers"]["task"] == "fleet.like"
    assert json.loads(b64decode(sent["body"]))[0] == [likes[1]]
    assert sent["headers"]["retries"] == 1


def test_the_tick_sends_cheap_actions_in_batches_of_the_setting_and_others_alone(
    fleet_on_redis: Fleet, redis_keys: str
) -> None:
    app = create_app(fleet_on_redis.settings)
    likes = [f"1:{n}:like" for n in range(7)]
    browses = [f"2:{n}:browse" for n in range(2)]
    send_actions(app, parsed([*likes, "3:1:post", *browses]), batch_size=4)

    def messages(queue: str) -> list[tuple[str, Any]]:
        raw = fleet_on_redis.redis.lrange(f"{redis_keys}:{queue}", 0, -1)
        decoded = [json.loads(m) for m in reversed(raw)]
        return [(m["headers"]["task"], json.loads(b64decode(m["body"]))[0]) for m in decoded]

    engage = messages("engage")
    batches = [args[0] for task, args in engage if task == "fleet.engage_batch"]
    # Nine keys in fours: two batches, and the one left over goes alone to its kind's task.
    assert [len(b) for b in batches] == [4, 4]
    alone = [(task, args[0]) for task, args in engage if task != "fleet.engage_batch"]
    assert alone == [("fleet.browse", "2:1:browse")]
    assert sorted([k for b in batches for k in b] + ["2:1:browse"]) == sorted(likes + browses)
    assert [task for task, _ in messages("content")] == ["fleet.post"]
    # Batches of one (the setting at 1): every action alone, as before.
    fleet_on_redis.redis.delete(f"{redis_keys}:engage")
    send_actions(app, parsed(likes[:2]), batch_size=1)
    assert [task for task, _ in messages("engage")] == ["fleet.like", "fleet.like"]


def test_a_batch_refuses_a_kind_that_is_not_batchable(fleet: Fleet, gallery: HttpGallery) -> None:
    with pytest.raises(ValueError, match="not of a batchable kind"):
        perform_batch(_kit(fleet, gallery), parsed(["1:2:post"]), threads=1)


def test_the_likes_of_a_batch_keep_posts_chosen_before_the_claim_in_the_claim_itself(
    fleet: Fleet, gallery: HttpGallery, admin: Admin, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC)
    author, *fans = active_agents(fleet, 7, now=now)
    posts = _posts(gallery, fleet, author, 6)
    kit = _kit(fleet, gallery)
    # A young feed page at hand (the process's snapshot): the likes choose before the claim.
    author_handle = agents.get_agent(fleet.sessions, str(author)).handle
    assert len(kit.targeting.feed_snapshot.page(choosing(kit), author_handle)) == 6
    keeps = count_target_keeps(monkeypatch)
    likes = _decided(fleet, fans, "like", now)

    done = texts(perform_batch(kit, parsed(likes), threads=3))

    assert [getattr(done[k], "status", None) for k in likes] == ["succeeded"] * 6
    if fleet.engine.dialect.name == "postgresql":
        assert keeps == [], "a like chose its post after the claim"
    with fleet.sessions() as session:
        ledger = session.execute(select(Engagement.agent_id, Engagement.target_id)).all()
    assert sorted(a for a, _ in ledger) == sorted(fans)
    assert {p for _, p in ledger} <= set(posts)
    handles = [agents.get_agent(fleet.sessions, str(f)).handle for f in fans]
    assert sum(report_likes(admin, h) for h in handles) == 6


def test_a_batch_chooses_knowing_the_ledger_posts_its_agents_have_not_liked_yet(
    fleet: Fleet, gallery: HttpGallery, admin: Admin, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC)
    author, *fans = active_agents(fleet, 5, now=now)
    posts = _posts(gallery, fleet, author, 4)
    kit = _kit(fleet, gallery)
    author_handle = agents.get_agent(fleet.sessions, str(author)).handle
    assert len(kit.targeting.feed_snapshot.page(choosing(kit), author_handle)) == 4
    first = texts(perform_batch(kit, parsed(_decided(fleet, fans, "like", now)), threads=2))
    assert {getattr(o, "status", o) for o in first.values()} == {"succeeded"}
    keeps = count_target_keeps(monkeypatch)
    # Two more likes of every fan in one batch: each one a post that fan has not liked.
    likes = _decided(fleet, fans + fans, "like", now + timedelta(minutes=1))

    done = texts(perform_batch(kit, parsed(likes), threads=3))

    assert [getattr(done[k], "status", None) for k in likes] == ["succeeded"] * len(likes)
    if fleet.engine.dialect.name == "postgresql":
        assert keeps == [], "a first choice was refused: a like chose again after its claim"
    with fleet.sessions() as session:
        ledger = session.execute(select(Engagement.agent_id, Engagement.target_id)).all()
    assert sorted(a for a, _ in ledger) == sorted(fans * 3)
    assert len(set(ledger)) == len(ledger) and {p for _, p in ledger} <= set(posts)
    handles = [agents.get_agent(fleet.sessions, str(f)).handle for f in fans]
    assert sum(report_likes(admin, h) for h in handles) == 3 * len(fans)


def test_a_process_new_to_the_agents_chooses_their_likes_by_taste_before_the_claim(
    fleet: Fleet, gallery: HttpGallery, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Taste needs each agent's persona: the batch's one read of the ledger brings it, so a
    # worker child that has claimed nothing of these agents yet spares every like a read
    # and a choice after its claim.
    now = datetime.now(UTC)
    author, *fans = active_agents(fleet, 5, now=now)
    _posts(gallery, fleet, author, 4)
    kit = _kit(fleet, gallery)
    kit.targeting = replace(kit.targeting, taste=Weights(), interests=Interests(None))
    author_handle = agents.get_agent(fleet.sessions, str(author)).handle
    assert len(kit.targeting.feed_snapshot.page(choosing(kit), author_handle)) == 4
    assert all(kit.targeting.interests.persona_of(fan) is None for fan in fans)  # type: ignore[union-attr]
    keeps = count_target_keeps(monkeypatch)
    likes = _decided(fleet, fans, "like", now)

    done = texts(perform_batch(kit, parsed(likes), threads=2))

    assert [getattr(done[k], "status", None) for k in likes] == ["succeeded"] * len(likes)
    if fleet.engine.dialect.name == "postgresql":
        assert keeps == [], "a like chose its post after the claim"
    taken = activities.taken_by(fleet.sessions, fans, "like", ["none"], since=now)
    assert set(taken.personas) == set(fans)
    assert set(taken.personas.values()) <= {p.slug for p in fleet.personas}


class _Charges:
    """A budget that keeps what it was charged, and how many times."""

    def __init__(self) -> None:
        self.rounds: list[list[tuple[int, Usage]]] = []

    def refusal(self, agent_id: int) -> str | None:
        return None

    def record(self, agent_id: int, usage: Usage) -> None:
        self.rounds.append([(agent_id, usage)])

    def record_many(self, spent: Sequence[tuple[int, Usage]]) -> None:
        self.rounds.append(list(spent))


def test_a_batch_charges_its_browses_thoughts_at_once_and_keeps_each_ones_usage(
    fleet: Fleet, gallery: HttpGallery, engine: Engine
) -> None:
    now = datetime.now(UTC)
    author, *fans = active_agents(fleet, 9, now=now)
    _posts(gallery, fleet, author, 2)
    browses = _decided(fleet, fans, "browse", now)
    # One of them kept a usage from an earlier delivery: this one's is added to it.
    with fleet.sessions.begin() as session:
        earlier = session.scalars(
            select(AgentActivity).where(AgentActivity.idempotency_key == browses[0])
        ).one()
        earlier.usage = {"model": "offline", "calls": 2, "input_tokens": 5, "cost_usd": 0.0}
    charges = _Charges()
    kit = replace(_kit(fleet, gallery), limits=Limits(LEASE, spending=charges))

    done = texts(perform_batch(kit, parsed(browses), threads=4))

    assert {getattr(o, "status", o) for o in done.values()} == {"succeeded"}
    assert len(charges.rounds) == 1  # one round trip for the batch
    charged = {agent_id: usage for agent_id, usage in charges.rounds[0]}
    with fleet.sessions() as session:
        rows = session.execute(
            select(AgentActivity.idempotency_key, AgentActivity.usage, AgentActivity.result).where(
                AgentActivity.idempotency_key.in_(browses)
            )
        ).all()
    usage = {key: spent for key, spent, _ in rows}
    # The offline writer thinks now and then (seven looks in ten): a look without a
    # thought spends nothing and is charged nothing.
    thinking = [key for key, _, result in rows if result.get("thought") is not None]
    assert thinking, "no look at the feed left a thought"
    assert sorted(charged) == sorted(int(key.split(":")[0]) for key in thinking)
    for key in browses[1:]:
        expected = charged[int(key.split(":")[0])].calls if key in thinking else None
        assert (usage[key] or {}).get("calls") == expected
    if browses[0] in thinking:
        first = charged[int(browses[0].split(":")[0])]
        assert usage[browses[0]]["calls"] == 2 + first.calls
        assert usage[browses[0]]["input_tokens"] == 5 + first.input_tokens
    else:
        assert usage[browses[0]]["calls"] == 2, "an earlier delivery's usage is kept"


class _CountingWriter(OfflineWriter):
    """The offline writer, counting the thoughts it is asked for, by the author's handle."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    def think(self, persona: Any, author: Any, seen: Any, *, nonce: int) -> Any:
        self.asked.append(author.handle)
        return super().think(persona, author, seen, nonce=nonce)


def test_a_look_the_dispatcher_marked_thinks_false_asks_the_writer_nothing(
    fleet: Fleet, gallery: HttpGallery
) -> None:
    now = datetime.now(UTC)
    author, *fans = active_agents(fleet, 7, now=now)
    _posts(gallery, fleet, author, 2)
    browses = _decided(fleet, fans, "browse", now)
    quiet = set(browses[::2])
    with fleet.sessions.begin() as session:
        for row in session.scalars(
            select(AgentActivity).where(AgentActivity.idempotency_key.in_(quiet))
        ):
            row.content = {"thinks": False}
    writer = _CountingWriter()
    done = texts(
        perform_batch(replace(_kit(fleet, gallery), writer=writer), parsed(browses), threads=2)
    )
    assert {getattr(o, "status", o) for o in done.values()} == {"succeeded"}
    handles = {key: agents.get_agent(fleet.sessions, key.split(":")[0]).handle for key in browses}
    assert sorted(writer.asked) == sorted(handles[k] for k in browses if k not in quiet)
    with fleet.sessions() as session:
        rows = session.execute(
            select(AgentActivity.idempotency_key, AgentActivity.usage, AgentActivity.result).where(
                AgentActivity.idempotency_key.in_(quiet)
            )
        ).all()
    assert rows and all(usage is None and result["thought"] is None for _, usage, result in rows)
    assert all(result["seen"] for _, _, result in rows)  # it still looked at the feed


class _CountingFeeds:
    """A gallery that counts its feed reads (public and home) by the agent reading."""

    def __init__(self, inner: HttpGallery) -> None:
        self._inner = inner
        self.public: list[str] = []
        self.home: list[str] = []

    def feed(self, *, agent: str, **kwargs: Any) -> Any:
        self.public.append(agent)
        return self._inner.feed(agent=agent, **kwargs)

    def home_feed(self, *, agent: str, **kwargs: Any) -> Any:
        self.home.append(agent)
        return self._inner.home_feed(agent=agent, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_a_batch_of_looks_reads_the_public_page_once_and_each_agents_home_feed(
    fleet: Fleet, gallery: HttpGallery
) -> None:
    now = datetime.now(UTC)
    author, *fans = active_agents(fleet, 5, now=now)
    _posts(gallery, fleet, author, 2)
    # One of the lookers posted too: its own post is on the public page it shares with the
    # others, and left out of what it saw.
    (own,) = _posts(gallery, fleet, fans[0], 1)
    browses = _decided(fleet, fans, "browse", now)
    counting = _CountingFeeds(gallery)

    done = texts(perform_batch(_kit(fleet, counting), parsed(browses), threads=4))

    assert {getattr(o, "status", o) for o in done.values()} == {"succeeded"}
    handles = {agents.get_agent(fleet.sessions, str(f)).handle for f in fans}
    assert len(counting.public) == 1 and counting.public[0] in handles
    assert sorted(counting.home) == sorted(handles)  # whom each follows: its own read
    with fleet.sessions() as session:
        seen = dict(
            session.execute(
                select(AgentActivity.idempotency_key, AgentActivity.result).where(
                    AgentActivity.idempotency_key.in_(browses)
                )
            ).all()
        )
    assert own not in seen[browses[0]]["seen"]
    assert all(own in seen[key]["seen"] for key in browses[1:])


class _FailingOnce:
    def __init__(self) -> None:
        self.reads = 0

    def feed(self, *, agent: str, limit: int, sort: str) -> list[str]:
        self.reads += 1
        if self.reads == 1:
            raise TransientError("the gallery is busy")
        return [f"read by {agent}"]


def test_the_public_page_a_delivery_shares_is_kept_once_read_and_a_failed_read_is_not() -> None:
    gallery = _FailingOnce()
    page = PublicPage(gallery, 20)  # type: ignore[arg-type]
    with pytest.raises(TransientError):
        page.read("first")
    assert page.read("second") == ["read by second"]  # read again, not the failure kept
    assert page.read("third") == ["read by second"]
    assert gallery.reads == 2
