"""When an agent ticks next: its persona's clock, its own interval, its own seeded draw."""

from __future__ import annotations

from datetime import datetime

from fleet.core.clock import ActivityClock, draw_interval, tick_rng
from fleet.core.persona import Interval


def next_tick_after(
    clock: ActivityClock, agent_seed: int, interval: Interval, after: datetime
) -> datetime:
    """The agent's next tick after ``after``: the same inputs always give the same time."""
    rng = tick_rng(agent_seed, after)
    return clock.next_tick(after, draw_interval(interval, rng))
