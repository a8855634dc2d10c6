"""Taste: which post a person would pick from what the feeds show them. Pure.

An agent sees the gallery's ``recent``, ``popular`` and ``trending`` pages as a person
scrolling them would: attention first, then taste. One look takes in each feed down to a
depth drawn for it (``scroll`` posts on average, past what it engaged with already), and
its friends' posts wherever they are (``seen``). Each post seen that it may still engage
with gets a score, and one is drawn with probability proportional to
``exp(score / temperature)``; with probability ``explore`` it draws uniformly instead.

The score adds these terms (``Weights``; ``scores``):

- **interest fit** (``fit``, the weight of one standard deviation): the cosine of the
  agent's interests and the post's text as a z-score within the page (e5's cosines
  crowd into a narrow band: their spread is what tells).
- **popularity** (``popularity``, per doubling of a post's likes and comments), counted
  from the page's mean fit and whole a standard deviation above it.
- **appeal** (``appeal``, the weight of one standard deviation): how the post came out
  (``appeal``: the author's craft and the post's luck), the same for every viewer.
- **freshness** (``freshness``, halving every ``half_life_hours``).
- **ties** (``tie``; ``comment_tie`` for a comment): the author's engagements with this
  agent's posts, through ``log1p``.
- **people** (``person``): a post by a person (not an agent) is worth this much more,
  ``logit(human_share)`` (~0.85 at 0.7). It and the welcome count from the page's mean
  fit and go whole to an agent the post fits a standard deviation better; a person's post
  that fits no persona well goes whole to the two personas nearest it (``kindred``).
- **welcome** (``welcome``): a person's post within its welcome budget is worth up to
  this much more, in proportion to the budget it has left.

A person whose comment the agent answered is **liked back** (``courtesy``): the agent's
next like that sees one of their posts takes it, within its welcome budget. A person's
post nobody has commented on yet is **greeted** from ``greet_after_minutes`` after it
was posted: the next agent that comments takes such a post first. A person's post has a
**welcome budget** (``Welcome``): the fleet's likes and comments on it are capped by its
age, counting what the gallery shows on the post, people's engagement included.

Without vectors (the embedder is down or off) the fit term is 0 for every post: the
ranking falls back to popularity, freshness and ties, and never fails.

Why each term and default, and what was measured for each: docs/community.md (taste and
welcome) and docs/tuning.md.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from operator import attrgetter
from statistics import NormalDist
from typing import NamedTuple

__all__ = [
    "JUDGED_PAGE",
    "Candidate",
    "PageFit",
    "Weights",
    "Welcome",
    "appeal",
    "draw",
    "draw_or_pass",
    "scores",
    "seen",
]

# The posts with vectors a page needs before a like may pass it over.
JUDGED_PAGE = 8


@dataclass(frozen=True, slots=True)
class Weights:
    """How much each term weighs; the defaults and why are in the module's docstring."""

    fit: float = 3.0
    popularity: float = 1.0
    # A post's appeal (``appeal``), one standard deviation of it: what every viewer agrees
    # on, fit or not.
    appeal: float = 1.0
    freshness: float = 1.0
    tie: float = 2.0
    # A comment keeps up a relationship: ties weigh this much in a comment's choice.
    comment_tie: float = 4.0
    person: float = 0.85
    welcome: float = 3.0
    half_life_hours: float = 12.0
    temperature: float = 0.6
    explore: float = 0.05
    # A like passes the page over rather than take a post scoring far below this (None:
    # a like always takes one). See ``draw``.
    pass_over: float | None = 8.0
    # How far down the feeds an action reads, on average (a draw per action; None: all of
    # what was read). See ``seen``; why 4: docs/tuning.md.
    scroll: float | None = 4.0
    # How often a like goes first to a post by a person the agent answered, when it sees
    # one (``fleet.core.target_choice.choose_target``): attention returned. 0: taste alone.
    courtesy: float = 1.0

    def __post_init__(self) -> None:
        for name in (
            "fit",
            "popularity",
            "appeal",
            "freshness",
            "tie",
            "comment_tie",
            "person",
            "welcome",
        ):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"taste weight {name} must be finite and >= 0, not {value!r}")
        if not (math.isfinite(self.half_life_hours) and self.half_life_hours > 0):
            raise ValueError("taste half_life_hours must be a positive, finite number")
        if not (math.isfinite(self.temperature) and self.temperature > 0):
            raise ValueError("taste temperature must be a positive, finite number")
        if not 0 <= self.explore <= 1:
            raise ValueError("taste explore must be between 0 and 1")
        if not 0 <= self.courtesy <= 1:
            raise ValueError("taste courtesy must be between 0 and 1")
        if self.pass_over is not None and not math.isfinite(self.pass_over):
            raise ValueError("taste pass_over must be a finite number (or none)")
        if self.scroll is not None and not (math.isfinite(self.scroll) and self.scroll >= 1):
            raise ValueError("taste scroll must be a finite number >= 1 (or none)")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A post seen in the feeds, as target choice needs it."""

    post_id: str
    author: str
    author_is_agent: bool
    likes: int = 0
    comments: int = 0
    age_seconds: float = 0.0
    # Cosine of the agent's interests and the post's text; None without vectors.
    similarity: float | None = None
    # How often the author engaged with this agent's posts (for a person, how often the
    # agent answered their comments: the gallery does not say who liked a post).
    ties: int = 0
    # A person's post: the share of its welcome budget still open (0 for an agent's).
    welcome_left: float = 0.0
    # Its subject fits this agent's persona best of the fleet's personas (one of the
    # nearest two): a person's post that fits no persona well is still met by those it
    # fits least badly.
    kindred: bool = False
    # Its place on each feed read (0: the top; None: not on that one); empty: not known.
    places: tuple[int | None, ...] = ()
    # How the post came out, as every viewer sees it (``appeal``): a standard normal draw.
    appeal: float = 0.0
    # The author's user id on the gallery ("" when not known): whom the holdout spares.
    author_id: str = ""


class PageFit(NamedTuple):
    """How the fit of a page's posts spreads (``scores``): their cosines' mean and
    population deviation (at least 0.01; 1.0 with fewer than two), and whether enough of
    them have vectors to judge the page by (``JUDGED_PAGE``, ``draw_or_pass``). The same
    for every agent of a persona choosing from the page: made once a page
    (``PageTaste``), not at each choice."""

    mean: float
    spread: float
    judged: bool

    @classmethod
    def of(cls, page: Sequence[Candidate]) -> PageFit:
        known = [c.similarity for c in page if c.similarity is not None]
        mean = math.fsum(known) / len(known) if known else 0.0
        spread = 1.0
        if len(known) > 1:
            # The population deviation by fsum: statistics.pstdev's exact fractions took
            # 150 µs a page of 150, the better part of a like's CPU on the engage path.
            spread = max(math.sqrt(math.fsum((v - mean) ** 2 for v in known) / len(known)), 0.01)
        return cls(mean, spread, len(known) >= JUDGED_PAGE)


def scores(
    candidates: Sequence[Candidate],
    weights: Weights,
    page: Sequence[Candidate] = (),
    *,
    page_fit: PageFit | None = None,
) -> list[float]:
    """Each candidate's score (see the module's docstring), in order. Fit is measured
    against ``page``, everything the feeds showed (the candidates alone if empty): the
    posts an agent has already liked still tell what its page holds, so what is left
    after them is not taken for the best of the page. ``page_fit``: the page's
    ``PageFit``, when the caller has it already."""
    mean, spread, _ = page_fit or PageFit.of(page or candidates)
    half_life = weights.half_life_hours * 3600
    out = []
    for c in candidates:
        fit = 0.0 if c.similarity is None else (c.similarity - mean) / spread
        popularity = math.log2(1 + max(0, c.likes) + 2 * max(0, c.comments))
        freshness = 0.5 ** (max(0.0, c.age_seconds) / half_life)
        # A hit draws those it speaks to, and a person's post the agents whose taste it
        # fits: popularity and people's bonuses count from the page's mean fit, whole a
        # standard deviation above it (whole for the personas nearest a person's post,
        # ``kindred``, and for every post without vectors).
        speaks = 1.0 if c.similarity is None else min(1.0, max(0.0, fit))
        fitting = 1.0 if c.kindred else speaks
        out.append(
            weights.fit * fit
            + weights.appeal * c.appeal
            + speaks * weights.popularity * popularity
            + weights.freshness * freshness
            + weights.tie * math.log1p(max(0, c.ties))
            + fitting
            * (
                (0.0 if c.author_is_agent else weights.person)
                + weights.welcome * min(1.0, max(0.0, c.welcome_left))
            )
        )
    return out


def draw(
    candidates: Sequence[Candidate],
    weights: Weights,
    rng: random.Random,
    *,
    page: Sequence[Candidate] = (),
    page_fit: PageFit | None = None,
    feeds: Callable[[], Sequence[Sequence[str]]] | None = None,
) -> Candidate | None:
    """One candidate: uniform with probability ``explore``, else by its score (``page``
    and ``page_fit``: as for ``scores``; ``feeds``: as for ``seen``); None when there is
    none."""
    if weights.scroll is not None:
        candidates = seen(candidates, weights.scroll, rng, feeds)
    if not candidates:
        return None
    if len(candidates) == 1:
        return candidates[0]
    return _by_score(candidates, weights, rng, page, None, page_fit)


def draw_or_pass(
    candidates: Sequence[Candidate],
    weights: Weights,
    rng: random.Random,
    *,
    page: Sequence[Candidate] = (),
    page_fit: PageFit | None = None,
    feeds: Callable[[], Sequence[Sequence[str]]] | None = None,
) -> Candidate | None:
    """As ``draw``, for a like: passing the page over is one more choice, scored
    ``weights.pass_over``, so a person who has liked what speaks to them on the page
    likes nothing rather than something: None. A like takes a post scoring about
    ``pass_over`` or more (why 8.0: docs/tuning.md)."""
    if weights.scroll is not None:
        candidates = seen(candidates, weights.scroll, rng, feeds)
    if not candidates:
        return None
    # Passing over needs taste to judge by: without vectors, or on a page too short to
    # tell what fits (a young gallery's few posts), a like takes a post.
    if page_fit is None:
        judged = sum(c.similarity is not None for c in (page or candidates)) >= JUDGED_PAGE
    else:
        judged = page_fit.judged
    passing = weights.pass_over if judged else None
    return _by_score(candidates, weights, rng, page, passing, page_fit)


def _by_score(
    candidates: Sequence[Candidate],
    weights: Weights,
    rng: random.Random,
    page: Sequence[Candidate],
    passing: float | None,
    page_fit: PageFit | None = None,
) -> Candidate | None:
    """Uniform with probability ``explore``, else by score, against passing over scored
    ``passing`` (None: no passing over)."""
    if rng.random() < weights.explore:
        return rng.choice(list(candidates))
    values = scores(candidates, weights, page, page_fit=page_fit)
    top = max(values) if passing is None else max(*values, passing)
    odds = [math.exp((v - top) / weights.temperature) for v in values]
    if passing is not None:
        stay = math.exp((passing - top) / weights.temperature)
        if rng.random() * (sum(odds) + stay) < stay:
            return None
    return rng.choices(list(candidates), weights=odds, k=1)[0]


# An author's craft and a post's own luck, in shares of the appeal's variance.
_CRAFT_SHARE = 0.4
_UNIT = NormalDist()


def _normal(text: str) -> float:
    """A standard normal draw, the same in every process for the same text (blake2b, not
    hash(): str hashes are salted per process)."""
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    # The middle of one of 2^64 equal slices of (0, 1): never 0 or 1 exactly.
    return _UNIT.inv_cdf((int.from_bytes(digest, "big") + 0.5) / 2**64)


@lru_cache(maxsize=8192)
def appeal(author: str, post_id: str) -> float:
    """How a post came out, as every viewer sees it: a standard normal value, the same for
    every agent and every process. Fleet cannot look at a picture, but people agree on
    what is good far more than chance: a share of the author's craft (``_CRAFT_SHARE``
    of the variance, drawn from the handle: some people's work is liked more, post after
    post) and the rest the post's own luck (drawn from its id). Taste weighs it for every
    viewer, whatever their interests: the common part of taste that, with social
    influence (``popularity``), makes a few posts take off (Salganik, Dodds and Watts,
    2006: quality and social influence together give the heavy tail)."""
    craft = _normal(f"craft:{author}")
    luck = _normal(f"luck:{author}:{post_id}")
    return math.sqrt(_CRAFT_SHARE) * craft + math.sqrt(1 - _CRAFT_SHARE) * luck


def seen(
    candidates: Sequence[Candidate],
    scroll: float,
    rng: random.Random,
    feeds: Callable[[], Sequence[Sequence[str]]] | None = None,
) -> list[Candidate]:
    """What one look at the feeds takes in: on each feed, the candidates placed above a
    depth drawn for the look (exponential, ``scroll`` posts down on average), counted
    among the candidates only (a person scrolls past what they already engaged with);
    and every post by an author with ties to the agent (a friend's post is noticed
    wherever it is). A post of unknown place is seen. ``feeds``: the page's post ids on
    each feed in order of place (``PageTaste.feeds``; the candidates among them), asked
    only when the look does not take in every candidate: the same look, without sorting
    the candidates again."""
    depth = 1 + rng.expovariate(1 / (scroll - 1)) if scroll > 1 else 1.0
    if len(candidates) < depth:  # the look goes past the last of them: every one is seen
        return list(candidates)
    # A place is above the depth when fewer than ``depth`` candidates precede it on that
    # feed: the ``ceil(depth)`` first of each feed (ties by order).
    above = math.ceil(depth)
    if feeds is not None:
        ids = set(map(attrgetter("post_id"), candidates))
        shown: set[str] = set()
        for feed_ids in feeds():
            shown.update([post_id for post_id in feed_ids if post_id in ids][:above])
        return [c for c in candidates if not c.places or c.post_id in shown or c.ties > 0]
    noticed: set[int] = set()
    for feed in range(max((len(c.places) for c in candidates), default=0)):
        placed = sorted(
            (c.places[feed], i)
            for i, c in enumerate(candidates)
            if feed < len(c.places) and c.places[feed] is not None
        )
        noticed.update(i for _, i in placed[:above])
    return [c for i, c in enumerate(candidates) if not c.places or i in noticed or c.ties > 0]


@dataclass(frozen=True, slots=True)
class Welcome:
    """The fleet's budget on one person's post, by its age: at most ``n`` of a kind by
    ``hours`` after it was posted, for each (hours, n) step; past the last step,
    ``per_day_after`` more a day. A budget of 0 everywhere turns welcoming off."""

    likes: tuple[tuple[float, int], ...] = ((1, 3), (6, 8), (24, 15))
    comments: tuple[tuple[float, int], ...] = ((1, 1), (6, 3), (24, 5))
    likes_per_day_after: int = 3
    comments_per_day_after: int = 1
    # A person's post nobody has commented on yet, at least this old and still open to
    # comments, is greeted by the next agent that comments: someone always says hello.
    greet_after_minutes: float = 10.0
    # A person's post nobody has liked yet is liked by the next agent of a persona it fits
    # (``kindred``) whose like sees it: a newcomer's first like does not wait on a hit.
    first_like: bool = True

    def __post_init__(self) -> None:
        if not (math.isfinite(self.greet_after_minutes) and self.greet_after_minutes >= 0):
            raise ValueError("welcome: greet_after_minutes is a finite number >= 0")
        for name in ("likes", "comments"):
            steps = getattr(self, name)
            if not steps:
                raise ValueError(f"welcome {name}: at least one (hours, count) step")
            for hours, count in steps:
                if not (math.isfinite(hours) and hours > 0) or count < 0:
                    raise ValueError(
                        f"welcome {name}: a step is (hours > 0, count >= 0), not {(hours, count)}"
                    )
            if list(steps) != sorted(steps):
                raise ValueError(f"welcome {name}: steps in order of their hours")
        if self.likes_per_day_after < 0 or self.comments_per_day_after < 0:
            raise ValueError("welcome: a count per day after the first steps is >= 0")

    def allowed(self, kind: str, age_seconds: float) -> int | None:
        """How many of ``kind`` (like, comment) a person's post of this age may have;
        None for a kind the welcome does not budget."""
        if kind == "like":
            steps, after = self.likes, self.likes_per_day_after
        elif kind == "comment":
            steps, after = self.comments, self.comments_per_day_after
        else:
            return None
        hours = max(0.0, age_seconds) / 3600
        for until, count in steps:
            if hours <= until:
                return count
        last_hours, last = steps[-1]
        return last + int(after * (hours - last_hours) / 24)

    def left(self, candidate: Candidate, kind: str) -> float:
        """The share of a person's post's budget of ``kind`` still open (0 for an
        agent's post, or a kind the welcome does not budget)."""
        allowed = None if candidate.author_is_agent else self.allowed(kind, candidate.age_seconds)
        if not allowed:
            return 0.0
        done = candidate.likes if kind == "like" else candidate.comments
        return max(0.0, (allowed - done) / allowed)

    def awaits_greeting(self, candidate: Candidate) -> bool:
        """A person's post no one has commented on yet, old enough to be greeted and
        still open to comments: the next agent that comments greets it."""
        return (
            not candidate.author_is_agent
            and candidate.comments == 0
            and candidate.age_seconds >= 60 * self.greet_after_minutes
            and self.open(candidate, "comment")
        )

    def awaits_first_like(self, candidate: Candidate) -> bool:
        """A person's post nobody has liked yet (the gallery's count: a person's like
        counts), seen by an agent of a persona it fits, and open to likes: that agent
        likes it."""
        return (
            self.first_like
            and not candidate.author_is_agent
            and candidate.kindred
            and candidate.likes == 0
            and self.open(candidate, "like")
        )

    def open(self, candidate: Candidate, kind: str) -> bool:
        """Whether the fleet may still engage with this post in this way."""
        if candidate.author_is_agent:
            return True
        allowed = self.allowed(kind, candidate.age_seconds)
        if allowed is None:
            return True
        done = candidate.likes if kind == "like" else candidate.comments
        return done < allowed
