"""A person's sessions, drawn from an agent's seed: when each opens, how long it runs,
what each action in it does."""

from __future__ import annotations

import functools
import hashlib
import math
from bisect import bisect_right
from dataclasses import dataclass

from fleet.core.activity_clock import ActivityClock
from fleet.core.persona import Action, ActionWeights, Sessions

# People use a social app in sessions. The activity clock times the *start* of a session:
# the active time (∫m) between two starts is a drawn rest and a heavy-tailed draw
# (Weibull, shape below 1) with mean ``1 / per_day`` days, divided by the agent's activity
# level as ``human_level`` saturates it (a busy agent's sessions grow longer rather than
# ever more frequent: ``agent_sessions``; docs/realism.md). Inside a session
# ``length`` actions follow a few seconds to a couple of minutes apart on the wall clock
# (log-uniform between the persona's bounds); the length is a power law on
# ``1..max_actions`` whose exponent is solved so that its mean is ``mean_actions``. A session
# opens with a look at the feed (browse) and holds at most one post.
#
# Every draw is a hash of (agent seed, a whole UTC second, a purpose), so the timeline of
# an agent is the same on any machine, after a restart and with two dispatchers; the only
# state a dispatcher keeps is where the agent stands: the tick due, the second its session
# opened and the tick's index in it.

DAY_SECONDS = 86_400.0
# Shape of the Weibull gap between session starts (active time): below 1 is heavier-tailed
# than an exponential, so quiet days and busy streaks both happen.
SESSION_GAP_SHAPE = 0.65
_GAP_SCALE = 1.0 / math.gamma(1.0 + 1.0 / SESSION_GAP_SHAPE)  # mean 1 at scale 1
# The rest between two session openings, in active seconds (so the starts still follow
# m(t) exactly): drawn afresh for every gap, log-uniform between these bounds, then the
# heavy-tailed part comes on top. A fixed rest was a floor that busy agents met at every
# gap: divided by a peak's multiplier it became a period (a session exactly every 5 min).
SESSION_REST_SECONDS = (60.0, 600.0)
# A tick is named by its whole UTC second: two ticks of one agent never share one.
MIN_GAP_SECONDS = 1.0
_UNIT = float(1 << 53)


def unit(seed: int, second: int, purpose: str) -> float:
    """A uniform number in [0, 1) from (agent seed, whole UTC second, purpose)."""
    digest = hashlib.blake2b(f"{seed}:{second}:{purpose}".encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") >> 11) / _UNIT


def mean_session_length(shape: Sessions) -> float:
    """The mean number of actions per session (``mean_actions``, as drawn)."""
    table = length_table(shape.mean_actions, shape.max_actions)
    previous, mean = 0.0, 0.0
    for k, cumulative in enumerate(table, start=1):
        mean += k * (cumulative - previous)
        previous = cumulative
    return mean


# -- session lengths --------------------------------------------------------------------


def _power_law_mean(exponent: float, cap: int) -> float:
    weights = [float(k) ** -exponent for k in range(1, cap + 1)]
    return float(sum(k * w for k, w in zip(range(1, cap + 1), weights, strict=True)) / sum(weights))


@functools.lru_cache(maxsize=1024)
def length_table(mean: float, cap: int) -> tuple[float, ...]:
    """Cumulative probabilities of a session's length 1..cap: P(k) ∝ k^-a, mean ``mean``.

    The exponent is found by bisection (the mean falls as it grows); ``mean`` must lie in
    [1, (cap + 1) / 2], which the persona model checks.
    """
    if cap == 1 or mean <= 1.0:
        return (1.0,) + (1.0,) * (cap - 1)
    low, high = 0.0, 20.0
    for _ in range(80):
        middle = (low + high) / 2
        if _power_law_mean(middle, cap) > mean:
            low = middle
        else:
            high = middle
    weights = [float(k) ** -low for k in range(1, cap + 1)]
    total = sum(weights)
    cumulative: list[float] = []
    running = 0.0
    for w in weights:
        running += w / total
        cumulative.append(running)
    cumulative[-1] = 1.0
    return tuple(cumulative)


def session_length(shape: Sessions, seed: int, opened: int) -> int:
    """How many actions the session opened at second ``opened`` holds (1..max_actions)."""
    table = length_table(shape.mean_actions, shape.max_actions)
    return min(shape.max_actions, bisect_right(table, unit(seed, opened, "length")) + 1)


# -- the timeline -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Position:
    """Where an agent stands: its tick due (epoch seconds), its session's opening second
    and the tick's index in that session (0 opens it)."""

    due: float
    opened: int
    index: int


_REST_MEAN = (SESSION_REST_SECONDS[1] - SESSION_REST_SECONDS[0]) / math.log(
    SESSION_REST_SECONDS[1] / SESSION_REST_SECONDS[0]
)


def session_rest(seed: int, second: int) -> float:
    """Active seconds a person rests at least between two sessions: log-uniform in
    ``SESSION_REST_SECONDS``, drawn for each gap (never a constant a gap can settle on)."""
    low, high = SESSION_REST_SECONDS
    return low * math.pow(high / low, unit(seed, second, "rest"))


def session_gap(shape: Sessions, seed: int, second: int, level: float) -> float:
    """Active seconds from one session's opening to the next's: a rest
    (``session_rest``), then a heavy-tailed Weibull, with mean ``1 / (per_day x level)``
    days in all. An agent busier than the rests allow keeps a Weibull part of at least
    the rests' mean, so its gaps stay as irregular as a person's (coefficient of
    variation above 1); ``human_level`` keeps real agents far from there."""
    u = unit(seed, second, "session")
    mean = DAY_SECONDS / (shape.per_day * level)
    spread = max(_REST_MEAN, mean - _REST_MEAN)
    return session_rest(seed, second) + spread * _GAP_SCALE * math.pow(
        -math.log1p(-u), 1 / SESSION_GAP_SHAPE
    )


def action_gap(shape: Sessions, seed: int, second: int) -> float:
    """Wall-clock seconds between two actions of one session (log-uniform in the bounds)."""
    u = unit(seed, second, "gap")
    low, high = shape.gap_min_seconds, shape.gap_max_seconds
    return max(MIN_GAP_SECONDS, low * math.pow(high / low, u))


def open_session(
    clock: ActivityClock, shape: Sessions, seed: int, level: float, after: float
) -> Position:
    """The first session that opens after ``after`` (at the end of the last one, say)."""
    start = clock.next_tick_epoch(after, session_gap(shape, seed, math.floor(after), level))
    start = max(start, math.floor(after) + MIN_GAP_SECONDS)
    return Position(start, math.floor(start), 0)


def next_in_session(
    clock: ActivityClock, shape: Sessions, seed: int, current: Position
) -> Position | None:
    """The session's next action after ``current``, or None where the session ends: after
    its drawn length, or early where the next action would fall in a dormant window (a
    person goes to sleep rather than act in the night)."""
    if current.index + 1 >= session_length(shape, seed, current.opened):
        return None
    second = math.floor(current.due)
    due = second + action_gap(shape, seed, second) + (current.due - second)
    due = max(due, second + MIN_GAP_SECONDS)
    if clock.multiplier_epoch(due) <= 0:
        return None
    return Position(due, current.opened, current.index + 1)


def after_session(
    clock: ActivityClock, shape: Sessions, seed: int, level: float, last: Position
) -> Position:
    """The next session's opening, after the session whose last action is ``last``.

    It is timed from that session's opening, not its end: the starts are a renewal
    process in active time, so their hour-of-week profile is m(t)'s even where long
    sessions fill a peak. One that would open before the last action opens a rest
    later.
    """
    nxt = open_session(clock, shape, seed, level, last.opened)
    if nxt.due < last.due + MIN_GAP_SECONDS:
        # A long session ran past it: a rest counts from its last action instead.
        rest = session_rest(seed, math.floor(last.due))
        due = clock.next_tick_epoch(last.due, rest)
        due = max(due, math.floor(last.due) + MIN_GAP_SECONDS)
        return Position(due, math.floor(due), 0)
    return nxt


# -- what a tick does -------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def _engagement(weights: ActionWeights) -> tuple[float, tuple[tuple[Action, float], ...]]:
    """The post weight and the cumulative weights of the other actions."""
    shares = weights.normalised()
    post = shares[Action.POST]
    rest = [(a, p) for a, p in shares.items() if a is not Action.POST and p > 0]
    total = sum(p for _, p in rest)
    cumulative: list[tuple[Action, float]] = []
    running = 0.0
    for action, p in rest:
        running += p / total
        cumulative.append((action, running))
    return post, tuple(cumulative)


def first_post_index(weights: ActionWeights, seed: int, opened: int) -> int:
    """The index at which the session posts: as if each action after the opener were
    drawn with the weights and only the first post kept (geometric); it may lie past the
    session's end, and then the session posts nothing."""
    post, _ = _engagement(weights)
    if post <= 0:
        return 1 << 30
    if post >= 1:
        return 1
    u = unit(seed, opened, "post")
    return 1 + math.floor(math.log1p(-u) / math.log1p(-post))


def answer_index(weights: ActionWeights, seed: int, opened: int) -> int:
    """The index at which a session answers what waits on the agent's notifications: the
    first action after the opening look, or the next when the session posts first."""
    return 2 if first_post_index(weights, seed, opened) == 1 else 1


def session_action(
    weights: ActionWeights,
    seed: int,
    opened: int,
    index: int,
    *,
    answers: bool = False,
    notified: bool = False,
) -> Action:
    """What the ``index``-th action of a session does: it opens with a look at the feed,
    posts at most once, and otherwise comments, likes or browses by the weights. With
    ``answers`` (the agent has posts or comments out there that others may have
    answered), its next action after the opening look answers what waits on it, as a
    person opening the app looks at their notifications first. ``notified`` (a person's
    comment was seen waiting on it since its last look): this action answers, as a
    person whose phone buzzed does, at the opening of a session however short it is, or
    mid-session; only the session's post keeps its place."""
    post = index == first_post_index(weights, seed, opened)
    if notified and not post:
        return Action.REPLY
    if index == 0:
        return Action.BROWSE
    if post:
        return Action.POST
    if answers and index == answer_index(weights, seed, opened):
        return Action.REPLY
    _, cumulative = _engagement(weights)
    if not cumulative:
        return Action.BROWSE
    draw = unit(seed, opened, f"action:{index}")
    for action, edge in cumulative:
        if draw < edge:
            return action
    return cumulative[-1][0]


# What a session says: the actions whose text a writer writes.
WORDS = frozenset({Action.COMMENT, Action.REPLY, Action.POST})
# What a speaking session's plan may also propose (seed 002's connection requests, from
# the feed it saw): no text, and never a reason alone for a plan.
PLANNED = WORDS | {Action.FOLLOW}


def session_speaks(shape: Sessions, weights: ActionWeights, seed: int, opened: int) -> bool:
    """Whether the session opened at ``opened`` holds a comment, a reply or a post as
    drawn (before quotas and budget): only then is its opening look worth a thought."""
    length = session_length(shape, seed, opened)
    return any(session_action(weights, seed, opened, index) in WORDS for index in range(1, length))


def session_says(
    shape: Sessions, weights: ActionWeights, seed: int, opened: int, *, answers: bool = False
) -> dict[str, int]:
    """How many comments, replies, posts and follows the session opened at ``opened``
    holds as drawn (before quotas and budget; ``answers`` as ``session_action``): what its
    opening look's plan writes, and the follows it may propose
    (``fleet.content.llm.planning``). Kinds it holds none of are left out."""
    length = session_length(shape, seed, opened)
    said: dict[str, int] = {}
    for index in range(1, length):
        action = session_action(weights, seed, opened, index, answers=answers)
        if action in PLANNED:
            said[action.value] = said.get(action.value, 0) + 1
    return said
