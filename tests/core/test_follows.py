"""The follow graph's pure policy: whom an agent follows, unfollows, how it reacts, what it reads."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from fleet.core.follows import (
    FOLLOW_BACK_FIT,
    PLANNED_FOLLOWS_PER_SCAN,
    UNFOLLOW_AFTER_DAYS,
    Account,
    FollowKept,
    FollowPolicy,
    blend_feeds,
    choose_followee,
    choose_reaction,
    choose_unfollow,
    planned_follows,
)


def _draws(accounts: list[Account], n: int = 400, **kw: object) -> Counter[str | None]:
    got: Counter[str | None] = Counter()
    for i in range(n):
        chosen = choose_followee(accounts, me="me", done=(), rng=random.Random(i), **kw)  # type: ignore[arg-type]
        got[None if chosen is None else chosen.handle] += 1
    return got


def test_follows_only_work_above_the_taste_bar() -> None:
    accounts = [Account("near", fit=0.88), Account("far", fit=0.70), Account("blind", fit=None)]
    got = _draws(accounts)
    assert got["far"] == 0 and got["near"] > 5 * got["blind"] > 0
    # Without vectors taste cannot tell: such accounts are drawn by popularity alone.
    assert set(_draws([Account("far", fit=0.70), Account("blind", fit=None)])) == {"blind"}


def test_nobody_fits_means_no_follow() -> None:
    assert _draws([Account("far", fit=0.5)], n=50) == Counter({None: 50})


def test_never_itself_nor_an_account_done() -> None:
    accounts = [Account("me", fit=0.95), Account("old", fit=0.95), Account("new", fit=0.85)]
    for i in range(100):
        chosen = choose_followee(accounts, me="me", done={"old"}, rng=random.Random(i))
        assert chosen is not None and chosen.handle == "new"


def test_a_newcomer_followed_by_the_cap_of_agents_today_is_left_alone() -> None:
    cap = FollowPolicy().newcomer_cap
    crowded = Account("newbie", fit=0.95, newcomer=True, agents_today=cap)
    assert _draws([crowded], n=50) == Counter({None: 50})
    one_less = Account("newbie", fit=0.95, newcomer=True, agents_today=cap - 1)
    assert _draws([one_less], n=20) == Counter({"newbie": 20})


def test_a_newcomer_nobody_followed_yet_is_welcomed_with_a_first_follow() -> None:
    # Just under the bar, over the follow-back fit: welcomed while the fleet has not
    # followed them today, left alone once one agent has.
    fit = FOLLOW_BACK_FIT + 0.01
    newbie = Account("newbie", fit=fit, newcomer=True, new_post=True)
    assert _draws([newbie], n=20) == Counter({"newbie": 20})
    followed = Account("newbie", fit=fit, newcomer=True, new_post=True, agents_today=1)
    assert _draws([followed], n=20) == Counter({None: 20})
    # At equal fit, the newcomer draws far more than an agent or a person long here.
    accounts = [
        Account("newbie", fit=0.85, newcomer=True, new_post=True),
        Account("regular", fit=0.85, newcomer=True),
        Account("agent", fit=0.85, is_agent=True, new_post=True),
    ]
    got = _draws(accounts, n=1000)
    assert got["newbie"] > 5 * max(got["regular"], got["agent"]) > 0
    # Never below the follow-back fit, welcome or not; a weight of 0 turns it off.
    assert _draws([Account("far", fit=FOLLOW_BACK_FIT - 0.01, new_post=True)], n=20) == Counter(
        {None: 20}
    )
    off = FollowPolicy(welcome_weight=0.0)
    got = _draws(accounts, n=1000, policy=off)
    assert got["newbie"] < 2 * got["regular"]


def test_the_popular_draw_more_followers_at_equal_fit() -> None:
    accounts = [Account("hit", fit=0.85, likes=60), Account("quiet", fit=0.85, likes=0)]
    got = _draws(accounts, n=1000)
    assert got["hit"] > 3 * got["quiet"] > 0


def test_fit_outweighs_a_little_popularity() -> None:
    accounts = [Account("fits", fit=0.90, likes=2), Account("meh", fit=0.81, likes=4)]
    got = _draws(accounts, n=1000)
    assert got["fits"] > 2 * got["meh"]


def test_a_fitting_follower_is_followed_back_about_as_often_as_the_policy_says() -> None:
    policy = FollowPolicy(follow_back=0.6)
    accounts = [Account("fan", fit=FOLLOW_BACK_FIT + 0.01, follows_me=True)]
    got = _draws(accounts, n=2000, policy=policy)
    assert 0.55 < got["fan"] / 2000 < 0.65
    # A follower whose work does not fit is never followed back.
    assert _draws([Account("spam", fit=0.5, follows_me=True)], n=200) == Counter({None: 200})


def test_policy_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="follow_back"):
        FollowPolicy(follow_back=1.5)
    with pytest.raises(ValueError, match="fit_weight"):
        FollowPolicy(fit_weight=float("nan"))
    with pytest.raises(ValueError, match="welcome_weight"):
        FollowPolicy(welcome_weight=-1.0)


def test_unfollows_are_rare_and_only_of_old_unreturned_follows() -> None:
    followed = [
        FollowKept("young", UNFOLLOW_AFTER_DAYS - 1, follows_back=False),
        FollowKept("friend", UNFOLLOW_AFTER_DAYS + 30, follows_back=True),
        FollowKept("stale", UNFOLLOW_AFTER_DAYS + 1, follows_back=False),
    ]
    got = Counter(choose_unfollow(followed, rng=random.Random(i)) for i in range(5000))
    assert set(got) == {None, "stale"}
    assert got["stale"] / 5000 < 0.05
    assert choose_unfollow(followed[:2], rng=random.Random(0), chance=1.0) is None


def test_planned_follows_are_bounded_and_only_of_accounts_seen() -> None:
    proposed = ["a", "ghost", "me", "a", "b", "c"]
    kept = planned_follows(proposed, seen={"a", "b", "c", "me"}, me="me")
    assert kept == ["a", "b"]
    assert len(kept) == PLANNED_FOLLOWS_PER_SCAN


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("Goodbye to my old studio, I will miss it. So funny how time flies", "sad"),
        ("Goodbye, old friend. Lol, he was so silly", "sad"),
        ("lol my cat did this", "haha"),
        ("wow, an incredible sky", "wow"),
        ("A dull grey wall", None),
    ],
)
def test_reactions_follow_the_posts_words(words: str, expected: str | None) -> None:
    offered = ("love", "haha", "sad", "wow")
    assert choose_reaction(words, 0.5, offered, random.Random(1)) == expected


def test_the_sandboxs_reactions_by_their_names() -> None:
    offered = ("heart", "fire", "wow", "clap", "laugh")
    rng = random.Random(0)
    assert choose_reaction("Portrait of my cat as a forest spirit", None, offered, rng) == "laugh"
    assert choose_reaction("48 hours, my first game jam", None, offered, rng) == "clap"
    # Grief is never laughed at where the gallery has no sad face: a plain like.
    assert choose_reaction("RIP my old cat, so silly and lost", None, offered, rng) is None


def test_no_reactions_offered_means_a_like() -> None:
    assert choose_reaction("so sad", 0.99, ("favourite",), random.Random(0)) is None
    assert choose_reaction("so sad", 0.99, (), random.Random(0)) is None


def test_a_post_that_fits_very_well_is_sometimes_loved() -> None:
    got = Counter(
        choose_reaction("a grey wall", 0.95, ("love", "sad"), random.Random(i)) for i in range(200)
    )
    assert set(got) == {"love", None}


def test_blend_reads_home_in_its_share_without_repeats() -> None:
    public = [f"p{i}" for i in range(40)]
    home = [f"h{i}" for i in range(40)]
    page = blend_feeds(public, home, 0.5, random.Random(3), 20)
    assert len(page) == len(set(page)) == 20
    from_home = sum(p.startswith("h") for p in page)
    assert 5 <= from_home <= 15
    assert blend_feeds(public, home, 0.0, random.Random(3), 5) == public[:5]
    assert blend_feeds(public, home, 1.0, random.Random(3), 5) == home[:5]
    # An empty home feed: the public page as before.
    assert blend_feeds(public, [], 0.7, random.Random(3), 5) == public[:5]
    with pytest.raises(ValueError, match="share"):
        blend_feeds(public, home, 1.2, random.Random(0), 5)
