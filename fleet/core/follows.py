"""Whom an agent follows, unfollows and how it reacts: the follow graph's pure policy.

A follow is engagement (``fleet.consent.core``): the caller hands in only the accounts a
person's say, the holdout and the ledger leave open. The policy then follows the taste
the agent already has (the cosine of its persona's interests and the account's posts),
returns some follows (a follower whose work fits at least a little), lets popular
accounts draw more followers (a heavy-tailed in-degree), welcomes a newcomer the fleet has
not followed yet (a first follower is a reason to come back), and caps how many agents
follow one newcomer in a day. It unfollows rarely and never churns: only an account followed
for ``UNFOLLOW_AFTER_DAYS`` and more, never one followed back, and an account once
followed is never followed again (the ledger's one row per agent, person and kind).

A reaction is chosen by the post's words and the agent's taste, from the reactions the
gallery offers; on a gallery with none but the favourite it is the favourite, a like.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "FOLLOW_BACK_FIT",
    "NEWCOMER_FOLLOWS_PER_DAY",
    "NEWCOMER_POST_HOURS",
    "PLANNED_FOLLOWS_PER_SCAN",
    "REACTIONS_PER_SESSION",
    "UNFOLLOW_AFTER_DAYS",
    "Account",
    "FollowKept",
    "FollowPolicy",
    "blend_feeds",
    "choose_followee",
    "choose_reaction",
    "choose_unfollow",
    "planned_follows",
]

# Seed 002: at most two connection requests per scan of the feed.
PLANNED_FOLLOWS_PER_SCAN = 2
# Seed 002: at most five reactions per scan; a session is one scan.
REACTIONS_PER_SESSION = 5
# No newcomer is followed by more than this many agents in their first day.
NEWCOMER_FOLLOWS_PER_DAY = 8
# A follower's work must fit at least this well (cosine) to be followed back, and a
# newcomer's to be welcomed with a first follow.
FOLLOW_BACK_FIT = 0.78
# A person whose post on the page is this young is a newcomer the fleet may welcome.
NEWCOMER_POST_HOURS = 24.0
# An account is unfollowed only after this many days followed (never churn).
UNFOLLOW_AFTER_DAYS = 14.0


@dataclass(frozen=True, slots=True)
class Account:
    """An account an agent may follow, as it saw it: on the feed's page or among its
    followers. ``fit``: the best cosine of the agent's interests and the account's posts
    it saw (None: no vectors); ``likes``: the likes its posts on the page got (how popular
    it looks); ``follows_me``: it follows the agent; ``newcomer``: a person (the newcomer
    cap holds for people); ``new_post``: a person whose post it saw is younger than
    ``NEWCOMER_POST_HOURS`` (new to the gallery); ``agents_today``: agents of the fleet
    that followed it in the last day."""

    handle: str
    user_id: str = ""
    is_agent: bool = False
    fit: float | None = None
    likes: int = 0
    follows_me: bool = False
    newcomer: bool = False
    new_post: bool = False
    agents_today: int = 0

    def welcomed(self) -> bool:
        """A person new to the gallery whom no agent of the fleet followed today: a first
        follow is a welcome (``FollowPolicy.welcome_weight``)."""
        return self.new_post and not self.is_agent and self.agents_today == 0


@dataclass(frozen=True, slots=True)
class FollowPolicy:
    """The follow policy's knobs, at their defaults (no setting changes them)."""

    # Below this fit, an account seen on the page is not followed (taste). Cosines of the
    # embedded model sit around 0.75-0.9; a bar near their middle keeps follows selective.
    fit_bar: float = 0.80
    # How much a point of fit above the bar weighs against popularity (log2 likes).
    fit_weight: float = 60.0
    popularity_weight: float = 0.9
    # The chance a follower whose work fits (FOLLOW_BACK_FIT) is followed back at once.
    follow_back: float = 0.6
    newcomer_cap: int = NEWCOMER_FOLLOWS_PER_DAY
    # What a welcome (``Account.welcomed``) adds to an account's score (e^3: twenty times
    # the draw of an account otherwise alike); it is held to ``FOLLOW_BACK_FIT``, not the
    # bar. Only the first follow of the fleet is a welcome: the second competes as any.
    welcome_weight: float = 3.0

    def __post_init__(self) -> None:
        for name in ("fit_weight", "popularity_weight", "welcome_weight"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"follow policy: {name} is a finite number >= 0, not {value}")
        if not 0 <= self.follow_back <= 1:
            raise ValueError(f"follow policy: follow_back is within [0, 1], not {self.follow_back}")
        if self.newcomer_cap < 0:
            raise ValueError(f"follow policy: newcomer_cap is >= 0, not {self.newcomer_cap}")


def _open(account: Account, me: str, done: Iterable[str], policy: FollowPolicy) -> bool:
    if account.handle == me or account.handle in done:
        return False
    return not (account.newcomer and account.agents_today >= policy.newcomer_cap)


def choose_followee(
    accounts: Sequence[Account],
    *,
    me: str,
    done: Iterable[str],
    rng: random.Random,
    policy: FollowPolicy = FollowPolicy(),
) -> Account | None:
    """The account to follow now, or None. ``done``: the handles the agent follows or
    ever followed (never again), or holds in another action. First a follower whose work
    fits, followed back with ``policy.follow_back``'s chance; then an account of the page
    at or above the taste bar (one without vectors counts as at it), drawn by fit and
    popularity (the popular draw more: a heavy tail); a newcomer nobody of the fleet
    followed today (``Account.welcomed``) is held to ``FOLLOW_BACK_FIT`` and drawn with
    ``policy.welcome_weight`` more."""
    done = frozenset(done)
    open_ = [a for a in accounts if _open(a, me, done, policy)]
    back = [a for a in open_ if a.follows_me and (a.fit is None or a.fit >= FOLLOW_BACK_FIT)]
    if back and rng.random() < policy.follow_back:
        return max(back, key=lambda a: (a.fit or 0.0, a.handle))
    # Without vectors (no embedder) taste cannot tell: such an account sits at the bar.
    fitting = [
        a
        for a in open_
        if (policy.fit_bar if a.fit is None else a.fit)
        >= (FOLLOW_BACK_FIT if a.welcomed() else policy.fit_bar)
    ]
    if not fitting:
        return None
    scores = [
        policy.fit_weight * ((policy.fit_bar if a.fit is None else a.fit) - policy.fit_bar)
        + policy.popularity_weight * math.log2(1 + a.likes)
        + (policy.welcome_weight if a.welcomed() else 0.0)
        for a in fitting
    ]
    top = max(scores)
    weights = [math.exp(s - top) for s in scores]
    return rng.choices(fitting, weights=weights, k=1)[0]


@dataclass(frozen=True, slots=True)
class FollowKept:
    """An account the agent follows: since how many days, and whether it follows back."""

    handle: str
    days: float
    follows_back: bool


def choose_unfollow(
    followed: Sequence[FollowKept], *, rng: random.Random, chance: float = 0.02
) -> str | None:
    """Rarely, an account to unfollow: one followed for ``UNFOLLOW_AFTER_DAYS`` or more
    that never followed back, with ``chance``; None almost always."""
    stale = sorted(
        f.handle for f in followed if f.days >= UNFOLLOW_AFTER_DAYS and not f.follows_back
    )
    if not stale or rng.random() >= chance:
        return None
    return rng.choice(stale)


def planned_follows(proposed: Sequence[str], seen: Iterable[str], me: str) -> list[str]:
    """The follows a session's plan proposed that it may make: handles of accounts the
    scan saw (nobody it did not see), not its own, without repeats, at most
    ``PLANNED_FOLLOWS_PER_SCAN``."""
    shown = frozenset(seen)
    kept: list[str] = []
    for handle in proposed:
        if handle in shown and handle != me and handle not in kept:
            kept.append(handle)
        if len(kept) == PLANNED_FOLLOWS_PER_SCAN:
            break
    return kept


# The words that cue each reaction (lower case, whole words), by the names galleries give
# them: the sandbox's heart, laugh, wow, fire and clap; seed 002's love, haha, sad, wow.
_LOVE = frozenset(
    {"love", "beautiful", "gorgeous", "stunning", "lovely", "dream", "dreamy", "wonderful"}
)
_LAUGH = frozenset({"funny", "haha", "lol", "silly", "joke", "absurd", "ridiculous", "cat"})
_CUES: Mapping[str, frozenset[str]] = {
    "love": _LOVE,
    "heart": _LOVE,
    "haha": _LAUGH,
    "laugh": _LAUGH,
    "sad": frozenset({"sad", "lost", "miss", "missing", "goodbye", "rip", "grief", "lonely"}),
    "wow": frozenset({"wow", "incredible", "amazing", "huge", "unreal", "insane"}),
    "fire": frozenset({"fire", "hot", "epic", "launch", "bold", "neon"}),
    "clap": frozenset({"first", "finished", "finally", "congrats", "done", "jam", "months"}),
}
# Words of grief: never met with a laugh, whatever else the post says.
_GRIEF = _CUES["sad"]
_WORD = re.compile(r"[a-z']+")
# A post that fits the agent's taste this well and more may be loved without a cue.
_LOVED_FIT = 0.86


def choose_reaction(
    words: str, fit: float | None, offered: Sequence[str], rng: random.Random
) -> str | None:
    """The reaction to a post whose title and description are ``words`` (bounded here),
    by an agent whose taste it fits ``fit``: one of ``offered`` that its words cue (grief
    is met in kind or with nothing, never a laugh), a heart for a post that fits its taste
    very well, else None: a plain like. On a gallery with no reactions but the favourite
    (or none) it is always None: a like, which is a favourite there."""
    choices = [r for r in offered if r in _CUES]
    if not choices:
        return None
    said = set(_WORD.findall(words[:600].lower()))
    if said & _GRIEF:
        return "sad" if "sad" in choices else None
    cued = [r for r in choices if said & _CUES[r]]
    if cued:
        return rng.choice(sorted(cued))
    loving = [r for r in choices if r in ("love", "heart")]
    if fit is not None and fit >= _LOVED_FIT and loving and rng.random() < 0.5:
        return loving[0]
    return None


def blend_feeds(
    public: Sequence[str], home: Sequence[str], share: float, rng: random.Random, size: int
) -> list[str]:
    """The page an agent reads: ``size`` post ids, each place taken from its home feed
    (whom it follows) with ``share``'s chance while it has any left, else from the public
    feed, without repeats, each feed in its own order."""
    if not 0 <= share <= 1:
        raise ValueError(f"the home feed's share is within [0, 1], not {share}")
    page: list[str] = []
    taken: set[str] = set()
    mine, everyone = list(home), list(public)
    while len(page) < size and (mine or everyone):
        source = mine if mine and (not everyone or rng.random() < share) else everyone
        post = source.pop(0)
        if post not in taken:
            taken.add(post)
            page.append(post)
    return page
