"""bench.follows' figures of a follow graph, on a gallery built by hand (no fleet run)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from bench import follows
from bench.community.gallery import Gallery

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _user(uid: int, name: str, agent: bool) -> SimpleNamespace:
    return SimpleNamespace(id=uid, username=name, is_agent=agent)


def _follow(by: int, to: int, minutes: float, following: bool = True) -> SimpleNamespace:
    return SimpleNamespace(
        follower_id=by,
        followed_id=to,
        following=following,
        created_at=T0 + timedelta(minutes=minutes),
    )


def _gallery() -> Gallery:
    # 1, 2: agents; 3: a regular person; 4, 5: newcomers (5 held out, 4 said no later).
    users = {
        1: _user(1, "ada_bot", True),
        2: _user(2, "bo_bot", True),
        3: _user(3, "regular1", False),
        4: _user(4, "newcomer1", False),
        5: _user(5, "newcomer2", False),
    }
    posts = [
        SimpleNamespace(id=10, user_id=4, created_at=T0),
        SimpleNamespace(id=11, user_id=5, created_at=T0),
    ]
    events = [
        _follow(4, 1, 30),  # the newcomer follows an agent first...
        _follow(1, 4, 30),  # ...who follows back, in the same minute
        _follow(2, 4, 40),
        _follow(4, 2, 50),  # ...and the newcomer follows that one back
        _follow(3, 5, 60),  # a person follows the held-out newcomer (allowed)
        _follow(1, 3, 70),
        _follow(1, 3, 80, following=False),
        _follow(1, 3, 90),  # a follow-unfollow cycle
    ]
    return Gallery(
        users=users,
        posts=posts,
        likes=[],
        comments=[],
        newcomer_posts=[10],
        feed_sorts={},
        interests={},
        start=T0,
        end=T0 + timedelta(days=2),
        held_out_posts=[11],
        follow_events=events,
        newcomers={4: T0, 5: T0},
        said_no={3},
    )


def test_the_graph_s_figures_read_from_every_recorded_change() -> None:
    figures = follows.follow_figures(_gallery(), agents=2, days=2.0)
    # In force: 4->1, 1->4, 2->4, 4->2, 3->5, 1->3: four of six returned.
    assert figures["follows_in_force"] == 6
    assert figures["follow_reciprocity"] == round(4 / 6, 3)
    assert figures["agent_follows"] == 4 and figures["unfollows_per_follow"] == 0.25
    assert figures["follow_unfollow_cycles"] == 1
    # Toward the person who said no, as the gallery's consents say at the end: both follows.
    assert figures["people_said_no"] == 1 and figures["follows_toward_said_no"] == 2
    # The held-out newcomer was followed by a person, never by the fleet.
    assert figures["held_out_newcomers_followed_by_agents"] == 0
    assert figures["held_out_newcomers_followed_by_people"] == 1
    assert figures["newcomers_measured"] == 1 and figures["newcomers_followed_within_day"] == 1.0
    assert figures["newcomer_most_agents_first_day"] == 2


def test_a_newcomer_s_day_says_back_only_of_a_follow_returned_in_the_gallery_s_order() -> None:
    day = follows.newcomer_day(_gallery())
    assert day == [
        "+0 min: newcomer1 joins and posts",
        "+30 min: newcomer1 follows ada_bot",
        "+30 min: ada_bot follows newcomer1",
        "+40 min: bo_bot follows newcomer1",
        "+50 min: newcomer1 follows back bo_bot",
    ]
