"""The newcomer holdout in the pure core: assignment by hash, and no agent singles a
held-out (or opted-out) person out: not a like, a comment or a reply."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fleet.core.answering import Seen, pick_answer, unanswered
from fleet.core.target_choice import choose_target
from fleet.core.taste import Candidate, Weights, Welcome
from fleet.impact.holdout import (
    Assignment,
    Spared,
    arm,
    check_experiment,
    check_share,
    held_now,
    newly_assigned,
)

T = datetime(2026, 11, 20, 12, tzinfo=UTC)


def _held_out_ids(experiment: str, share: float, n: int = 4000) -> list[str]:
    return [str(u) for u in range(n) if arm(str(u), experiment, share) == "holdout"]


def test_the_arms_follow_the_share_within_two_points_over_400_people() -> None:
    for experiment in ("newcomers1", "newcomers2", "spring"):
        held = _held_out_ids(experiment, 0.1, 400)
        assert abs(len(held) / 400 - 0.1) <= 0.02, (experiment, len(held))


def test_assignment_is_deterministic_and_a_new_experiment_draws_anew() -> None:
    first = _held_out_ids("newcomers1", 0.1)
    assert first == _held_out_ids("newcomers1", 0.1)
    second = _held_out_ids("newcomers2", 0.1)
    overlap = len(set(first) & set(second)) / len(first)
    assert overlap < 0.2  # independent draws share about a tenth, not all


def test_a_share_of_zero_holds_nobody_out() -> None:
    assert _held_out_ids("newcomers1", 0.0) == []
    assert not Spared("newcomers1", 0.0).spares("42")


@given(st.text(min_size=1, max_size=20), st.floats(0.01, 0.5))
def test_a_larger_share_only_adds_people_to_the_holdout(user: str, share: float) -> None:
    if arm(user, "x", share) == "holdout":
        assert arm(user, "x", min(0.5, share + 0.1)) == "holdout"


@pytest.mark.parametrize("name", ["", "A", "1abc", "a b", "x" * 33, "drop;table", "é"])
def test_an_experiment_name_that_is_not_a_short_identifier_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="not a short identifier"):
        check_experiment(name)
    assert check_experiment("newcomers-2026_a") == "newcomers-2026_a"


@pytest.mark.parametrize("share", [-0.1, 0.51, float("nan"), float("inf")])
def test_a_share_out_of_bounds_is_refused(share: float) -> None:
    with pytest.raises(ValueError, match="holdout share"):
        check_share(share)


def test_an_assigned_person_keeps_their_arm_when_the_share_changes() -> None:
    people = {str(u): (f"user{u}", T) for u in range(200)}
    before = newly_assigned(people, set(), experiment="e", share=0.1)
    held = {a.user_id for a in before if a.arm == "holdout"}
    # The share goes up to 0.5: a recorded person keeps the record's arm.
    spared = Spared("e", 0.5, held=frozenset(held), known=frozenset(people))
    assert {u for u in people if spared.spares(u)} == held
    # A person not yet recorded is spared by the hash at the share in force.
    assert spared.spares("9999") == (arm("9999", "e", 0.5) == "holdout")
    # Already recorded people are not assigned again.
    assert newly_assigned(people, set(people), experiment="e", share=0.5) == []


def test_the_holdout_ends_after_its_days() -> None:
    recorded = [
        Assignment("1", "a", "e", "holdout", 0.1, T - timedelta(days=15)),
        Assignment("2", "b", "e", "holdout", 0.1, T - timedelta(days=3)),
        Assignment("3", "c", "e", "treated", 0.1, T - timedelta(days=3)),
    ]
    assert held_now(recorded, now=T, days=14) == {"2"}


def _spared_for(held: str) -> Spared:
    return Spared("e", 0.1, held=frozenset({held}), known=frozenset({held, "u-treated"}))


def _page() -> list[Candidate]:
    return [
        Candidate("p1", "held", False, age_seconds=3600, author_id="u-held", kindred=True),
        Candidate("p2", "treated", False, age_seconds=3600, author_id="u-treated", kindred=True),
        Candidate("p3", "bot", True, age_seconds=3600),
    ]


@pytest.mark.parametrize("kind", ["like", "comment"])
@pytest.mark.parametrize("taste", [None, Weights(scroll=None, pass_over=None)])
def test_no_like_or_comment_goes_to_a_held_out_person(kind: str, taste: Weights | None) -> None:
    chosen = set()
    for seed in range(200):
        c = choose_target(
            _page(),
            me="me",
            already=set(),
            recent_bot_engagements={},
            cap_per_hour=3,
            human_share=0.9,
            rng=random.Random(seed),
            taste=taste,
            welcome=Welcome() if taste else None,
            kind=kind,
            spared=_spared_for("u-held"),
        )
        assert c is not None
        chosen.add(c.post_id)
    assert "p1" not in chosen and "p2" in chosen
    # Without the holdout the same draws do reach the person.
    reached = {
        choose_target(
            _page(),
            me="me",
            already=set(),
            recent_bot_engagements={},
            cap_per_hour=3,
            human_share=0.9,
            rng=random.Random(seed),
            taste=taste,
            welcome=Welcome() if taste else None,
            kind=kind,
        ).post_id  # type: ignore[union-attr]
        for seed in range(200)
    }
    assert "p1" in reached


def test_an_opted_out_person_is_spared_whatever_their_arm() -> None:
    spared = Spared("e", 0.0, known=frozenset({"u-out"}), opted_out=frozenset({"u-out"}))
    assert spared.spares("u-out") and not spared.spares("u-other")


def test_no_reply_goes_to_a_held_out_person() -> None:
    my_posts = [
        Seen("1", "held", False, T, None, "u-held"),
        Seen("2", "treated", False, T + timedelta(minutes=5), None, "u-treated"),
    ]
    waiting = unanswered("me", my_posts=my_posts, their_posts=[], my_comments=set())
    spared = _spared_for("u-held")
    assert pick_answer(waiting, random.Random(1)).comment_id == "1"  # type: ignore[union-attr]
    assert pick_answer(waiting, random.Random(1), spared=spared).comment_id == "2"  # type: ignore[union-attr]
    assert pick_answer(waiting, random.Random(1), done={"2"}, spared=spared) is None


def test_a_held_out_persons_question_about_the_agent_is_answered_an_opted_out_ones_not() -> None:
    """Honesty outranks the holdout (issue 67): a question owed (``asked``) from a held-out
    person is answered first; their ordinary comment stays spared; a person who opted out
    is answered nothing."""
    my_posts = [
        Seen("1", "held", False, T, None, "u-held"),
        Seen("2", "held", False, T + timedelta(minutes=1), None, "u-held"),
        Seen("3", "out", False, T + timedelta(minutes=2), None, "u-out"),
    ]
    waiting = unanswered("me", my_posts=my_posts, their_posts=[], my_comments=set())
    spared = Spared(
        "e",
        0.1,
        held=frozenset({"u-held"}),
        known=frozenset({"u-held"}),
        opted_out=frozenset({"u-out"}),
    )
    rng = random.Random(1)
    assert pick_answer(waiting, rng, spared=spared) is None, "the holdout spares the rest"
    chosen = pick_answer(waiting, rng, spared=spared, asked={"1"})
    assert chosen is not None and chosen.comment_id == "1"
    assert pick_answer(waiting, rng, spared=spared, asked={"3"}) is None, "their no outranks all"
