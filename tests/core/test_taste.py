"""Taste, pure: what a person would pick from the feeds, and a newcomer's welcome."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fleet.core.target_choice import choose_target
from fleet.core.taste import (
    Candidate,
    Weights,
    Welcome,
    appeal,
    draw,
    draw_or_pass,
    scores,
    seen,
)

HOUR = 3600.0


def _post(post_id: str, **fields: object) -> Candidate:
    base: dict[str, object] = {"author": f"a{post_id}", "author_is_agent": True}
    return Candidate(post_id, **(base | fields))  # type: ignore[arg-type]


def _picks(candidates: list[Candidate], weights: Weights, n: int = 2000) -> Counter[str]:
    rng = random.Random(5)
    return Counter(draw(candidates, weights, rng).post_id for _ in range(n))


def test_a_post_closer_to_the_agents_interests_is_picked_far_more_often() -> None:
    page = [_post("near", similarity=0.89), *(_post(str(i), similarity=0.80) for i in range(9))]
    picks = _picks(page, Weights(explore=0.0))
    assert picks["near"] > 0.5 * sum(picks.values())
    # Without vectors, fit weighs nothing: the same page is a fair draw.
    blind = [_post(c.post_id) for c in page]
    assert _picks(blind, Weights(explore=0.0))["near"] < 0.2 * 2000


def test_popular_fresh_and_friendly_posts_score_higher() -> None:
    weights = Weights()
    plain, popular, stale, friend = scores(
        [
            _post("plain", age_seconds=HOUR),
            _post("popular", age_seconds=HOUR, likes=15, comments=2),
            _post("stale", age_seconds=72 * HOUR),
            _post("friend", age_seconds=HOUR, ties=3),
        ],
        weights,
    )
    assert popular > plain > stale
    assert friend > plain
    # Each doubling of engagement is worth the same: attention compounds, then slows.
    one, three, seven = scores(
        [_post("1", likes=1), _post("3", likes=3), _post("7", likes=7)], weights
    )
    assert three - one == pytest.approx(seven - three)


def test_a_hit_draws_the_agents_it_fits_and_not_the_others() -> None:
    """Popularity counts whole at the page's mean fit and above, nothing a standard
    deviation below it: a hit of another crowd is scrolled past."""
    weights = Weights()
    page = [
        _post("hit_here", similarity=0.90, likes=63),
        _post("new_here", similarity=0.90),
        _post("hit_elsewhere", similarity=0.70, likes=63),
        _post("new_elsewhere", similarity=0.70),
        *(_post(f"m{i}", similarity=0.80) for i in range(4)),
    ]
    hit_here, new_here, hit_elsewhere, new_elsewhere, *_ = scores(page, weights)
    assert hit_here - new_here == pytest.approx(6 * weights.popularity)
    assert hit_elsewhere == pytest.approx(new_elsewhere)


def test_appeal_is_shared_by_every_viewer_and_spread_like_a_standard_normal() -> None:
    """The same post's appeal for every viewer and process; across posts a mean of 0 and
    a deviation of 1, part of it the author's (posts of one author alike), part luck."""
    assert appeal("tile_tomas", "42") == appeal("tile_tomas", "42")
    assert appeal("tile_tomas", "42") != appeal("tile_tomas", "43")
    values = [appeal(f"author{i % 400}", str(i)) for i in range(20_000)]
    mean = sum(values) / len(values)
    sd = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5
    assert abs(mean) < 0.1 and 0.9 < sd < 1.1
    # An author's craft: two posts of one author correlate (0.4 of the variance is theirs).
    pairs = [(appeal(f"p{i}", "1"), appeal(f"p{i}", "2")) for i in range(4000)]
    covariance = sum(a * b for a, b in pairs) / len(pairs)
    assert 0.3 < covariance < 0.5


def test_a_post_of_more_appeal_draws_every_viewer_more_whatever_their_interests() -> None:
    weights = Weights(explore=0.0)
    page = [
        _post("striking", similarity=0.70, appeal=2.0),
        _post("plain", similarity=0.70),
        *(_post(f"m{i}", similarity=0.80) for i in range(4)),
    ]
    # Off the agent's interests too, it scores its appeal more than a plain post.
    striking, plain, *_ = scores(page, weights)
    assert striking - plain == pytest.approx(2.0 * weights.appeal)
    alike = [replace(c, similarity=0.80) for c in page]
    picks = _picks(alike, weights)
    assert picks["striking"] > 10 * picks["plain"] > 0
    # Weighed 0, appeal is ignored.
    blind = _picks(alike, replace(weights, appeal=0.0))
    assert blind["striking"] < 2 * blind["plain"]


def test_people_come_first_by_the_person_weight() -> None:
    agent, person = scores([_post("bot"), _post("person", author_is_agent=False)], Weights())
    assert person - agent == pytest.approx(Weights().person)
    assert scores([_post("p", author_is_agent=False)], Weights(person=0)) == scores(
        [_post("b")], Weights(person=0)
    )


def test_people_and_the_welcome_come_first_only_for_agents_whose_taste_they_fit() -> None:
    weights = Weights(fit=0.0)  # the bonus alone: fit's own term weighs nothing here
    page = [
        _post("fits", author_is_agent=False, similarity=0.90, welcome_left=1.0),
        _post("mean", author_is_agent=False, similarity=0.85, welcome_left=1.0),
        _post("far", author_is_agent=False, similarity=0.70, welcome_left=1.0),
        *(_post(f"b{i}", similarity=0.85) for i in range(5)),
    ]
    fits, near_mean, far, *bots = scores(page, weights)
    bonus = weights.person + weights.welcome
    assert fits == pytest.approx(bots[0] + bonus), "one SD above the page's mean: whole"
    assert bots[0] < near_mean < bots[0] + 0.5 * bonus, "just above the mean: a little"
    assert far == pytest.approx(bots[0]), "a post far from its interests gets no bonus"


def test_a_persons_post_that_fits_no_persona_well_is_met_by_those_it_fits_least_badly() -> None:
    weights = Weights(fit=0.0)
    far = _post("cat", author_is_agent=False, similarity=0.70, welcome_left=1.0)
    page = [far, *(_post(f"b{i}", similarity=0.85) for i in range(5))]
    alone, bot, *_ = scores(page, weights)
    assert alone == pytest.approx(bot), "far below the page's mean: no bonus"
    kindred, bot, *_ = scores([replace(far, kindred=True), *page[1:]], weights)
    assert kindred == pytest.approx(bot + weights.person + weights.welcome)


def test_exploration_still_reaches_every_post() -> None:
    page = [_post("near", similarity=0.95), *(_post(str(i), similarity=0.5) for i in range(4))]
    picks = _picks(page, Weights(explore=0.5), n=4000)
    assert all(picks[c.post_id] > 150 for c in page)


@given(
    st.lists(
        st.builds(
            Candidate,
            post_id=st.text(min_size=1, max_size=4),
            author=st.text(max_size=3),
            author_is_agent=st.booleans(),
            likes=st.integers(0, 10**6),
            comments=st.integers(0, 10**6),
            age_seconds=st.floats(0, 1e9),
            similarity=st.none() | st.floats(-1, 1),
            ties=st.integers(0, 10**6),
        ),
        min_size=1,
        max_size=30,
    ),
    st.integers(0, 2**32),
)
def test_a_draw_is_always_one_of_the_candidates(page: list[Candidate], seed: int) -> None:
    assert draw(page, Weights(), random.Random(seed)) in page


@pytest.mark.parametrize(
    "bad",
    [
        {"fit": float("inf")},
        {"popularity": -1.0},
        {"comment_tie": -0.5},
        {"appeal": -1.0},
        {"appeal": float("inf")},
        {"temperature": 0.0},
        {"explore": 1.5},
        {"courtesy": 1.01},
        {"courtesy": -0.1},
        {"scroll": 0.5},
        {"scroll": float("nan")},
    ],
)
def test_bad_weights_are_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="taste"):
        Weights(**bad)  # type: ignore[arg-type]


def test_a_persons_post_is_welcomed_within_its_budget_by_age() -> None:
    welcome = Welcome()
    assert welcome.allowed("comment", 0.5 * HOUR) == 1
    assert welcome.allowed("comment", 5 * HOUR) == 3
    assert welcome.allowed("like", 23 * HOUR) == 15
    assert welcome.allowed("like", 48 * HOUR) == 15 + 3
    assert welcome.allowed("browse", HOUR) is None
    newcomer = _post("n", author_is_agent=False, age_seconds=0.5 * HOUR, comments=1, likes=2)
    assert not welcome.open(newcomer, "comment")  # one comment in its first hour
    assert welcome.open(newcomer, "like")
    crowded = _post("n", author_is_agent=False, age_seconds=20 * HOUR, likes=15)
    assert not welcome.open(crowded, "like")
    # An agent's post has no welcome budget (the hourly cap still holds).
    assert welcome.open(_post("b", likes=500, comments=90), "comment")


def test_a_welcome_of_zero_leaves_peoples_posts_alone() -> None:
    off = Welcome(
        likes=((24, 0),), comments=((24, 0),), likes_per_day_after=0, comments_per_day_after=0
    )
    person = _post("p", author_is_agent=False, age_seconds=3 * 24 * HOUR)
    assert not off.open(person, "like") and not off.open(person, "comment")
    page = [person, _post("b")]
    chosen = choose_target(
        page,
        me="me",
        already=set(),
        recent_bot_engagements={},
        cap_per_hour=5,
        human_share=1.0,
        rng=random.Random(1),
        taste=Weights(),
        welcome=off,
        kind="comment",
    )
    assert chosen is not None and chosen.post_id == "b"


@pytest.mark.parametrize(
    "bad",
    [
        {"likes": ()},
        {"comments": ((0, 1),)},
        {"likes": ((6, 3), (1, 1))},
        {"comments": ((1, -1),)},
        {"likes_per_day_after": -1},
        {"greet_after_minutes": -1.0},
        {"greet_after_minutes": float("nan")},
    ],
)
def test_a_bad_welcome_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="welcome"):
        Welcome(**bad)  # type: ignore[arg-type]


def test_a_newcomers_post_with_budget_left_is_met_before_popularity_speaks_for_it() -> None:
    """A new person's first picture, no likes yet, against an agent's post with 10 (at
    one point of score a doubling, a hit of 14 likes or more outranks it)."""
    fresh = _post("newcomer", author_is_agent=False, age_seconds=600)
    popular = _post("hit", likes=10, age_seconds=600)
    welcome = Welcome()
    rng = random.Random(3)
    picks = Counter(
        choose_target(
            [fresh, popular],
            me="me",
            already=set(),
            recent_bot_engagements={},
            cap_per_hour=5,
            human_share=0.7,
            rng=rng,
            taste=Weights(explore=0.0, pass_over=None),
            welcome=welcome,
            kind="like",
        ).post_id  # type: ignore[union-attr]
        for _ in range(1000)
    )
    assert picks["newcomer"] > 500
    assert welcome.left(fresh, "like") == 1.0
    assert welcome.left(
        _post("n", author_is_agent=False, age_seconds=600, likes=2), "like"
    ) == pytest.approx(1 / 3)
    assert welcome.left(popular, "like") == 0.0


def test_a_comment_welcomes_a_persons_post_whatever_the_fit_a_like_goes_by_fit() -> None:
    far = _post("cat", author_is_agent=False, similarity=0.70)
    page = [far, *(_post(f"b{i}", similarity=0.85) for i in range(5))]
    weights = Weights(fit=0.0, explore=0.0, popularity=0.0, freshness=0.0)

    def share(kind: str) -> float:
        rng = random.Random(4)
        picks = [
            choose_target(
                page,
                me="me",
                already=set(),
                recent_bot_engagements={},
                cap_per_hour=5,
                human_share=0.7,
                rng=rng,
                taste=weights,
                welcome=Welcome(),
                kind=kind,
            )
            for _ in range(600)
        ]
        return sum(p is not None and p.post_id == "cat" for p in picks) / 600

    assert share("comment") > 0.6 > 0.3 > share("like")


def test_a_comment_goes_to_a_friend_more_often_than_a_like_does() -> None:
    """Likes go where the post is good, comments where there is a relationship: a
    friend's post that fits a little worse takes most comments and few likes."""
    friend = _post("friend", similarity=0.82, ties=2)
    page = [
        friend,
        _post("good", similarity=0.85),
        *(_post(f"m{i}", similarity=0.78 + i / 100) for i in range(6)),
    ]
    weights = Weights(explore=0.0, pass_over=None, scroll=None)
    picks = {kind: _choose_many(page, kind, taste=weights) for kind in ("like", "comment")}
    assert picks["comment"]["friend"] > 0.45 * 300
    assert picks["like"]["friend"] < 0.1 * 300
    assert picks["like"]["good"] > picks["comment"]["good"]
    # Weighed as a like weighs ties, a comment chooses as a like does.
    alike = replace(weights, comment_tie=weights.tie)
    assert _choose_many(page, "comment", taste=alike) == _choose_many(page, "like", taste=alike)


def _choose_many(
    page: list[Candidate], kind: str, n: int = 300, taste: Weights | None = None
) -> Counter[str]:
    rng = random.Random(6)
    picks: Counter[str] = Counter()
    for _ in range(n):
        chosen = choose_target(
            page,
            me="me",
            already=set(),
            recent_bot_engagements={},
            cap_per_hour=5,
            human_share=0.7,
            rng=rng,
            taste=taste or Weights(pass_over=None),
            welcome=Welcome(),
            kind=kind,
        )
        assert chosen is not None
        picks[chosen.post_id] += 1
    return picks


def test_a_persons_post_nobody_has_answered_is_greeted_by_the_next_comment() -> None:
    """Ten minutes on, a newcomer's post with no comment takes every comment until it has
    one, however far from the agent's taste and however popular the rest; likes still go
    by taste, and a post already answered, or too young, is not forced."""
    waiting = _post("newcomer", author_is_agent=False, similarity=0.60, age_seconds=900)
    hits = [_post(f"hit{i}", similarity=0.90, likes=40, comments=6) for i in range(6)]
    assert _choose_many([waiting, *hits], "comment") == {"newcomer": 300}
    assert _choose_many([waiting, *hits], "like")["newcomer"] < 150
    answered = replace(waiting, comments=1)
    young = replace(waiting, age_seconds=300)
    for not_forced in (answered, young):
        assert _choose_many([not_forced, *hits], "comment")[not_forced.post_id] < 250
    # Two waiting: each gets greeted, by taste between them.
    other = replace(waiting, post_id="other", author="aother", similarity=0.95)
    picks = _choose_many([waiting, other, *hits], "comment")
    assert set(picks) == {"newcomer", "other"} and picks["other"] > picks["newcomer"]


def test_a_person_the_agent_answered_is_liked_back_whatever_its_taste() -> None:
    """A person whose comment the agent answered (a person's tie) takes its next like,
    however far their post is from the agent's interests and however popular the rest:
    attention returned. Comments still go by taste; a person without ties, an agent
    with ties, a post past its welcome budget, or courtesy 0 is not forced."""
    owed = _post(
        "owed", author_is_agent=False, similarity=0.60, ties=1, comments=1, age_seconds=HOUR
    )
    hits = [_post(f"hit{i}", similarity=0.90, likes=40, comments=6) for i in range(6)]
    taste = Weights(pass_over=None)
    assert _choose_many([owed, *hits], "like", taste=taste) == {"owed": 300}
    assert _choose_many([owed, *hits], "comment", taste=taste)["owed"] < 150
    stranger = replace(owed, ties=0)
    friend = replace(owed, author_is_agent=True)
    full = replace(owed, likes=20, age_seconds=2 * HOUR)  # 8 likes by 6 h
    for not_forced in (stranger, friend, full):
        assert _choose_many([not_forced, *hits], "like", taste=taste)["owed"] < 150
    assert _choose_many([owed, *hits], "like", taste=replace(taste, courtesy=0.0))["owed"] < 150
    # Two owed: the one answered more often first, then the newer.
    twice = replace(owed, post_id="twice", author="atwice", ties=2, age_seconds=5 * HOUR)
    newer = replace(owed, post_id="newer", author="anewer", age_seconds=HOUR / 2)
    assert _choose_many([owed, twice, newer, *hits], "like", taste=taste) == {"twice": 300}
    assert _choose_many([owed, newer, *hits], "like", taste=taste) == {"newer": 300}


def test_a_persons_post_nobody_has_liked_is_liked_by_the_next_agent_it_fits() -> None:
    """A newcomer's post with no like yet takes the like of an agent whose persona it
    fits (``kindred``), even past the pass-over and among hits; liked once already (a
    person's like counts), not kindred, or with ``first_like`` off, it goes by taste."""
    unliked = _post(
        "new", author_is_agent=False, similarity=0.60, kindred=True, comments=1, age_seconds=600
    )
    # Eight posts with vectors: a page a like may pass over (``JUDGED_PAGE``).
    hits = [_post(f"hit{i}", similarity=0.90, likes=40, comments=6) for i in range(8)]
    assert _choose_many([unliked, *hits], "like", taste=Weights()) == {"new": 300}
    liked = replace(unliked, likes=1)
    stranger = replace(unliked, kindred=False)
    for not_forced in (liked, stranger):
        picks = _choose_many([not_forced, *hits], "like", taste=Weights(pass_over=None))
        assert picks["new"] < 150
    rng = random.Random(3)
    off = [
        choose_target(
            [unliked, *hits],
            me="me",
            already=set(),
            recent_bot_engagements={},
            cap_per_hour=5,
            human_share=0.7,
            rng=rng,
            taste=Weights(pass_over=None),
            welcome=Welcome(first_like=False),
        )
        for _ in range(300)
    ]
    assert sum(c is not None and c.post_id == "new" for c in off) < 150


def test_a_like_passes_a_page_over_when_nothing_on_it_speaks_to_the_agent() -> None:
    """Liking nothing is a choice of its own (``pass_over``): with a post that fits on
    the page a like mostly takes it; with only posts of other interests it mostly takes
    none. A comment never passes, nor a like without ``pass_over``."""
    weights = Weights(explore=0.0)
    rng = random.Random(8)
    near = _post("near", similarity=0.90, age_seconds=HOUR)
    others = [_post(f"far{i}", similarity=0.70 + 0.01 * i, age_seconds=HOUR) for i in range(8)]

    page = [near, *others]

    def passed(open_posts: list[Candidate], w: Weights = weights) -> float:
        picks = [draw_or_pass(open_posts, w, rng, page=page) for _ in range(500)]
        return sum(p is None for p in picks) / 500

    assert passed(page) < 0.35
    # The post that fits was liked already: what is left is still measured against it.
    assert passed(others) > 0.6
    assert passed(others, Weights(explore=0.0, pass_over=None)) == 0.0
    assert all(draw(others, weights, rng, page=page) is not None for _ in range(200))
    # Without vectors there is no taste to judge by, nor on a young gallery's few posts:
    # a like takes a post.
    blind = [replace(c, similarity=None) for c in page]
    assert all(draw_or_pass(blind[1:], weights, rng, page=blind) for _ in range(200))
    few = page[:3]
    assert all(draw_or_pass(few[1:], weights, rng, page=few) for _ in range(200))


def test_a_look_sees_the_top_of_the_feeds_often_and_their_bottom_rarely() -> None:
    """Attention: the top of a feed is seen by nearly every look, a post far down by a
    few; a friend's post and a post of unknown place by every look."""
    page = [_post(str(i), places=(i,)) for i in range(40)]
    page += [_post("friend", places=(40,), ties=2), _post("unplaced")]
    rng = random.Random(7)
    looks = 2000
    counts = Counter(c.post_id for _ in range(looks) for c in seen(page, 8.0, rng))
    assert counts["0"] == counts["1"] == looks
    assert counts["friend"] == counts["unplaced"] == looks
    assert 0.8 * looks < counts["2"] < 0.95 * looks
    # Depth 1 + an exponential, 8 posts down on average: e^(-(k-1)/7) of the looks see
    # the post at place k (0.21 at place 12).
    assert 0.15 * looks < counts["12"] < 0.25 * looks
    assert counts["39"] < 0.02 * looks
    # One post down on average: only the top is seen.
    assert {c.post_id for c in seen(page, 1.0, rng)} == {"0", "friend", "unplaced"}


def test_a_look_reads_each_feed_and_scrolls_past_what_it_engaged_with() -> None:
    """Places count among the candidates on each feed: with the top of popular liked
    already (not a candidate), the next ones are the top; a post high on any feed is
    seen."""
    recent = [_post(f"r{i}", places=(i, None)) for i in range(20)]
    popular = [_post(f"p{i}", places=(None, 5 + i)) for i in range(20)]
    both = _post("both", places=(30, 0))
    shown = {c.post_id for c in seen([*recent, *popular, both], 1.0, random.Random(1))}
    assert shown == {"r0", "both"}
    shown = {c.post_id for c in seen([*recent, *popular], 1.0, random.Random(1))}
    assert shown == {"r0", "p0"}


def test_with_scroll_a_like_goes_to_what_the_look_took_in() -> None:
    """A post far down the feeds is rarely liked even when it fits best: attention
    first, then taste."""
    page = [_post("far", similarity=0.9, places=(30,))]
    page += [_post(str(i), similarity=0.8, places=(i,)) for i in range(30)]
    everything = _picks(page, Weights(explore=0.0, pass_over=None, scroll=None))
    looked = _picks(page, Weights(explore=0.0, pass_over=None, scroll=5.0))
    assert everything["far"] > 0.2 * 2000
    assert looked["far"] < 0.01 * 2000
