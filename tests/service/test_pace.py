"""The fleet's pace measured from the gallery's answers and the ledger, kept, and used by
the dispatcher to open fewer sessions as people become active."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from fleet import activities, agents
from fleet.agents.heartbeat import DispatchLimits, dispatch_due
from fleet.core.pace import CountsKept, Pace, PeopleSeen, PostRead, Reading
from fleet.db.models import Agent, PostVector
from fleet.gallery.port import GalleryComment, GalleryPost
from fleet.honesty import ledger as identity
from fleet.infra.clocks import SimulatedClock
from fleet.service.pace import measure_pace
from fleet.service.root import Fleet, bootstrap
from tests.actions.test_interests import Counting
from tests.conftest import active_agents

NOW = datetime(2026, 11, 17, 15, 0, tzinfo=UTC)


class Newest:
    """The gallery's newest posts, as the pace's reading sees them."""

    def __init__(
        self, posts: list[GalleryPost], comments: dict[str, list[GalleryComment]] | None = None
    ) -> None:
        self.posts = posts
        self.reads = 0
        # The comments on a post, for the scan of questions about what an agent is.
        self.comments_of = comments or {}

    def comments(
        self, *, agent: str, post_id: str, limit: int = 50, offset: int = 0
    ) -> list[GalleryComment]:
        return self.comments_of.get(post_id, [])[offset : offset + limit]

    def feed(
        self, *, agent: str, limit: int = 20, offset: int = 0, sort: str = "recent"
    ) -> list[GalleryPost]:
        self.reads += 1
        return self.posts[offset : offset + limit]

    def followers(self, *, agent: str, handle: str, limit: int = 100) -> list[Any]:
        return []  # nobody follows the newcomers here

    def close(self) -> None:
        return None


def _post(n: int, *, hours_ago: float, likes: int, comments: int, person: bool) -> GalleryPost:
    return GalleryPost(
        str(n),
        f"post {n}",
        "",
        "",
        likes,
        comments,
        NOW - timedelta(hours=hours_ago),
        "u",
        f"maya{n}" if person else f"bot{n}",
        not person,
    )


def _fleet(engine_fleet: Fleet, gallery: Newest) -> Fleet:
    return bootstrap(
        engine_fleet.settings,
        engine_fleet.engine,
        clock=SimulatedClock(NOW),
        gallery=gallery,  # type: ignore[arg-type]
    )


def test_the_pace_counts_peoples_posts_and_engagement_beyond_the_fleets(fleet: Fleet) -> None:
    (agent_id,) = active_agents(fleet, 1, now=NOW)
    agents.set_platform_user(fleet.sessions, agent_id, "u-1")
    # The fleet: a like every 40 minutes for over 12 hours (19 of them in the last 12,
    # the window measured: 38 a day), one on post 1 and one on post 2.
    for n in range(20):
        at = NOW - timedelta(minutes=40 * n)
        key = f"{agent_id}:{int(at.timestamp())}:like"
        made = activities.create_activity(
            fleet.sessions, agent_id, "like", at, key, now=at, lease=timedelta(minutes=5)
        )
        target = {0: "1", 1: "2"}.get(n, f"old{n}")
        activities.finish(
            fleet.sessions,
            made,
            "succeeded",
            now=NOW,
            result={"post_id": target},
            engagement=(target, "like"),
        )
    # And a reply of the agent's under post 1 (its engagement is kept by the comment).
    at = NOW - timedelta(minutes=30)
    made = activities.create_activity(
        fleet.sessions,
        agent_id,
        "reply",
        at,
        f"{agent_id}:{int(at.timestamp()) + 1}:reply",
        now=at,
        lease=timedelta(minutes=5),
    )
    activities.finish(
        fleet.sessions,
        made,
        "succeeded",
        now=NOW,
        result={"post_id": "1", "comment_id": "c9"},
        engagement=("c8", "reply"),
    )
    gallery = Newest(
        [
            _post(1, hours_ago=2, likes=30, comments=6, person=True),  # 34 by people
            _post(2, hours_ago=5, likes=8, comments=0, person=False),  # 7 by people
            _post(3, hours_ago=13, likes=90, comments=9, person=True),  # older: not counted
        ]
    )
    pace = measure_pace(_fleet(fleet, gallery))
    assert pace is not None
    # Twelve hours of each, as a rate a day.
    assert pace.people_per_day == 2 * (1 + 34 + 7)
    assert pace.fleet_per_day == 2 * 20
    # People made about twice what the fleet did at full pace: it steps back.
    assert pace.pace == pytest.approx(1 / (1 + 84 / 40), abs=0.01)
    with fleet.sessions() as session:
        assert activities.current_pace(session) == pytest.approx(pace.pace)


def test_a_later_reading_counts_what_people_gave_older_posts_since_the_last(
    fleet: Fleet,
) -> None:
    """Likes on a post older than the window count once a reading has seen it: the next
    reading counts what its counts grew by, less the fleet's own meanwhile."""
    (agent_id,) = active_agents(fleet, 1, now=NOW)
    agents.set_platform_user(fleet.sessions, agent_id, "u-1")
    _published(fleet, agent_id, "like", 300, {"post_id": "elsewhere"})  # five hours of fleet
    old = _post(3, hours_ago=30, likes=90, comments=9, person=True)
    gallery = Newest([_post(1, hours_ago=8, likes=0, comments=0, person=False), old])
    first = measure_pace(_fleet(fleet, gallery))
    assert first is not None and first.people_per_day == 0, "older counts are a baseline"

    # An hour later: people gave the old post 25 likes and 5 comments; one more like on
    # it is the fleet's, made between the readings.
    later = NOW + timedelta(hours=1)
    made = activities.create_activity(
        fleet.sessions,
        agent_id,
        "like",
        later,
        f"{agent_id}:{int(later.timestamp())}:like",
        now=later - timedelta(minutes=30),
        lease=timedelta(minutes=5),
    )
    activities.finish(
        fleet.sessions,
        made,
        "succeeded",
        now=later - timedelta(minutes=30),
        result={"post_id": "3"},
        engagement=("3", "like"),
    )
    gallery.posts[1] = replace(old, like_count=90 + 26, comment_count=9 + 5)
    root = bootstrap(
        fleet.settings,
        fleet.engine,
        clock=SimulatedClock(later),
        gallery=gallery,  # type: ignore[arg-type]
    )
    second = measure_pace(root)
    assert second is not None
    # 30 people's actions over the six hours since the fleet's first action: 120 a day.
    assert second.people_per_day == 30 * 4
    with fleet.sessions() as session:
        assert activities.current_pace(session) == pytest.approx(second.pace)


def test_no_agent_to_read_as_measures_nothing(fleet: Fleet) -> None:
    gallery = Newest([])
    assert measure_pace(_fleet(fleet, gallery)) is None and gallery.reads == 0


def test_a_fleet_younger_than_an_hour_keeps_its_pace(fleet: Fleet) -> None:
    (agent_id,) = active_agents(fleet, 1, now=NOW)
    agents.set_platform_user(fleet.sessions, agent_id, "u-1")
    at = NOW - timedelta(minutes=20)
    activities.create_activity(
        fleet.sessions,
        agent_id,
        "like",
        at,
        f"{agent_id}:{int(at.timestamp())}:like",
        now=at,
        lease=timedelta(minutes=5),
    )
    # Twelve people's posts from before the fleet came are not held against it (the
    # newest posts are still read, for the notification scan).
    gallery = Newest([_post(n, hours_ago=5, likes=3, comments=0, person=True) for n in range(12)])
    assert measure_pace(_fleet(fleet, gallery)) is None
    with fleet.sessions() as session:
        assert activities.current_pace(session) == 1.0


def test_at_a_lower_pace_the_dispatcher_opens_fewer_sessions(fleet: Fleet) -> None:
    ids = active_agents(fleet, 40, "ai_art_enthusiast", now=NOW)
    counts: dict[float, int] = {}
    for pace in (1.0, 0.2):
        activities.keep_pace(fleet.sessions, Pace(100, 10, 10, pace), now=NOW)
        with fleet.sessions.begin() as session:  # every agent's clock from the same start
            session.execute(update(Agent).values(next_tick_at=NOW, session_opened_at=None))
        ticks: list[object] = []
        start = NOW.timestamp()
        # A day (every local hour), every ten minutes, catching up within. The agents'
        # ticks at pace 0.2 are 0.24 of those at 1.0 (1,162 of 4,762; over two days 0.236,
        # 2,166 of 9,184): half the bound, with thousands of ticks on either side.
        for step in range(24 * 6):
            dispatch_due(
                fleet.sessions,
                fleet.personas,
                ticks.extend,
                now=start + 600 * (step + 1),
                limits=DispatchLimits(batch_size=500, max_batches=10, catch_up=900),
            )
        counts[pace] = len(ticks)
    assert len(ids) == 40
    assert counts[0.2] < 0.5 * counts[1.0], counts


def _published(
    fleet: Fleet, agent_id: int, action: str, minutes_ago: int, result: dict[str, str]
) -> None:
    at = NOW - timedelta(minutes=minutes_ago)
    made = activities.create_activity(
        fleet.sessions,
        agent_id,
        action,
        at,
        f"{agent_id}:{int(at.timestamp())}:{action}",
        now=at,
        lease=timedelta(minutes=5),
    )
    target = result.get("in_reply_to") or result["post_id"]
    kept = "reply" if action == "reply" else action
    activities.finish(
        fleet.sessions, made, "succeeded", now=at, result=result, engagement=(target, kept)
    )


def _waiting(fleet: Fleet) -> dict[str, bool]:
    with fleet.sessions() as session:
        rows = session.execute(select(Agent.handle, Agent.people_waiting_since))
        return {handle: since is not None for handle, since in rows}


def test_the_scan_marks_the_agents_a_persons_comment_waits_on_until_they_answer(
    fleet: Fleet,
) -> None:
    """From counts alone: on an agent's post, comments beyond the fleet's are people's;
    those beyond the fleet's replies to people wait on the author."""
    ids = active_agents(fleet, 3, now=NOW)
    handles = {}
    for agent_id in ids:
        agents.set_platform_user(fleet.sessions, agent_id, f"u-{agent_id}")
        handles[agent_id] = agents.get_agent(fleet.sessions, str(agent_id)).handle
    author, other, quiet = ids

    def post(n: int, owner: int, comments: int) -> GalleryPost:
        made = _post(n, hours_ago=1, likes=0, comments=comments, person=False)
        return replace(made, username=handles[owner])

    # Post 1 (author's): another agent's comment and a person's. Post 2 (other's): the
    # author's comment only. Post 3 (quiet's): nothing.
    _published(fleet, other, "comment", 90, {"post_id": "1", "comment_id": "c1"})
    _published(fleet, author, "comment", 80, {"post_id": "2", "comment_id": "c2"})
    gallery = Newest([post(1, author, 2), post(2, other, 1), post(3, quiet, 0)])
    measure_pace(_fleet(fleet, gallery))
    assert _waiting(fleet) == {handles[author]: True, handles[other]: False, handles[quiet]: False}
    with fleet.sessions() as session:
        first = session.scalar(select(Agent.people_waiting_since).where(Agent.id == author))

    # A later scan keeps when it was first seen; answering another agent changes nothing.
    _published(
        fleet, author, "reply", 60, {"post_id": "1", "in_reply_to": "c1", "to": handles[other]}
    )
    gallery.posts[0] = post(1, author, 3)
    measure_pace(_fleet(fleet, gallery))
    with fleet.sessions() as session:
        again = session.scalar(select(Agent.people_waiting_since).where(Agent.id == author))
    assert again == first

    # The author answers the person: nobody waits any more.
    _published(fleet, author, "reply", 30, {"post_id": "1", "in_reply_to": "p1", "to": "maya"})
    gallery.posts[0] = post(1, author, 4)
    measure_pace(_fleet(fleet, gallery))
    assert not any(_waiting(fleet).values())


def test_the_scan_reads_the_posts_of_two_days_not_only_the_windows(fleet: Fleet) -> None:
    """A person's comment on an agent's post older than the 12-hour window waits on its
    author too; one answered a day ago, on an older post still, waits on nobody."""
    ids = active_agents(fleet, 2, now=NOW)
    handles = {}
    for agent_id in ids:
        agents.set_platform_user(fleet.sessions, agent_id, f"u-{agent_id}")
        handles[agent_id] = agents.get_agent(fleet.sessions, str(agent_id)).handle
    author, other = ids

    def post(n: int, owner: int, hours_ago: float, comments: int) -> GalleryPost:
        made = _post(n, hours_ago=hours_ago, likes=0, comments=comments, person=False)
        return replace(made, username=handles[owner])

    # The fleet acted within the window (it is older than an hour: a pace is measured).
    _published(fleet, other, "comment", 90, {"post_id": "9", "comment_id": "c9"})
    # Post 2 (other's, 30 h old): a person's comment, answered 25 h ago.
    _published(fleet, other, "reply", 25 * 60, {"post_id": "2", "in_reply_to": "p2", "to": "maya"})
    gallery = Newest([post(9, author, 3, 1), post(1, author, 20, 1), post(2, other, 30, 2)])
    measure_pace(_fleet(fleet, gallery))
    assert _waiting(fleet) == {handles[author]: True, handles[other]: False}


def test_the_pace_task_embeds_the_newest_posts_no_one_has_embedded(fleet: Fleet) -> None:
    """Likes never embed: the pace task gives new posts their vectors within minutes."""
    (agent_id,) = active_agents(fleet, 1, now=NOW)
    agents.set_platform_user(fleet.sessions, agent_id, "u-1")
    _published(fleet, agent_id, "like", 50, {"post_id": "0"})
    embedder = Counting()
    settings = fleet.settings.model_copy(
        update={"embeddings": fleet.settings.embeddings.model_copy(update={"dimensions": 8})}
    )
    gallery = Newest([_post(n, hours_ago=0.5, likes=0, comments=0, person=True) for n in (1, 2)])
    root = bootstrap(
        settings,
        fleet.engine,
        clock=SimulatedClock(NOW),
        gallery=gallery,  # type: ignore[arg-type]
        embedder=embedder,
    )
    measure_pace(root)
    with fleet.sessions() as session:
        assert session.scalar(select(func.count()).select_from(PostVector)) == 2


def test_readings_and_counts_older_than_two_days_are_forgotten(fleet: Fleet) -> None:
    old, now = NOW - timedelta(days=3), NOW
    seen = PostRead("9", old, True, 4, 1)
    activities.keep_reading(
        fleet.sessions,
        Reading(old - timedelta(minutes=10), old, PeopleSeen(1, 2), 1.0),
        [seen],
        {"9": 1},
        forget_before=old - timedelta(days=2),
    )
    assert activities.kept_counts(fleet.sessions, ["9"])["9"] == CountsKept(5, 1, old)
    fresh = PostRead("10", now, True, 0, 0)
    activities.keep_reading(
        fleet.sessions,
        Reading(old, now, PeopleSeen(0, 0), 0.5),
        [fresh],
        {},
        forget_before=now - timedelta(days=2),
    )
    assert list(activities.kept_counts(fleet.sessions, ["9", "10"])) == ["10"]
    assert [r.end for r in activities.readings_since(fleet.sessions, old - timedelta(days=9))] == [
        now
    ]


def test_the_scan_keeps_a_persons_question_about_what_the_agent_is(fleet: Fleet) -> None:
    """Where a person waits, the scan reads the comments: a question about what the
    agent is is kept in the ledger, owed an answer (``fleet.honesty.ledger``); an
    ordinary comment is not."""
    (author,) = active_agents(fleet, 1, now=NOW)
    agents.set_platform_user(fleet.sessions, author, f"u-{author}")
    handle = agents.get_agent(fleet.sessions, str(author)).handle
    _published(fleet, author, "post", 60, {"post_id": "1"})
    post = replace(_post(1, hours_ago=1, likes=0, comments=2, person=False), username=handle)
    said = [
        GalleryComment("k1", "1", "Lovely light.", "u", "maya", NOW, False),
        GalleryComment("k2", "1", "Wait, are you a bot?", "u", "rosa_v", NOW, False),
    ]
    measure_pace(_fleet(fleet, Newest([post], {"1": said})))
    with fleet.sessions() as session:
        owed = identity.owed(session, [author], since=NOW - identity.OWED_DAYS)
    assert owed == {author: ["k2"]}
