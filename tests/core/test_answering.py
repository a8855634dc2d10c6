"""Which comment an agent answers: people first, conversations now and then, bounded."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from fleet.core.answering import Seen, Unanswered, Waiting, pick_answer, unanswered

T = datetime(2026, 11, 20, 12, tzinfo=UTC)


def _at(minutes: int) -> datetime:
    return T + timedelta(minutes=minutes)


def test_people_are_answered_first_the_longest_waiting_first() -> None:
    my_posts = [
        Seen("1", "bot_a", True, _at(0), None),
        Seen("2", "maya", False, _at(5), None),
        Seen("3", "leo", False, _at(1), None),
    ]
    waiting = unanswered("me", my_posts=my_posts, their_posts=[], my_comments=set())
    chosen = pick_answer(waiting, random.Random(1))
    assert chosen is not None and chosen.author == "leo"
    assert pick_answer(waiting, random.Random(1), done={"3"}).author == "maya"  # type: ignore[union-attr]


def test_a_comment_answered_already_waits_no_more() -> None:
    my_posts = [Seen("1", "maya", False, _at(0), None), Seen("2", "me", False, _at(3), "1")]
    assert unanswered("me", my_posts=my_posts, their_posts=[], my_comments=set()) == []


def test_an_answer_to_my_comment_on_their_post_goes_on_now_and_then() -> None:
    their_posts = [
        Seen("10", "me", True, _at(0), None),  # my comment on their post
        Seen("11", "bot_b", True, _at(4), "10"),  # the author's answer to it
        Seen("12", "bot_c", True, _at(5), None),  # someone else's comment: not mine to answer
    ]
    waiting = unanswered("me", my_posts=[], their_posts=their_posts, my_comments={"10"})
    assert [(w.comment_id, w.why) for w in waiting] == [("11", Waiting.TO_MY_COMMENT)]
    assert pick_answer(waiting, random.Random(0), go_on=1.0) is not None
    assert pick_answer(waiting, random.Random(0), go_on=0.0) is None
    taken = sum(pick_answer(waiting, random.Random(n)) is not None for n in range(2000))
    assert 0.5 < taken / 2000 < 0.7, "the default: now and then"


def test_agents_never_ping_pong_past_three_messages() -> None:
    # On my post: a bot's comment, my reply, the bot's answer to my reply.
    my_posts = [
        Seen("1", "bot_b", True, _at(0), None),
        Seen("2", "me", True, _at(1), "1"),
        Seen("3", "bot_b", True, _at(2), "2"),
    ]
    assert unanswered("me", my_posts=my_posts, their_posts=[], my_comments=set()) == []
    # A person's answer to my reply is answered: people get their conversation.
    person = [*my_posts[:2], Seen("3", "maya", False, _at(2), "2")]
    (waiting,) = unanswered("me", my_posts=person, their_posts=[], my_comments=set())
    assert waiting.why is Waiting.TO_MY_REPLY
    # On their post, an answer to my answer (not to my top-level comment) is not mine.
    their_posts = [
        Seen("10", "me", True, _at(0), None),
        Seen("11", "bot_b", True, _at(1), "10"),
        Seen("12", "me", True, _at(2), "11"),
        Seen("13", "bot_b", True, _at(3), "12"),
    ]
    assert unanswered("me", my_posts=[], their_posts=their_posts, my_comments={"10"}) == []


def test_a_glance_at_the_notifications_answers_other_agents_only_sometimes() -> None:
    waiting = unanswered(
        "me", my_posts=[Seen("1", "bot_b", True, _at(0), None)], their_posts=[], my_comments=set()
    )
    assert pick_answer(waiting, random.Random(3), others=0.0) is None
    assert pick_answer(waiting, random.Random(3), others=1.0) is not None


def test_a_persons_question_about_what_the_agent_is_is_answered_before_older_comments() -> None:
    """``asked``: people's comments asking what the agent is come first, the oldest of
    them first; without it, the oldest person's comment."""
    t0 = datetime(2026, 11, 17, 12, 0, tzinfo=UTC)
    waiting = [
        Unanswered("old", "maya", False, t0, Waiting.ON_MY_POST),
        Unanswered("ask2", "rosa", False, t0 + timedelta(minutes=9), Waiting.ON_MY_POST),
        Unanswered("ask1", "lee", False, t0 + timedelta(minutes=5), Waiting.ON_MY_POST),
    ]
    rng = random.Random(1)
    chosen = pick_answer(waiting, rng, asked={"ask1", "ask2"})
    assert chosen is not None and chosen.comment_id == "ask1"
    plain = pick_answer(waiting, rng)
    assert plain is not None and plain.comment_id == "old"


def test_a_fellow_agents_comment_the_plan_wrote_for_is_taken_first_people_stay_first() -> None:
    my_posts = [Seen(str(n), f"bot_{n}", True, _at(n), None) for n in range(1, 6)]
    waiting = unanswered("me", my_posts=my_posts, their_posts=[], my_comments=set())
    for seed in range(40):
        chosen = pick_answer(waiting, random.Random(seed), planned={"4"})
        assert chosen is None or chosen.comment_id == "4"
    unplanned = {pick_answer(waiting, random.Random(n)) for n in range(200)} - {None}
    assert len(unplanned) > 1, "without a plan, any of them"
    # A person waiting is answered first, whatever the plan wrote for.
    with_person = unanswered(
        "me", my_posts=[*my_posts, Seen("9", "maya", False, _at(9), None)], their_posts=[],
        my_comments=set(),
    )  # fmt: skip
    assert pick_answer(with_person, random.Random(1), planned={"4"}).author == "maya"  # type: ignore[union-attr]


def test_owing_one_answer_per_asker_a_cap_a_day_and_nothing_to_a_no() -> None:
    from fleet.core.answering import Closed, Question, owing

    at = datetime(2026, 11, 20, 12, tzinfo=UTC)
    new = [
        Question(1, "a", "ann", at),
        Question(1, "b", "ann", at + timedelta(minutes=1)),  # a repeat
        Question(1, "c", "bob", at + timedelta(minutes=2), said_no=True),
        Question(1, "d", "cat", at + timedelta(minutes=3)),  # asked before (the ledger)
        Question(1, "e", "dan", at + timedelta(minutes=4)),  # past the cap
        Question(2, "f", "ann", at),  # another agent owes ann its own answer
    ]
    decided = {
        q.comment_id: why
        for q, why in owing(new, asked_before={(1, "cat")}, owed_today={1: 1}, cap=2)
    }
    assert decided == {
        "a": None,
        "b": Closed.ASKED_BEFORE,
        "c": Closed.SAID_NO,
        "d": Closed.ASKED_BEFORE,
        "e": Closed.MANY_TODAY,
        "f": None,
    }
