"""A follow through the real kind path (``perform``: claim, choice kept on the activity,
the gallery's call, the ledger): whom agents follow, never twice, never a person who said
no or is held out, a draft under review; a look reads the home feed in its share.

The sandbox over HTTP serves the posts and people's say; ``Graph`` keeps the follows in
memory beside it, as the port's follow calls would (the sandbox's own follows are tested
through the same path in ``test_following_sandbox``)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select, update

from fleet import agents
from fleet.actions.following import home_page
from fleet.actions.perform import perform
from fleet.actions.planning import FOLLOW_REACH
from fleet.activities.plans import keep_plan, plan_before
from fleet.consent.book import ConsentBook
from fleet.core.kinds import ActionKey
from fleet.db.models import Agent, Engagement
from fleet.gallery.client import HttpGallery
from fleet.impact.holdout_view import HoldoutView
from fleet.service.root import Fleet
from fleet.settings import ConsentSettings
from tests.actions.test_batch import _decided, _kit
from tests.conftest import active_agents
from tests.gallery.conftest import Admin


class Graph:
    """The HTTP gallery with follows kept in memory (the port's follow calls)."""

    def __init__(self, gallery: HttpGallery) -> None:
        self._gallery = gallery
        self.edges: set[tuple[str, str]] = set()
        self.calls: list[tuple[str, str, str, str]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._gallery, name)

    def _count(self, handle: str) -> int:
        return sum(1 for _, b in self.edges if b == handle)

    def follow(self, *, agent: str, handle: str, idempotency_key: str) -> Any:
        self.calls.append(("follow", agent, handle, idempotency_key))
        changed = (agent, handle) not in self.edges
        self.edges.add((agent, handle))
        return SimpleNamespace(
            handle=handle,
            following=True,
            requested=False,
            followers=self._count(handle),
            changed=changed,
        )

    def unfollow(self, *, agent: str, handle: str, idempotency_key: str) -> Any:
        self.calls.append(("unfollow", agent, handle, idempotency_key))
        changed = (agent, handle) in self.edges
        self.edges.discard((agent, handle))
        return SimpleNamespace(
            handle=handle, following=False, requested=False, followers=None, changed=changed
        )

    def followers(self, *, agent: str, handle: str, limit: int = 100) -> list[Any]:
        return [
            SimpleNamespace(id=a, username=a, created=False, is_agent=True)
            for a, b in sorted(self.edges)
            if b == handle
        ][:limit]

    def home_feed(self, *, agent: str, limit: int = 20) -> list[Any]:
        followed = {b for a, b in self.edges if a == agent}
        page = self._gallery.feed(agent=agent, limit=100, sort="recent")
        return [p for p in page if p.username in followed][:limit]


def _follow(fleet: Fleet, kit: Any, agent_id: int, at: datetime) -> Any:
    (key,) = _decided(fleet, [agent_id], "follow", at)
    return perform(kit, ActionKey.parse(key))


def _people(admin: Admin, count: int) -> list[str]:
    made: list[str] = admin.http.post("/admin/people", json={"count": count}).json()["made"]
    return made


def test_an_agent_follows_whom_it_saw_once_each_and_then_has_nobody_left(
    fleet: Fleet, gallery: HttpGallery, admin: Admin
) -> None:
    now = datetime.now(UTC)
    (fan,) = active_agents(fleet, 1, now=now)
    handle = agents.get_agent(fleet.sessions, str(fan)).handle
    people = _people(admin, 3)
    graph = Graph(gallery)
    kit = _kit(fleet, graph)

    outcomes = [_follow(fleet, kit, fan, now + timedelta(minutes=m)) for m in range(5)]

    followed = [o.detail["person"] for o in outcomes if o.status == "succeeded"]
    assert sorted(followed) == sorted(people)  # each person of the page once
    assert [o.status for o in outcomes[3:]] == ["skipped", "skipped"]
    assert "nobody to follow" in str(outcomes[-1].detail)
    assert {b for a, b in graph.edges if a == handle} == set(people)
    # Each follow's own key went to the gallery, once.
    keys = [c[3] for c in graph.calls]
    assert len(keys) == len(set(keys)) == 3
    with fleet.sessions() as session:
        ledger = session.execute(
            select(Engagement.target_kind, Engagement.target_id).where(
                Engagement.agent_id == fan, Engagement.kind == "follow"
            )
        ).all()
    assert sorted(ledger) == sorted(("person", p) for p in people)


def test_a_follow_takes_first_whom_its_session_s_plan_proposed_from_the_page(
    fleet: Fleet, gallery: HttpGallery, admin: Admin
) -> None:
    now = datetime.now(UTC)
    (fan,) = active_agents(fleet, 1, now=now)
    people = _people(admin, 6)
    kit = _kit(fleet, Graph(gallery))
    opened = now - timedelta(minutes=1)
    # The opening look's plan proposed four; one it never saw names nobody, and seed
    # 002's bound keeps the first two it saw.
    proposed = [people[4], "somebody-unseen", people[1], people[2]]
    keep_plan(fleet.sessions, fan, opened, {"comments": {}, "follows": proposed}, now=opened)

    outcomes = [_follow(fleet, kit, fan, now + timedelta(minutes=m)) for m in range(3)]

    followed = [o.detail["person"] for o in outcomes]
    assert followed[:2] == [people[4], people[1]]  # by chance alone: 1 in 30
    assert followed[2] not in followed[:2]
    # The plan of the session a follow belongs to: opened before it, within the reach.
    assert plan_before(fleet.sessions, fan, now, FOLLOW_REACH) is not None
    assert plan_before(fleet.sessions, fan, opened - timedelta(seconds=1), FOLLOW_REACH) is None
    assert plan_before(fleet.sessions, fan, opened + 2 * FOLLOW_REACH, FOLLOW_REACH) is None


def test_a_follow_delivered_again_follows_the_same_account_once(
    fleet: Fleet, gallery: HttpGallery, admin: Admin
) -> None:
    now = datetime.now(UTC)
    (fan,) = active_agents(fleet, 1, now=now)
    _people(admin, 4)
    graph = Graph(gallery)
    kit = _kit(fleet, graph)
    (key,) = _decided(fleet, [fan], "follow", now)
    first = perform(kit, ActionKey.parse(key))
    again = perform(kit, ActionKey.parse(key))
    assert first.status == "succeeded"
    assert again.status == "already-finished"
    assert len(graph.calls) == 1


@pytest.mark.parametrize("honoured", [True, False])
def test_nobody_who_said_no_is_followed(
    fleet: Fleet, gallery: HttpGallery, admin: Admin, honoured: bool
) -> None:
    now = datetime.now(UTC)
    fans = active_agents(fleet, 3, now=now)
    handles = [agents.get_agent(fleet.sessions, str(f)).handle for f in fans]
    for h in handles:
        gallery.provision_user(handle=h, name=h, persona="social_media_marketer")
    people = _people(admin, 5)
    said = {people[0]: {"agentInteractions": "none"}, people[1]: {"agentInteractions": "replies"}}
    said[people[2]] = {"block": [handles[0]]}
    for person, body in said.items():
        assert admin.http.put(f"/api/admin/users/{person}/agent-consent", json=body).is_success
    graph = Graph(gallery)
    kit = _kit(fleet, graph)
    if honoured:
        kit.targeting = replace(
            kit.targeting, consent=ConsentBook(gallery.agent_consent, ConsentSettings())
        )
    for m in range(6):
        for fan in fans:
            _follow(fleet, kit, fan, now + timedelta(minutes=m, seconds=fan))
    toward_closed = {(a, b) for a, b in graph.edges if b in said}
    assert {b for _, b in graph.edges} & set(people[3:])
    if honoured:
        # people[2] blocked handles[0] alone: the other agents may follow them (cool_fleet
        # makes the rest answer only, so nobody else starts a follow either).
        assert toward_closed == set()
    else:  # the same follows without the say read do reach them: the test can tell
        assert toward_closed


def test_a_held_out_newcomer_is_never_followed(
    fleet: Fleet, gallery: HttpGallery, admin: Admin
) -> None:
    now = datetime.now(UTC)
    fans = active_agents(fleet, 2, now=now)
    people = _people(admin, 4)
    users = {u["username"]: str(u["id"]) for u in admin.report()["users"]}
    graph = Graph(gallery)
    kit = _kit(fleet, graph)
    held = users[people[0]]
    view = HoldoutView(
        fleet.sessions, experiment="t", share=0.0, days=14, now=lambda: now, ttl_seconds=0
    )
    view.spared = lambda: SimpleNamespace(spares=lambda uid: uid == held)  # type: ignore[method-assign]
    kit.targeting = replace(kit.targeting, holdout=view)
    for m in range(6):
        for fan in fans:
            _follow(fleet, kit, fan, now + timedelta(minutes=m, seconds=fan))
    followed = {b for _, b in graph.edges}
    assert people[0] not in followed
    assert set(people[1:]) <= followed


def test_under_review_a_follow_waits_as_a_draft(
    fleet: Fleet, gallery: HttpGallery, admin: Admin
) -> None:
    now = datetime.now(UTC)
    (fan,) = active_agents(fleet, 1, now=now)
    with fleet.sessions.begin() as session:
        session.execute(update(Agent).where(Agent.id == fan).values(review=True))
    _people(admin, 2)
    graph = Graph(gallery)
    kit = _kit(fleet, graph)
    outcome = _follow(fleet, kit, fan, now)
    assert outcome.status == "drafted"
    assert graph.calls == []


def test_on_the_sandbox_a_follow_lands_and_the_look_reads_whom_it_follows(
    fleet: Fleet, gallery: HttpGallery, admin: Admin
) -> None:
    now = datetime.now(UTC)
    (fan,) = active_agents(fleet, 1, now=now)
    handle = agents.get_agent(fleet.sessions, str(fan)).handle
    people = _people(admin, 2)
    kit = _kit(fleet, gallery)
    outcome = _follow(fleet, kit, fan, now)
    assert outcome.status == "succeeded"
    person = outcome.detail["person"]
    assert person in people and outcome.detail["following"] is True
    assert [u.username for u in gallery.followers(agent=handle, handle=person)] == [handle]
    # The home feed holds the followed person's post, the public feed both: a look with
    # the home feed's whole share reads the followed person alone.
    home = gallery.home_feed(agent=handle, limit=20)
    assert {p.username for p in home} == {person}
    page = home_page(gallery, handle, 1, 1.0, random.Random(0))
    assert [p.author for p in page] == [person]
    # The ledger keeps the follow: a second follow of the same agent takes the other one.
    again = _follow(fleet, kit, fan, now + timedelta(minutes=1))
    assert again.status == "succeeded" and again.detail["person"] != person


def test_a_like_of_a_post_whose_words_cue_a_reaction_reacts_once_beside_it(
    fleet: Fleet, gallery: HttpGallery, admin: Admin
) -> None:
    now = datetime.now(UTC)
    author, fan = active_agents(fleet, 2, now=now)
    author_handle = agents.get_agent(fleet.sessions, str(author)).handle
    gallery.provision_user(handle=author_handle, name="Author", persona="indie_game_dev")
    post = gallery.create_post(
        agent=author_handle,
        image_url="http://example.test/i.png",
        title="Title screen for my first game jam entry",
        description="48 hours, a frog who delivers mail.",
        idempotency_key="jam",
    )
    kit = _kit(fleet, gallery)
    kit.settings = kit.settings.model_copy(update={"reactions": True})
    (key,) = _decided(fleet, [fan], "like", now)
    outcome = perform(kit, ActionKey.parse(key))
    assert outcome.status == "succeeded" and outcome.detail["post_id"] == post.id
    assert outcome.detail["reaction"] == "clap"
    seen = gallery.get_post(agent=author_handle, post_id=post.id)
    assert dict(seen.reactions) == {"clap": 1}
