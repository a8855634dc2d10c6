"""The fleet's pace measured from the gallery's answers and the ledger, kept, and used by
the dispatcher to open fewer sessions as people become active."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from fleet import activities, agents
from fleet.agents.heartbeat import dispatch_due
from fleet.core.pace import Pace
from fleet.db.models import Agent
from fleet.gallery.port import GalleryPost
from fleet.infra.clocks import SimulatedClock
from fleet.service.pace import measure_pace
from fleet.service.root import Fleet, bootstrap
from tests.conftest import active_agents

NOW = datetime(2026, 11, 17, 15, 0, tzinfo=UTC)


class Newest:
    """The gallery's newest posts, as the pace's reading sees them."""

    def __init__(self, posts: list[GalleryPost]) -> None:
        self.posts = posts
        self.reads = 0

    def feed(
        self, *, agent: str, limit: int = 20, offset: int = 0, sort: str = "recent"
    ) -> list[GalleryPost]:
        self.reads += 1
        return self.posts[offset : offset + limit]

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
    # Twelve people's posts from before the fleet came are not held against it.
    gallery = Newest([_post(n, hours_ago=5, likes=3, comments=0, person=True) for n in range(12)])
    assert measure_pace(_fleet(fleet, gallery)) is None and gallery.reads == 0
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
        for step in range(48 * 6):  # two days, every ten minutes, catching up within
            dispatch_due(
                fleet.sessions,
                fleet.personas,
                ticks.extend,
                now=start + 600 * (step + 1),
                batch_size=500,
                max_batches=10,
                catch_up=900,
            )
        counts[pace] = len(ticks)
    assert len(ids) == 40
    assert counts[0.2] < 0.5 * counts[1.0], counts
