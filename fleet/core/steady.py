"""A steady ticker's draws: one tick every drawn interval of active time, seeded by the agent."""

from __future__ import annotations

import hashlib
import math
import random

from fleet.core.activity_clock import ActivityClock
from fleet.core.persona import Interval

_UNIT = float(1 << 53)


def draw_interval(interval: Interval, rng: random.Random) -> float:
    """Active seconds until the next tick, uniform in [min_seconds, max_seconds]."""
    return rng.uniform(interval.min_seconds, interval.max_seconds)


def tick_rng(agent_seed: int, seconds: int) -> random.Random:
    """A Random seeded from (agent seed, due time in whole UTC epoch seconds: the tick's
    own, as its key names it), stable across runs."""
    # blake2b, not hash(): str hashes are salted per process, a seed must not be.
    digest = hashlib.blake2b(f"{agent_seed}:{seconds}".encode(), digest_size=16).digest()
    return random.Random(int.from_bytes(digest, "big"))


# When an agent ticks next: its persona's clock, its own interval, its own seeded draw.
#
# The draw is a pure function of (agent seed, whole UTC second it is counted from), so
# a replay, a second dispatcher or a restart computes the same next tick. It is hashed
# straight from blake2b rather than through ``random.Random``: the dispatcher does this
# ten thousand times a second, and seeding a Random costs more than the whole walk.


def next_tick_epoch(
    clock: ActivityClock, agent_seed: int, min_seconds: float, max_seconds: float, after: float
) -> float:
    """The agent's next tick after epoch ``after``: same inputs, same answer."""
    # A uniform number in [0, 1) from (agent seed, whole UTC second).
    digest = hashlib.blake2b(f"{agent_seed}:{math.floor(after)}".encode(), digest_size=8).digest()
    unit = (int.from_bytes(digest, "big") >> 11) / _UNIT
    return clock.next_tick_epoch(after, min_seconds + (max_seconds - min_seconds) * unit)
