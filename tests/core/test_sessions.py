"""Sessions, activity levels and daily quotas: pure functions of (persona, seed, time)."""

from __future__ import annotations

import itertools
import math
import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.realism import gini, kim_jo_burstiness, measure
from fleet.core.activity_level import activity_level, agent_sessions
from fleet.core.persona import Action, ActionWeights, Quotas, Sessions
from fleet.core.quotas import DayQuotaBook, kept_days, local_day, within_quota
from fleet.core.sessions import (
    Position,
    answer_index,
    first_post_index,
    length_table,
    mean_session_length,
    session_action,
    session_length,
    session_says,
    session_speaks,
)
from fleet.core.timeline import simulate
from fleet.infra.persona_files import PersonaCatalogue
from tests.conftest import examples

CATALOGUE = PersonaCatalogue.from_directory()
SLUGS = sorted(CATALOGUE.slugs())
# Four weeks across the end of summer time in Europe (10-25) and in the US (11-01).
START = datetime(2026, 10, 19, tzinfo=UTC).timestamp()
END = START + 28 * 86_400

seeds = st.integers(min_value=0, max_value=2**62)
instants = st.floats(min_value=1.7e9, max_value=1.9e9)


@settings(max_examples=examples(200), deadline=None)
@given(slug=st.sampled_from(SLUGS), seed=seeds, after=instants)
def test_each_tick_follows_the_last_awake_and_at_least_a_second_later(
    slug: str, seed: int, after: float
) -> None:
    rhythm = CATALOGUE.cadences[slug].rhythm(seed)
    clock = CATALOGUE.clock(slug)
    persona_shape = CATALOGUE.get(slug).sessions
    assert persona_shape is not None
    shape = agent_sessions(persona_shape, clock, rhythm.level)  # a busy agent's are longer
    current = rhythm.start(after)
    assert current.due > after and current.index == 0
    for _ in range(60):
        nxt = rhythm.following(current)
        assert nxt.due >= math.floor(current.due) + 1  # ticks are named by distinct seconds
        assert clock.multiplier_epoch(nxt.due) > 0  # nobody acts in a dormant window
        if nxt.index == 0:
            assert nxt.opened == math.floor(nxt.due)
        else:
            # Inside a session: the next index, the same opening, a wall-clock gap in bounds.
            assert (nxt.opened, nxt.index) == (current.opened, current.index + 1)
            assert nxt.index < session_length(shape, seed, nxt.opened)
            assert nxt.due - current.due <= shape.gap_max_seconds + 1
        current = nxt


@given(slug=st.sampled_from(SLUGS), seed=seeds, after=instants)
def test_the_timeline_is_a_pure_function_of_seed_and_time(
    slug: str, seed: int, after: float
) -> None:
    def walk() -> list[Position]:
        fresh = PersonaCatalogue.from_directory()  # nothing cached carries over
        rhythm = fresh.cadences[slug].rhythm(seed)
        out = [rhythm.start(after)]
        for _ in range(20):
            out.append(rhythm.following(out[-1]))
        return out

    assert walk() == walk()


@given(seed=seeds, opened=st.integers(1_700_000_000, 1_900_000_000))
def test_a_session_opens_on_the_feed_and_posts_at_most_once(seed: int, opened: int) -> None:
    weights = CATALOGUE.get("ai_art_enthusiast").weights
    actions = [session_action(weights, seed, opened, index) for index in range(40)]
    assert actions[0] is Action.BROWSE
    assert actions.count(Action.POST) <= 1


def test_a_sessions_actions_after_the_opening_follow_the_weights() -> None:
    weights = ActionWeights(post=0.05, comment=0.2, like=0.5, browse=0.25)
    counts: Counter[Action] = Counter()
    sessions = 4000
    for opened in range(sessions):
        for index in range(1, 6):
            counts[session_action(weights, 11, 1_800_000_000 + opened, index)] += 1
    # A post is the first success of a 5 % draw: P(a post among 5 actions) = 1 - 0.95^5.
    assert counts[Action.POST] / sessions == pytest.approx(1 - 0.95**5, abs=0.02)
    rest = counts[Action.COMMENT] + counts[Action.LIKE] + counts[Action.BROWSE]
    assert counts[Action.LIKE] / rest == pytest.approx(0.5 / 0.95, abs=0.02)
    assert counts[Action.COMMENT] / rest == pytest.approx(0.2 / 0.95, abs=0.02)


def test_what_a_session_says_counts_its_follows_beside_its_words() -> None:
    """The plan's ask: comments, replies, posts and follows as drawn; follows alone never
    make a session speak (no plan is written for them)."""
    shape = CATALOGUE.get(SLUGS[0]).sessions
    assert shape is not None
    weights = ActionWeights(post=0.05, comment=0.2, like=0.3, browse=0.25, follow=0.2)
    found = {"with_words": 0, "alone": 0}
    for opened in range(1_800_000_000, 1_800_000_000 + 3000):
        said = session_says(shape, weights, 11, opened)
        drawn = Counter(
            session_action(weights, 11, opened, i).value
            for i in range(1, session_length(shape, 11, opened))
        )
        assert said == {k: n for k, n in drawn.items() if k in ("comment", "post", "follow")}
        if said.get("follow"):
            speaks = session_speaks(shape, weights, 11, opened)
            found["with_words" if speaks else "alone"] += 1
            assert speaks == bool(set(said) - {"follow"})
    assert found["with_words"] and found["alone"]


def test_a_persona_without_post_weight_never_posts() -> None:
    weights = ActionWeights(post=0, comment=1, like=1, browse=1)
    assert first_post_index(weights, 3, 1_800_000_000) > 10**6


@pytest.mark.parametrize(("mean", "cap"), [(1.0, 1), (3.0, 40), (3.5, 40), (8.0, 60), (20.5, 40)])
def test_session_lengths_have_the_mean_asked_under_the_cap(mean: float, cap: int) -> None:
    table = length_table(mean, cap)
    assert len(table) == cap and table[-1] == 1.0
    assert all(b >= a for a, b in itertools.pairwise(table))
    shape = Sessions(
        per_day=10, mean_actions=mean, max_actions=cap, gap_min_seconds=5, gap_max_seconds=60
    )
    assert mean_session_length(shape) == pytest.approx(mean, rel=1e-3)
    drawn = [session_length(shape, 5, second) for second in range(20_000)]
    assert max(drawn) <= cap and min(drawn) >= 1
    assert statistics.fmean(drawn) == pytest.approx(mean, rel=0.08)


def test_session_lengths_are_heavy_tailed() -> None:
    shape = CATALOGUE.get("social_media_marketer").sessions
    assert shape is not None
    drawn = [session_length(shape, 9, second) for second in range(20_000)]
    # Most sessions are short, a few are several times the mean (a geometric count with
    # the same mean would almost never reach 4x it).
    assert statistics.median(drawn) < shape.mean_actions
    assert sum(d >= 4 * shape.mean_actions for d in drawn) / len(drawn) > 0.03


def test_activity_levels_are_heavy_tailed_around_a_median_of_one() -> None:
    levels = [activity_level(seed, 1.0) for seed in range(4000)]
    assert statistics.median(levels) == pytest.approx(1.0, abs=0.08)
    assert 0.4 < gini(levels) < 0.6  # a log-normal of sigma 1: about 0.52
    assert max(levels) > 10 * statistics.median(levels)  # a few busy accounts
    assert activity_level(123, 1.0) == activity_level(123, 1.0)


def test_an_activity_level_set_by_hand_scales_the_sessions() -> None:
    persona = CATALOGUE.get("data_visualization")
    clock = CATALOGUE.clock(persona.slug)

    def sessions(level: float) -> int:
        rhythm = CATALOGUE.cadences[persona.slug].rhythm(77, activity=level)
        assert rhythm.level == level
        return len({t.opened for t in simulate(persona, rhythm, START, END)})

    assert clock is not None
    busy, quiet = sessions(2.0), sessions(0.5)
    assert busy / quiet == pytest.approx(4.0, rel=0.25)


def test_quotas_fall_to_the_next_kind_and_then_to_nothing() -> None:
    quotas = Quotas(post=1, comment=2, like=0)
    assert within_quota(Action.POST, {}, quotas) == (Action.POST, None)
    turned = within_quota(Action.POST, {"post": 1}, quotas)
    assert turned == (Action.COMMENT, "daily quota: 1 post(s) already today")
    # The registry's order: post, comment, reply, like, follow, browse.
    assert within_quota(Action.POST, {"post": 1, "comment": 2}, quotas)[0] is Action.REPLY
    no_replies = Quotas(post=1, comment=2, reply=0, like=0, follow=0)
    assert within_quota(Action.POST, {"post": 1, "comment": 2}, no_replies)[0] is Action.BROWSE
    # A like past its quota falls to a follow while the follow's own quota lasts.
    assert within_quota(Action.LIKE, {}, quotas)[0] is Action.FOLLOW
    with_follows = Quotas(like=0, follow=2)
    assert within_quota(Action.LIKE, {"follow": 2}, with_follows)[0] is Action.BROWSE
    assert within_quota(Action.FOLLOW, {"follow": 2}, with_follows)[0] is Action.BROWSE
    spent = within_quota(Action.BROWSE, {"browse": 3}, Quotas(browse=3))
    assert spent == (None, "daily quota: 3 browse(s) already today")


def test_a_share_of_the_reply_quota_is_kept_for_people() -> None:
    """Replies of its own accord stop at 7 of 10 a day (falling as past the quota); one a
    person's comment called takes the 3 kept, and then the quota holds for it too."""
    book = DayQuotaBook(Quotas(reply=10), ZoneInfo("UTC"))
    day = START + 3600.0
    own = [book.decide(day + i, Action.REPLY) for i in range(8)]
    assert [a for a, _ in own[:7]] == [Action.REPLY] * 7
    assert own[7] == (Action.LIKE, "daily quota: 7 reply(s) of its own, 3 kept for people")
    called = [book.decide(day + 10 + i, Action.REPLY, for_people=True) for i in range(4)]
    assert [a for a, _ in called] == [Action.REPLY] * 3 + [Action.LIKE]
    assert called[3][1] == "daily quota: 10 reply(s) already today"
    # The next local day starts afresh.
    assert book.decide(day + 86_400, Action.REPLY) == (Action.REPLY, None)


def test_day_counts_keep_the_newest_days_so_a_late_tick_counts_on_its_own_day() -> None:
    book = DayQuotaBook(Quotas(), ZoneInfo("UTC"))
    noon: dict[str, float] = {}
    for day in ("2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23"):
        noon[day] = datetime.fromisoformat(f"{day}T12:00:00+00:00").timestamp()
        assert book.decide(noon[day], Action.POST) == (Action.POST, None)
    # Decided late, for the day before: it counts on its own day.
    assert book.decide(noon["2026-11-22"], Action.POST) == (Action.POST, None)
    days = kept_days(book.stored)
    assert days["2026-11-22"] == {"post": 2}
    assert days["2026-11-23"] == {"post": 1}
    assert "2026-11-20" not in days  # only the three newest days are kept
    assert kept_days(None) == {}
    # What a row holds that is no count is not read as one.
    assert kept_days({"2026-11-23": {"post": 2.0, "like": "x"}, "junk": 3}) == {
        "2026-11-23": {"post": 2}
    }


@pytest.mark.long
@pytest.mark.parametrize("slug", SLUGS)
def test_no_agent_passes_its_posts_quota_in_any_local_day_over_four_weeks(slug: str) -> None:
    persona = CATALOGUE.get(slug)
    zone = ZoneInfo(persona.schedule.timezone)
    quota = persona.quotas.limit(Action.POST)
    assert quota is not None
    for index in range(20):
        # The busiest agents are the ones that meet the quota: level 20 is the clamp.
        level = 20.0 if index < 5 else None
        rhythm = CATALOGUE.cadences[slug].rhythm(1000 + index, activity=level)
        posts: Counter[str] = Counter()
        for tick in simulate(persona, rhythm, START, END):
            if tick.action is Action.POST:
                posts[local_day(zone, tick.due)] += 1
        assert max(posts.values(), default=0) <= quota
        if level is not None:
            assert max(posts.values()) == quota  # and a busy agent does meet it


@pytest.mark.parametrize("slug", SLUGS)
def test_each_persona_is_bursty_and_posts_at_human_volumes(slug: str) -> None:
    persona = CATALOGUE.get(slug)
    figures = measure(persona, CATALOGUE, 20, START, START + 14 * 86_400)
    per_day = figures["actions_per_agent_per_day"]
    assert figures["burstiness_active_time"] >= 0.3
    assert 0.3 <= per_day["post"]["mean"] <= 3
    assert per_day["like"]["mean"] >= 3 * per_day["post"]["mean"]
    assert per_day["comment"]["mean"] <= per_day["like"]["mean"]
    assert figures["max_posts_in_a_local_day"] <= (persona.quotas.limit(Action.POST) or 0)


def test_kim_jo_burstiness_tells_a_metronome_from_poisson_from_bursts() -> None:
    import random

    rng = random.Random(5)
    metronome = [60.0] * 200
    poisson = [rng.expovariate(1 / 60) for _ in range(2000)]
    bursty = [rng.choice([2.0, 3.0, 5.0]) if rng.random() < 0.9 else 5000.0 for _ in range(2000)]
    b_metronome = kim_jo_burstiness(metronome)
    b_poisson = kim_jo_burstiness(poisson)
    b_bursty = kim_jo_burstiness(bursty)
    assert b_metronome is not None and b_metronome < -0.9
    assert b_poisson is not None and abs(b_poisson) < 0.1
    assert b_bursty is not None and b_bursty > 0.4
    assert kim_jo_burstiness([1.0, 2.0]) is None


def test_the_local_day_turns_at_local_midnight_across_a_dst_change() -> None:
    zone = ZoneInfo("America/Los_Angeles")
    # 2026-11-01 is the day the US leaves summer time: 25 hours long in Los Angeles.
    midnight = datetime(2026, 11, 1, tzinfo=zone).timestamp()
    nxt = datetime(2026, 11, 2, tzinfo=zone).timestamp()
    assert nxt - midnight == timedelta(hours=25).total_seconds()
    assert local_day(zone, midnight - 1) == "2026-10-31"
    assert local_day(zone, midnight) == local_day(zone, nxt - 1) == "2026-11-01"


def test_only_a_speaking_session_s_opening_look_asks_for_a_thought() -> None:
    """Over a simulated fortnight: a look thinks exactly when it opens a session whose
    drawn actions hold a comment, a reply or a post; thoughts fall far below looks."""
    catalogue = PersonaCatalogue.from_directory()
    persona = catalogue.get("ai_art_enthusiast")
    start = datetime(2026, 11, 2, tzinfo=UTC).timestamp()
    looks = thoughts = 0
    for seed in range(5):
        rhythm = catalogue.cadences[persona.slug].rhythm(seed)
        sessions: dict[int, list[tuple[int, Action]]] = {}
        for tick in simulate(persona, rhythm, start, start + 14 * 86_400):
            sessions.setdefault(tick.opened, []).append((tick.index, tick.chosen))
        for opened, drawn in sessions.items():
            speaks = any(action in WORDS_OF_A_SESSION for _, action in drawn)
            for index, action in drawn:
                if action is not Action.BROWSE:
                    continue
                looks += 1
                thinks = rhythm.thinks(opened, index)
                thoughts += thinks
                assert thinks == (index == 0 and speaks), (opened, index, drawn)
    assert looks > 200 and thoughts * 3 < looks


WORDS_OF_A_SESSION = {Action.COMMENT, Action.REPLY, Action.POST}


def test_a_steady_ticker_thinks_at_every_look() -> None:
    catalogue = PersonaCatalogue.from_directory()
    rhythm = catalogue.cadences["ux_ui_designer"].rhythm(3, interval=(60.0, 120.0))
    assert rhythm.thinks(None, 0) and rhythm.thinks(1_700_000_000, 4)


@settings(max_examples=examples(200), deadline=None)
@given(seed=seeds, opened=st.integers(min_value=1_700_000_000, max_value=1_900_000_000))
def test_a_session_of_an_agent_others_may_have_answered_answers_first(
    seed: int, opened: int
) -> None:
    weights = CATALOGUE.get("indie_game_dev").weights
    plain = [session_action(weights, seed, opened, index) for index in range(12)]
    answering = [session_action(weights, seed, opened, index, answers=True) for index in range(12)]
    at = answer_index(weights, seed, opened)
    assert answering[0] is Action.BROWSE and answering[at] is Action.REPLY
    # Only that one action changes: the session still posts when it did, once.
    assert [a for i, a in enumerate(answering) if i != at] == [
        a for i, a in enumerate(plain) if i != at
    ]
    assert at == (2 if plain[1] is Action.POST else 1)


@settings(max_examples=examples(200), deadline=None)
@given(seed=seeds, opened=st.integers(min_value=1_700_000_000, max_value=1_900_000_000))
def test_a_session_of_an_agent_a_person_waits_on_opens_by_answering(seed: int, opened: int) -> None:
    """Called back as by a phone: whatever the position (the opening look of a session
    of one action, as most are, or mid-session), the action answers; only the
    session's post keeps its place."""
    weights = CATALOGUE.get("indie_game_dev").weights
    plain = [session_action(weights, seed, opened, index) for index in range(12)]
    called = [session_action(weights, seed, opened, index, notified=True) for index in range(12)]
    assert plain[0] is Action.BROWSE and called[0] is Action.REPLY
    assert all(
        c is (Action.POST if p is Action.POST else Action.REPLY)
        for p, c in zip(plain, called, strict=True)
    )
