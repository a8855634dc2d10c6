"""The facts a process's parts fire (``fleet.actions.events``, Locust's contract): each
event's listeners run isolated, one that raises is logged and the rest run; and the
listeners the composition root adds keep what target choice saw, the impact experiment's
sightings and the honesty ledger's questions, though one before them raises."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from structlog.testing import capture_logs

from fleet.actions.events import EventHook, Events
from fleet.consent.core import Consent
from fleet.db.models import ImpactSighting
from fleet.gallery.port import GalleryComment
from fleet.honesty import ledger as identity
from fleet.service.root import Fleet
from tests.actions.test_identity_honesty import QUESTION, asked  # noqa: F401 - a fixture
from tests.actions.test_reply import NOW


def test_a_listener_that_raises_is_logged_and_those_after_it_still_run() -> None:
    events = Events()
    heard: list[str] = []
    events.posts_seen.add_listener(lambda **_: heard.append("first"))

    @events.posts_seen.add_listener
    def broken(**_: Any) -> None:
        raise RuntimeError("the ledger is down")

    events.posts_seen.add_listener(lambda *, posts, **_: heard.append(f"third saw {posts}"))
    with capture_logs() as logs:
        assert events.posts_seen.fire(posts=["p1"], waiting=[], at=NOW) == 1
    assert heard == ["first", "third saw ['p1']"]
    (logged,) = logs
    assert logged["event"] == "event listener failed"
    assert logged["event_name"] == "posts_seen"
    assert logged["listener"].endswith("broken")
    assert "RuntimeError: the ledger is down" in logged["error"]


def test_each_event_is_a_hook_of_its_own_name_and_two_processes_share_none() -> None:
    one, other = Events(), Events()
    for name in ("action_ended", "posts_seen", "comments_seen"):
        hook = getattr(one, name)
        assert isinstance(hook, EventHook) and hook.name == name
        assert hook is not getattr(other, name)
    one.comments_seen.add_listener(lambda **_: None)
    assert other.comments_seen.listeners == ()


def test_the_roots_listeners_keep_sightings_and_questions_though_one_before_them_raises(
    fleet: Fleet,
    asked: tuple[int, str],  # noqa: F811 - the fixture
) -> None:
    agent_id, me = asked
    hook = fleet.events.comments_seen
    roots = hook.listeners
    assert len(roots) == 2, "the impact experiment's and the honesty ledger's"
    for listener in roots:
        hook.remove_listener(listener)

    @hook.add_listener
    def broken(**_: Any) -> None:
        raise ConnectionError("a third feature's store is down")

    for listener in roots:
        hook.add_listener(listener)
    asking = GalleryComment("c1", "p1", QUESTION, "u-7", "newcomer", NOW)
    chatting = GalleryComment("c2", "p1", "Lovely light", "u-8", "regular", NOW)
    agents_own = GalleryComment("c3", "p1", "Thanks!", "u-9", me, NOW, user_is_agent=True)
    with capture_logs() as logs:
        failed = hook.fire(
            agent_id=agent_id,
            handle=me,
            comments=[asking, chatting, agents_own],
            waiting=frozenset({"c1", "c2"}),
            consent=Consent(),
            at=NOW,
        )
    (failure,) = [e for e in logs if e["event"] == "event listener failed"]
    assert failed == 1 and failure["listener"].endswith("broken")
    with fleet.sessions() as session:
        seen = set(session.scalars(select(ImpactSighting.item_id)))
    assert seen == {"c1", "c2"}, "people's comments are kept, the agent's is not"
    owed = identity.open_questions(fleet.sessions, agent_id, since=NOW - identity.OWED_DAYS)
    assert owed == ["c1"], "the question about what the agent is is owed an answer"
