"""Stepping back as people arrive: the pace, and what it does to the fleet's volume."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fleet.core.pace import PeopleSeen, measure, pace_for
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
    pace = measure(PeopleSeen(posts=20, engagement=180), 100, pace_now=0.5)
    assert pace.fleet_full_per_day == 200 and pace.pace == pytest.approx(0.5)
    assert pace.fleet_share == pytest.approx(100 / 300)
    assert measure(PeopleSeen(0, 0), 0, pace_now=1.0).pace == 1.0


def _fleet_day(day: int, pace: float) -> int:
    """The actions 60 agents of every persona make on ``day`` at ``pace``."""
    total = 0
    for index in range(60):
        slug = sorted(CATALOGUE.slugs())[index % 6]
        rhythm = CATALOGUE.rhythm(slug, 5000 + index, pace=pace)
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
        pace = measure(people, made, pace_now=pace).pace
    made = _fleet_day(1, pace)
    assert days[0] == pytest.approx(full, rel=0.15)
    assert made <= 0.5 * days[0], f"{days} then {made}: the fleet stepped back by half"
    assert all(later <= earlier * 1.15 for earlier, later in itertools.pairwise(days))
