"""bench.week's designed rhythm: what the personas' weekly schedules ask of each day, the
yardstick its verdict judges the day's actions by."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bench.community import START
from bench.week import designed_actions, paces_by_day, verdict
from fleet.infra.persona_files import PersonaCatalogue


@pytest.fixture(scope="module")
def catalogue() -> PersonaCatalogue:
    return PersonaCatalogue.from_directory()


def test_a_persona_that_works_weekdays_is_asked_less_of_its_weekend(
    catalogue: PersonaCatalogue,
) -> None:
    assert START.weekday() == 0, "the bench's week starts on a Monday"
    weekdays = designed_actions([catalogue.get("data_visualization")], START, 7)
    assert weekdays[0] == pytest.approx(weekdays[4])
    assert weekdays[5] < weekdays[0] / 3 and weekdays[6] == pytest.approx(weekdays[5])
    evenings = designed_actions([catalogue.get("indie_game_dev")], START, 7)
    assert evenings[6] > 2 * evenings[2], "its peaks are Friday to Sunday evenings"


def test_the_fleet_s_mean_is_over_its_agents(catalogue: PersonaCatalogue) -> None:
    one = catalogue.get("social_media_marketer")
    two = catalogue.get("ux_ui_designer")
    alone = [designed_actions([p], START, 2) for p in (one, two, two)]
    mixed = designed_actions([one, two, two], START, 2)
    for day in range(2):
        assert mixed[day] == pytest.approx(sum(a[day] for a in alone) / 3)


def test_the_verdict_judges_actions_by_the_rhythm_not_their_raw_count() -> None:
    """A Sunday asked for a fifth less than a Monday is no drift when the fleet does a
    fifth less; doing a fifth less than asked is."""
    base = {
        "near_duplicate_comments": 0.0,
        "identity_margin": 0.03,
        "queue_latency_p95_s": 1.0,
        "tick_to_effect_p95_s": 1.0,
        "worker_pss_mib": 500.0,
        "database_bytes_per_agent_day": 1000.0,
        "database_bytes": 1.0,
        "memory_rows_per_agent": 1.0,
    }
    steady = [
        base | {"actions_per_designed": r, "database_bytes": n, "memory_rows_per_agent": n}
        for n, r in enumerate([1.5, 1.48, 1.52, 1.5], start=1)
    ]
    assert verdict(steady)["last_day_vs_first"]["actions_per_designed"]["within"] is True
    falling = [
        d | {"actions_per_designed": r} for d, r in zip(steady, [1.5, 1.48, 1.52, 1.2], strict=True)
    ]
    assert verdict(falling)["last_day_vs_first"]["actions_per_designed"]["within"] is False


def test_a_day_s_pace_is_weighted_by_time_and_full_before_the_first_reading() -> None:
    hour = timedelta(hours=1)
    readings = [
        (START + 12 * hour, START + 18 * hour, 0.5),  # day 1: 12 h at 1, then 6 h at 0.5
        (START + 18 * hour, START + 30 * hour, 0.25),  # across midnight: 6 h of day 1, 6 of day 2
    ]
    day1, day2 = paces_by_day(readings, START, 2)
    assert day1 == pytest.approx((12 * 1 + 6 * 0.5 + 6 * 0.25) / 24)
    assert day2 == pytest.approx((6 * 0.25 + 18 * 1) / 24)
