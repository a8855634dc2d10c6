"""The action-ended event (``fleet.actions.perform``, an ``EventHook`` of
``fleet.actions.events``): its listeners run isolated, after the ends commit, so one that
raises loses no ending, skips no other listener and leaves the batch's settling to
happen; and every way an action ends fires it (succeeded, skipped, drafted, dead)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from structlog.testing import capture_logs

from fleet import activities
from fleet.actions import ActionKit
from fleet.actions.events import EventHook
from fleet.actions.failures import settle
from fleet.actions.kit import Authorship, LiveFeed, PublishingRules
from fleet.actions.perform import LISTENERS, Ending, perform_batch
from fleet.activities.outcomes import Outcome
from fleet.core.kinds import Action, ActionKey
from fleet.db.models import Agent, AgentActivity
from fleet.errors import Deferred, PermanentError, TimeLimitExceeded
from fleet.gallery.client import HttpGallery
from fleet.service.root import Fleet
from fleet.settings import ReviewSettings
from tests.actions.test_batch import FailingFor, _decided, _kit, _posts, parsed
from tests.conftest import active_agents
from tests.gallery.conftest import Admin


def test_a_listener_that_raises_is_logged_and_the_next_is_called() -> None:
    hook = EventHook("action_ended")
    heard: list[dict[str, Any]] = []

    @hook.add_listener
    def broken(**_: Any) -> None:
        raise ConnectionError("the feed's Redis is down")

    hook.add_listener(lambda **kwargs: heard.append(kwargs))
    with capture_logs() as logs:
        assert hook.fire(kit=None, ended=[], spent=[], now=None) == 1
    assert heard == [{"kit": None, "ended": [], "spent": [], "now": None}]
    (logged,) = logs
    assert logged["event"] == "event listener failed"
    assert logged["listener"].endswith("broken")
    assert "ConnectionError: the feed's Redis is down" in logged["error"]
    hook.remove_listener(broken)
    assert hook.fire(kit=None, ended=[], spent=[], now=None) == 0


def test_an_interrupt_is_no_listener_s_failure_and_passes() -> None:
    hook = EventHook("action_ended")

    @hook.add_listener
    def interrupted(**_: Any) -> None:
        raise TimeLimitExceeded()

    with pytest.raises(TimeLimitExceeded):
        hook.fire()


class _Settled:
    """The batch's settling of its failed actions, recorded (as the task's would)."""

    def __init__(self, kit: ActionKit) -> None:
        self.kit = kit
        self.keys: list[str] = []

    def __call__(self, key: ActionKey[Action], error: BaseException) -> Outcome:
        self.keys.append(key.text)
        return settle(self.kit, key, "fleet.like", error, deferrals=0)


def _batch_with_one_failing(
    fleet: Fleet, gallery: HttpGallery, feed: LiveFeed, hook: EventHook | None
) -> tuple[list[str], dict[str, Outcome], _Settled]:
    now = datetime.now(UTC)
    author, *fans = active_agents(fleet, 4, now=now)
    _posts(gallery, fleet, author, 3)
    likes = _decided(fleet, fans, "like", now)
    kit = _kit(fleet, FailingFor(gallery, likes[1]))
    kit.feed, kit.action_ended = feed, hook
    settled = _Settled(kit)
    done = perform_batch(kit, parsed(likes), threads=2, settle=settled)
    return likes, {key.text: outcome for key, outcome in done.items()}, settled


def test_a_live_feed_down_loses_no_ending_nor_the_batch_s_settling(
    fleet: Fleet, gallery: HttpGallery, admin: Admin
) -> None:
    """The stock listeners, the live feed's Redis down: the ends stand, the failed action
    of the batch is settled all the same (before, the feed's error left the batch there,
    its failed action unsettled until its lease ran out)."""

    def down(event: Any) -> None:
        raise ConnectionError("the feed's Redis is down")

    likes, done, settled = _batch_with_one_failing(fleet, gallery, LiveFeed(down), None)

    assert settled.keys == [likes[1]]
    assert [getattr(done[k], "status", None) for k in likes] == ["succeeded", "retry", "succeeded"]
    with fleet.sessions() as session:
        rows = dict(
            session.execute(select(AgentActivity.idempotency_key, AgentActivity.status)).all()
        )
    assert rows == {likes[0]: "succeeded", likes[1]: "pending", likes[2]: "succeeded"}


def test_a_raising_listener_first_skips_none_of_the_others(
    fleet: Fleet, gallery: HttpGallery, admin: Admin
) -> None:
    heard: list[dict[str, Any]] = []
    hook = EventHook("action_ended")
    hook.add_listener(lambda **_: 1 / 0)
    for listener in LISTENERS:
        hook.add_listener(listener)

    likes, _, settled = _batch_with_one_failing(fleet, gallery, LiveFeed(heard.append), hook)

    assert settled.keys == [likes[1]]
    # The live feed, the listener after the one that raised, heard both ends.
    assert sorted((e["key"], e["status"]) for e in heard) == [
        (likes[0], "succeeded"),
        (likes[2], "succeeded"),
    ]


def test_every_way_an_action_ends_fires_the_same_event(
    fleet: Fleet, gallery: HttpGallery, admin: Admin
) -> None:
    now = datetime.now(UTC)
    author, fan, reviewed, doomed, waiting = active_agents(fleet, 5, now=now)
    _posts(gallery, fleet, author, 2)
    with fleet.sessions.begin() as session:
        session.execute(update(Agent).where(Agent.id == reviewed).values(review=True))
    liked, drafted, dead, skipped = (
        _decided(fleet, [a], "like", now)[0] for a in (fan, reviewed, doomed, waiting)
    )
    ends: list[tuple[str, str]] = []
    hook = EventHook("action_ended")

    @hook.add_listener
    def record(*, ended: Sequence[Ending], **_: Any) -> None:
        ends.extend((e.subject.key.text, e.status) for e in ended)

    kit = _kit(fleet, gallery)
    kit.action_ended = hook
    kit.authorship = Authorship(publishing=PublishingRules(review=ReviewSettings(kinds=["like"])))
    perform_batch(kit, parsed([liked, drafted]), threads=2)
    settle(kit, ActionKey.parse(dead), "fleet.like", PermanentError("refused"), deferrals=0)
    too_long = Deferred("the agent's budget is spent", now + timedelta(days=2), scope="agent")
    settle(kit, ActionKey.parse(skipped), "fleet.like", too_long, deferrals=0)
    claims, _ = activities.claim_many(
        fleet.sessions, parsed([dead]), now=now, lease=kit.limits.lease, first_choices={}
    )
    assert not claims  # it ended once: dead

    assert sorted(ends) == sorted(
        [(liked, "succeeded"), (drafted, "drafted"), (dead, "dead"), (skipped, "skipped")]
    )
