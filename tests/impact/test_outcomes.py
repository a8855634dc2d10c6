"""The impact report's outcomes and statistics (``fleet.impact.outcomes``)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from fleet.impact.holdout import Assignment, Person
from fleet.impact.outcomes import (
    FEWEST,
    actions,
    first_follower,
    mde,
    mean_difference,
    newcombe,
    report,
    returned,
    second_post,
)

T = datetime(2026, 11, 2, 12, tzinfo=UTC)
DAY = timedelta(days=1)


def test_newcombes_interval_matches_the_published_examples() -> None:
    # Newcombe (1998), Statistics in Medicine 17:873-890, table II, method 10.
    d = newcombe(56, 70, 48, 80)
    assert (round(d.low, 4), round(d.high, 4)) == (0.0524, 0.3339)
    d = newcombe(9, 10, 3, 10)
    assert (round(d.low, 4), round(d.high, 4)) == (0.1705, 0.8090)
    with pytest.raises(ValueError, match="out of range"):
        newcombe(5, 4, 1, 10)


def test_the_bootstrap_interval_holds_a_plain_shift() -> None:
    rng = random.Random(3)
    x = [rng.gauss(3.0, 1.0) for _ in range(300)]
    y = [rng.gauss(2.0, 1.0) for _ in range(300)]
    d = mean_difference(x, y)
    assert d.low < 1.0 < d.high and d.low > 0.6 and d.p_value < 1e-6


def test_the_smallest_detectable_effect_shrinks_with_the_sample() -> None:
    # 2.8 standard errors: at p = 0.5, 400 a side, 0.099.
    assert mde(0.25, 400, 400) == pytest.approx(0.099, abs=0.001)
    assert mde(0.25, 1600, 1600) == pytest.approx(mde(0.25, 400, 400) / 2)


def _person(u: int, arm: str, first: datetime, *later_posts: float, comments=()) -> Person:  # type: ignore[no-untyped-def]
    a = Assignment(str(u), f"user{u}", "e", arm, 0.1, first)  # type: ignore[arg-type]
    posts = (first, *(first + d * DAY for d in later_posts))
    return Person(a, posts, tuple(first + d * DAY for d in comments))


def test_the_outcomes_count_days_two_to_seven_and_a_second_post_within_seven() -> None:
    assert not returned(_person(1, "treated", T, 0.5))  # the first day is not a return
    assert returned(_person(1, "treated", T, 1.5))
    assert returned(_person(1, "treated", T, comments=(6.9,)))
    assert not returned(_person(1, "treated", T, 7.5))
    assert second_post(_person(1, "treated", T, 0.5))
    assert not second_post(_person(1, "treated", T, 8))
    assert actions(_person(1, "treated", T, 1, 13, 15, comments=(2,)), 14) == 4


def test_a_first_follower_counts_within_a_day_of_the_first_action() -> None:
    someone = _person(1, "treated", T)
    assert not first_follower(someone)  # nobody followed
    assert first_follower(replace(someone, first_follower=T + DAY - timedelta(minutes=1)))
    assert first_follower(replace(someone, first_follower=T - DAY))  # followed before posting
    assert not first_follower(replace(someone, first_follower=T + DAY + timedelta(minutes=1)))


def _population(effect: float, n: int, seed: int) -> list[Person]:
    rng = random.Random(seed)
    people = []
    for u in range(n):
        arm = "holdout" if rng.random() < 0.5 else "treated"
        p = 0.3 + (effect if arm == "treated" else 0.0)
        later = (rng.uniform(1.1, 6.9),) if rng.random() < p else ()
        people.append(_person(u, arm, T - rng.uniform(15, 20) * DAY, *later))
    return people


def test_the_report_recovers_a_planted_effect_within_its_interval() -> None:
    r = report("e", _population(0.15, 1200, 5), now=T, days=14)
    back = r.outcomes[0]
    assert back.name == "returned_days_2_7" and back.difference is not None
    assert back.difference.covers(0.15) and back.difference.low > 0
    assert back.verdict.startswith("treated people did better")
    null = report("e", _population(0.0, 1200, 6), now=T, days=14).outcomes[0]
    assert null.difference is not None and null.difference.covers(0.0)
    assert null.verdict.startswith("no difference shown")


def test_harm_is_said_plainly() -> None:
    r = report("e", _population(-0.2, 1200, 7), now=T, days=14)
    assert r.outcomes[0].verdict.startswith("HARM")


def test_a_small_sample_says_it_is_too_small_to_conclude() -> None:
    r = report("e", _population(0.3, 2 * FEWEST, 8), now=T, days=14)
    assert all(o.verdict.startswith("too few people to conclude") for o in r.outcomes)


def test_people_count_only_once_their_horizon_has_passed() -> None:
    young = [_person(u, "treated" if u % 2 else "holdout", T - 3 * DAY) for u in range(100)]
    r = report("e", young, now=T, days=14)
    assert r.people == {"treated": 50, "holdout": 50}
    assert all(o.n == {"treated": 0, "holdout": 0} for o in r.outcomes if o.horizon_days > 3)
    # A day's outcome (the first follower) has matured for all of them.
    (day,) = [o for o in r.outcomes if o.horizon_days == 1]
    assert day.name == "first_follower_1d" and day.n == {"treated": 50, "holdout": 50}


def test_the_opted_out_are_counted_apart_in_neither_arm() -> None:
    people = _population(0.0, 200, 9)
    out = {p.assignment.user_id for p in people[:30]}
    r = report("e", people, now=T, days=14, opted_out=out)
    assert r.opted_out == 30
    assert sum(r.people.values()) == 170
    assert r.as_dict()["opted_out"] == 30


def test_a_change_of_share_is_reported() -> None:
    people = _population(0.0, 100, 10)
    moved = [
        Person(
            Assignment(p.assignment.user_id, "x", "e", p.assignment.arm, 0.2, p.first_action),
            p.posts,
        )
        if p.first_action > T - 17 * DAY
        else p
        for p in people
    ]
    r = report("e", moved, now=T, days=14)
    assert [s for s, _ in r.shares] == [0.1, 0.2]
    assert any("share changed" in note for note in r.notes)
