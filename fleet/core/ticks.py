"""When an agent ticks next: its persona's clock, its own interval, its own seeded draw.

The draw is a pure function of (agent seed, whole UTC second it is counted from), so
a replay, a second dispatcher or a restart computes the same next tick. It is hashed
straight from blake2b rather than through ``random.Random``: the dispatcher does this
ten thousand times a second, and seeding a Random costs more than the whole walk.
"""

from __future__ import annotations

import hashlib
import math

from fleet.core.action_key import ActionKey
from fleet.core.activity_clock import ActivityClock

_UNIT = float(1 << 53)


def tick_unit(agent_seed: int, epoch_second: int) -> float:
    """A uniform number in [0, 1) from (agent seed, whole UTC second)."""
    digest = hashlib.blake2b(f"{agent_seed}:{epoch_second}".encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") >> 11) / _UNIT


def next_tick_epoch(
    clock: ActivityClock, agent_seed: int, min_seconds: float, max_seconds: float, after: float
) -> float:
    """The agent's next tick after epoch ``after``: same inputs, same answer."""
    unit = tick_unit(agent_seed, math.floor(after))
    return clock.next_tick_epoch(after, min_seconds + (max_seconds - min_seconds) * unit)


def idempotency_key(agent_id: int, due_at: int, action: str) -> str:
    """``{agent_id}:{due_at as UTC seconds}:{action}``, the key of one action's effect."""
    return str(ActionKey.tick(agent_id, due_at, action))
