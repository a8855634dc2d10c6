"""An agent's simulated timeline: its rhythm's ticks through the daily quotas, as a preview
shows them."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from fleet.core.persona import Action, Persona
from fleet.core.quotas import DayQuotaBook
from fleet.core.rhythm import Rhythm

__all__ = ["SimulatedTick", "expected_actions", "simulate"]


@dataclass(frozen=True, slots=True)
class SimulatedTick:
    """One tick of a simulated timeline and what it did after the quotas."""

    due: int
    opened: int
    index: int
    chosen: Action
    action: Action | None
    reason: str | None


def simulate(persona: Persona, rhythm: Rhythm, start: float, end: float) -> Iterator[SimulatedTick]:
    """The agent's ticks in [start, end), from a session opening after ``start``."""
    book = DayQuotaBook(persona.quotas, ZoneInfo(persona.schedule.timezone))
    position = rhythm.start(start)
    while position.due < end:
        due = math.floor(position.due)
        opened = position.opened if rhythm.in_sessions else None
        chosen = rhythm.action(due, opened, position.index)
        action, reason = book.decide(position.due, chosen)
        yield SimulatedTick(due, position.opened, position.index, chosen, action, reason)
        position = rhythm.following(position)


def expected_actions(
    persona: Persona, rhythms: list[Rhythm], start: float, end: float
) -> list[dict[str, float]]:
    """The actions by kind the mean of these agents makes in each hour of [start, end)
    (item ``i`` from ``start + i`` hours), daily quotas applied: what the persona's clock,
    sessions and quotas expect of one agent, hour by hour."""
    hours: list[dict[str, float]] = [{} for _ in range(math.ceil((end - start) / 3600))]
    for rhythm in rhythms:
        for tick in simulate(persona, rhythm, start, end):
            if tick.action is not None:
                hour = hours[max(0, int((tick.due - start) // 3600))]
                hour[tick.action.value] = hour.get(tick.action.value, 0.0) + 1 / len(rhythms)
    return hours
