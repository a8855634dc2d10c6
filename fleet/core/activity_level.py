"""An agent's activity level: drawn from its seed, saturating at a human number of sessions a day."""

from __future__ import annotations

import functools
import math
from statistics import NormalDist

from fleet.core.activity_clock import ActivityClock
from fleet.core.persona import Sessions
from fleet.core.sessions import DAY_SECONDS, mean_session_length, unit

# What an activity level can make of a persona's sessions: at most about this many a day
# on its busiest local day of the week, however busy the agent. Heavy users open their
# phone 132 times a day across all their apps (dscout, "Mobile Touches", 2016) and a
# social app 12-20 times (Snap Inc., Form S-1, 2017); docs/realism.md has the sources.
# The rate saturates smoothly (``human_level``): below a third of it, a level scales the
# sessions almost exactly.
HUMAN_SESSIONS_PER_DAY = 32.0
_SATURATION_POWER = 4.0
# Activity levels are clamped here: a log-normal's far tail would make one account
# a hundred times busier than the median, which no quota would let show anyway.
ACTIVITY_BOUNDS = (0.05, 20.0)
# A level set by hand (``--activity``, the console's form): a hundredth to a hundred times
# the persona's rate; beyond, an agent is off, or a day of it is millions of actions.
SET_ACTIVITY_BOUNDS = (0.01, 100.0)
_STANDARD = NormalDist()


@functools.lru_cache(maxsize=65_536)
def activity_level(seed: int, spread: float) -> float:
    """An agent's activity level: log-normal across agents with median 1, from its seed.

    It multiplies the rate of its sessions, so a fleet has a few busy accounts and many
    quiet ones (the "90-9-1" shape of online communities).
    """
    u = unit(seed, 0, "activity")
    z = _STANDARD.inv_cdf(min(max(u, 1e-12), 1 - 1e-12))
    low, high = ACTIVITY_BOUNDS
    return min(high, max(low, math.exp(spread * z)))


@functools.lru_cache(maxsize=64)
def mean_activity_level(spread: float) -> float:
    """The mean activity level across agents (above the median 1: the tail pulls it up)."""
    steps = 4000
    low, high = ACTIVITY_BOUNDS
    total = 0.0
    for i in range(steps):
        z = _STANDARD.inv_cdf((i + 0.5) / steps)
        total += min(high, max(low, math.exp(spread * z)))
    return total / steps


def mean_daily_rates(
    shape: Sessions, clock: ActivityClock, steps: int = 1000
) -> tuple[float, float]:
    """(sessions, actions) per 24 hours of active time for the mean agent of the persona,
    over its drawn activity levels, as ``human_level`` and ``agent_sessions`` make them."""
    low, high = ACTIVITY_BOUNDS
    sessions = actions = 0.0
    for i in range(steps):
        z = _STANDARD.inv_cdf((i + 0.5) / steps)
        level = min(high, max(low, math.exp(shape.activity_spread * z)))
        rate = shape.per_day * human_level(shape, clock, level)
        sessions += rate
        actions += rate * mean_session_length(agent_sessions(shape, clock, level))
    return sessions / steps, actions / steps


@functools.lru_cache(maxsize=256)
def busiest_day_share(clock: ActivityClock) -> float:
    """The active seconds of the persona's busiest local day of the week, as a share of
    24 hours (2.0: a day all at a 2x peak)."""
    days = [0.0] * 7
    for start, end, m in clock.schedule.weekly_profile():
        minute = start
        while minute < end:
            day = minute // 1440
            stop = min(end, (day + 1) * 1440)
            days[day % 7] += (stop - minute) * 60 * m
            minute = stop
    return max(days) / DAY_SECONDS


def human_level(shape: Sessions, clock: ActivityClock, level: float) -> float:
    """The level an agent's sessions open at: ``level``, saturating smoothly so that its
    busiest local day holds about ``HUMAN_SESSIONS_PER_DAY`` sessions at most, whatever
    the level (set by hand up to 100, or drawn up to 20). At a third of the ceiling a
    level loses about 1 % of its sessions; far above it, every level gives the ceiling."""
    share = busiest_day_share(clock)
    if level <= 0 or share <= 0:
        return level
    ceiling = HUMAN_SESSIONS_PER_DAY / (shape.per_day * share)
    return level / math.pow(1 + math.pow(level / ceiling, _SATURATION_POWER), 1 / _SATURATION_POWER)


def agent_sessions(shape: Sessions, clock: ActivityClock, level: float) -> Sessions:
    """The persona's sessions as an agent of ``level`` has them: what ``human_level``
    takes from its number of sessions goes into their length, as a heavy user's sessions
    are longer as well as more frequent (up to the longest mean a length capped at
    ``max_actions`` can have). So a busier agent still does more, within human bounds,
    and the spread of activity across agents survives the saturation. The mean is kept
    to a tenth of an action (the length tables are cached by it)."""
    excess = level / human_level(shape, clock, level) if level > 0 else 1.0
    if excess <= 1.0:
        return shape
    longest = (shape.max_actions + 1) / 2
    mean = min(longest, round(shape.mean_actions * excess, 1))
    if mean <= shape.mean_actions:
        return shape
    return _with_mean(shape, mean)


@functools.lru_cache(maxsize=1024)
def _with_mean(shape: Sessions, mean: float) -> Sessions:
    """The sessions of ``shape`` with ``mean`` actions: one copy per mean (a tenth of an
    action apart), where each agent's level is its own (a cache by level missed for most
    agents of a large fleet, and a copy cost the dispatcher 7 % of its time)."""
    return shape.model_copy(update={"mean_actions": mean})
