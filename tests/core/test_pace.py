"""Stepping back as people arrive: the pace, and what it does to the fleet's volume."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fleet.core.pace import (
    CountsKept,
    PeopleSeen,
    PostRead,
    Reading,
    measure,
    over_window,
    pace_for,
    people_between,
)
from fleet.core.timeline import simulate
from fleet.infra.persona_files import PersonaCatalogue

CATALOGUE = PersonaCatalogue.from_directory()
MONDAY = datetime(2026, 11, 16, tzinfo=UTC).timestamp()
DAY = 86_400


def test_the_pace_is_full_alone_and_falls_as_people_do_more() -> None:
    assert pace_for(0.0) == 1.0
    assert pace_for(1.0) == pytest.approx(0.5), "at parity the fleet makes a third"
    assert pace_for(5.0) == pytest.approx(1 / 6)
    assert pace_for(1000.0) == 0.1, "never below the floor: newcomers are still welcomed"
    assert pace_for(5.0, share=0.5) == 1.0, "a share of one half never steps back"


@given(a=st.floats(0, 1e6), b=st.floats(0, 1e6))
def test_more_people_never_raise_the_pace(a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert pace_for(high) <= pace_for(low)


@pytest.mark.parametrize(
    ("share", "floor"), [(0.0, 0.1), (0.6, 0.1), (math.nan, 0.1), (0.3, 0.0), (0.3, math.inf)]
)
def test_a_bad_share_or_floor_is_refused(share: float, floor: float) -> None:
    with pytest.raises(ValueError, match=r"share|floor"):
        pace_for(1.0, share=share, floor=floor)


def test_the_measure_compares_people_with_the_fleet_at_full_pace() -> None:
    # The fleet made 100 actions at pace 0.5: 200 at full pace. People made 200.
    pace = measure(PeopleSeen(posts=20, engagement=180), 100, pace_ran=0.5)
    assert pace.fleet_full_per_day == 200 and pace.pace == pytest.approx(0.5)
    assert pace.fleet_share == pytest.approx(100 / 300)
    assert measure(PeopleSeen(0, 0), 0, pace_ran=1.0).pace == 1.0


def _fleet_day(day: int, pace: float) -> int:
    """The actions 60 agents of every persona make on ``day`` at ``pace``."""
    total = 0
    for index in range(60):
        slug = sorted(CATALOGUE.slugs())[index % 6]
        rhythm = CATALOGUE.cadences[slug].rhythm(5000 + index, pace=pace)
        start = MONDAY + day * DAY
        total += sum(
            1
            for tick in simulate(CATALOGUE.get(slug), rhythm, start, start + DAY)
            if tick.action is not None
        )
    return total


def test_as_people_grow_to_five_times_the_fleet_its_daily_actions_fall_by_half() -> None:
    full = _fleet_day(0, 1.0)
    pace, days = 1.0, []
    for day, ratio in enumerate((0.0, 0.5, 1.0, 2.0, 3.5, 5.0)):
        made = _fleet_day(day % 2, pace)  # weekdays: the same rhythm, day after day
        days.append(made)
        people = PeopleSeen(posts=0, engagement=round(ratio * full))
        pace = measure(people, made, pace_ran=pace).pace
    made = _fleet_day(1, pace)
    assert days[0] == pytest.approx(full, rel=0.15)
    assert made <= 0.5 * days[0], f"{days} then {made}: the fleet stepped back by half"
    assert all(later <= earlier * 1.15 for earlier, later in itertools.pairwise(days))


T0 = datetime(2026, 11, 17, 12, 0, tzinfo=UTC)


def _read(post_id: str, *, born: datetime, total: int, person: bool = False) -> PostRead:
    return PostRead(post_id, born, person, likes=total, comments=0)


def test_between_readings_people_are_what_counts_grew_by_beyond_the_fleet() -> None:
    start = T0
    kept = {
        "old": CountsKept(total=40, fleet=10, read_at=start),
        "stale": CountsKept(total=5, fleet=0, read_at=start - timedelta(hours=3)),
    }
    posts = [
        _read("old", born=T0 - timedelta(days=1), total=47),  # +7, 2 of them the fleet's
        _read("new", born=T0 + timedelta(minutes=4), total=3, person=True),  # 3, 1 ours
        _read("stale", born=T0 - timedelta(days=1), total=60),  # not read at start
        _read("never", born=T0 - timedelta(hours=5), total=90),  # came into a feed just now
    ]
    fleet_now = {"old": 12, "new": 1, "stale": 4}
    seen = people_between(posts, kept, fleet_now, start=start)
    assert seen == PeopleSeen(posts=1, engagement=(7 - 2) + (3 - 1))


def test_an_engagement_in_the_second_of_a_reading_is_counted_once() -> None:
    """Counts, not times: the fleet's like made in the reading's very second, after the
    gallery was read, shows on the next reading, and so does the ledger's row for it."""
    start = T0
    before = {"p": CountsKept(total=5, fleet=5, read_at=start)}
    # Read at ``start``: 5 on the gallery, 5 in the ledger. The like lands, stamped
    # ``start``; the next reading sees 6 and 6.
    assert people_between([_read("p", born=T0, total=6)], before, {"p": 6}, start=start) == (
        PeopleSeen(0, 0)
    )
    # A person's post made in the second of the last reading, after it read the feeds.
    made = _read("q", born=start, total=0, person=True)
    assert people_between([made], {}, {}, start=start).posts == 1


def test_a_fleet_like_kept_before_the_gallery_shows_it_is_made_up_for_next_time() -> None:
    """Summed before the floor: one post's shortfall offsets another's growth."""
    start = T0
    kept = {"a": CountsKept(10, 0, start), "b": CountsKept(10, 0, start)}
    posts = [_read("a", born=T0 - timedelta(days=1), total=10), _read("b", born=T0, total=14)]
    ours = {"a": 1, "b": 1}
    assert people_between(posts, kept, ours, start=start).engagement == 2
    assert people_between(posts[:1], kept, ours, start=start).engagement == 0


@given(
    grown=st.lists(st.integers(0, 50), min_size=1, max_size=20),
    ours=st.lists(st.integers(0, 50), min_size=1, max_size=20),
)
def test_people_are_never_negative_nor_more_than_the_counts_grew(
    grown: list[int], ours: list[int]
) -> None:
    start = T0
    kept = {str(n): CountsKept(100, 0, start) for n in range(len(grown))}
    posts = [_read(str(n), born=T0 - timedelta(days=1), total=100 + g) for n, g in enumerate(grown)]
    fleet_now = {str(n): k for n, k in enumerate(ours[: len(grown)])}
    seen = people_between(posts, kept, fleet_now, start=start)
    assert 0 <= seen.engagement <= sum(grown)


def test_the_window_is_a_rate_a_day_with_the_pace_weighted_by_time() -> None:
    now = T0 + timedelta(hours=12)
    readings = [
        Reading(T0 - timedelta(hours=1), T0, PeopleSeen(50, 50), 1.0),  # ended before
        Reading(T0, T0 + timedelta(hours=3), PeopleSeen(3, 30), 1.0),
        Reading(T0 + timedelta(hours=3), now, PeopleSeen(3, 84), 0.5),
    ]
    window = over_window(readings, now=now, window=timedelta(hours=12))
    assert window is not None and window.start == T0
    assert window.people_per_day == PeopleSeen(posts=12, engagement=228)
    assert window.pace_ran == pytest.approx((3 * 1.0 + 9 * 0.5) / 12)
    assert over_window(readings[:1], now=now, window=timedelta(hours=12)) is None
