"""An agent's rhythm and its simulated timeline: the one place that says what comes next.

A rhythm is either human sessions (``fleet.core.sessions``) or, for tickers and load
tests, a steady interval: one action every ``interval`` seconds of active time. The
dispatcher advances agents with ``Rhythm.following``; the tick decides with
``Rhythm.action``; ``simulate`` strings the two together with the daily quotas, which is
what the realism benchmark and ``fleet schedule preview --agent`` show. All of it is a
pure function of (persona, agent seed, time).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fleet.core.activity_clock import ActivityClock, tick_rng
from fleet.core.decisions import choose_action
from fleet.core.persona import Action, ActionWeights, Persona, Quotas, Sessions
from fleet.core.sessions import (
    MIN_GAP_SECONDS,
    Position,
    activity_level,
    after_session,
    agent_sessions,
    answer_index,
    counted,
    day_counts,
    human_level,
    next_in_session,
    open_session,
    session_action,
    session_says,
    session_speaks,
    within_quota,
)
from fleet.core.ticks import next_tick_epoch


@dataclass(frozen=True, slots=True)
class Rhythm:
    """How one agent's ticks follow each other and what each does."""

    clock: ActivityClock
    weights: ActionWeights
    seed: int
    sessions: Sessions | None = None
    # Active seconds between two steady ticks (min, max), when the agent has no sessions.
    steady: tuple[float, float] | None = None
    # The activity level set by hand; None draws it from the seed.
    activity: float | None = None
    # The fleet's pace (``fleet.core.pace``): it multiplies the rate of sessions.
    pace: float = 1.0

    @classmethod
    def of(
        cls,
        persona: Persona,
        clock: ActivityClock,
        seed: int,
        *,
        weights: ActionWeights | None = None,
        interval: tuple[float, float] | None = None,
        activity: float | None = None,
    ) -> Rhythm:
        """The rhythm of an agent: its own interval makes it a steady ticker."""
        sessions = persona.sessions if interval is None else None
        steady = interval
        if steady is None and sessions is None and persona.interval is not None:
            steady = (persona.interval.min_seconds, persona.interval.max_seconds)
        if sessions is None and steady is None:  # pragma: no cover - refused by Persona
            raise ValueError(f"persona {persona.slug} has no rhythm")
        return cls(clock, weights or persona.weights, seed, sessions, steady, activity)

    @property
    def level(self) -> float:
        """The agent's activity level: set by hand, or drawn from its seed (log-normal)."""
        if self.activity is not None:
            return self.activity
        spread = self.sessions.activity_spread if self.sessions is not None else 0.0
        return activity_level(self.seed, spread)

    @property
    def _rate(self) -> float:
        """The level sessions open at: the agent's own, saturating at a human number of
        sessions a day (``human_level``), at the fleet's pace."""
        if self.sessions is None:
            return self.level * self.pace
        return human_level(self.sessions, self.clock, self.level) * self.pace

    @property
    def in_sessions(self) -> bool:
        return self.sessions is not None

    @property
    def _shape(self) -> Sessions:
        """The sessions as this agent has them (``agent_sessions``: a busy agent's are
        longer rather than ever more frequent)."""
        assert self.sessions is not None
        return agent_sessions(self.sessions, self.clock, self.level)

    def start(self, after: float) -> Position:
        """The first tick after ``after``: a session's opening, or the next steady tick."""
        if self.sessions is not None:
            return open_session(self.clock, self._shape, self.seed, self._rate, after)
        return self._steady(after)

    def following(self, current: Position) -> Position:
        """The tick after ``current``."""
        if self.sessions is None:
            return self._steady(current.due)
        shape = self._shape
        nxt = next_in_session(self.clock, shape, self.seed, current)
        if nxt is not None:
            return nxt
        return after_session(self.clock, shape, self.seed, self._rate, current)

    def _steady(self, after: float) -> Position:
        assert self.steady is not None
        low, high = self.steady
        due = next_tick_epoch(self.clock, self.seed, low, high, after)
        due = max(due, math.floor(after) + MIN_GAP_SECONDS)
        return Position(due, math.floor(due), 0)

    def thinks(self, opened: int | None, index: int) -> bool:
        """Whether a look at the feed at this position asks the writer for a thought:
        only a session's opening look, and only when the session says something (a
        steady ticker, which has no sessions, thinks at every look)."""
        if self.sessions is None or opened is None:
            return True
        return index == 0 and session_speaks(self._shape, self.weights, self.seed, opened)

    def says(self, opened: int | None, *, answers: bool = False) -> dict[str, int]:
        """The comments, replies and posts the session opened at ``opened`` holds as drawn
        (``session_says``); none for a steady ticker, which has no sessions."""
        if self.sessions is None or opened is None:
            return {}
        return session_says(self._shape, self.weights, self.seed, opened, answers=answers)

    def answers_at(self, opened: int | None, index: int, *, notified: bool = False) -> bool:
        """Whether this position is a session's look at its notifications (when it
        answers): any when ``notified``, else the one after the opening look."""
        if self.sessions is None or opened is None:
            return False
        if notified:
            return True
        return index == answer_index(self.weights, self.seed, opened)

    def action(
        self,
        due: int,
        opened: int | None,
        index: int,
        *,
        answers: bool = False,
        notified: bool = False,
    ) -> Action:
        """What the tick due at whole second ``due`` does (before quotas and budget);
        ``answers``, ``notified``: a session answers what waits on the agent first
        (``session_action``)."""
        if self.sessions is not None and opened is not None:
            return session_action(
                self.weights, self.seed, opened, index, answers=answers, notified=notified
            )
        return choose_action(self.weights, tick_rng(self.seed, datetime.fromtimestamp(due, UTC)))


def local_day(zone: ZoneInfo, epoch: float) -> str:
    """The persona's local date of an instant, ``YYYY-MM-DD``: the day quotas count in."""
    return datetime.fromtimestamp(epoch, zone).date().isoformat()


@dataclass(frozen=True, slots=True)
class SimulatedTick:
    """One tick of a simulated timeline and what it did after the quotas."""

    due: int
    opened: int
    index: int
    chosen: Action
    action: Action | None
    reason: str | None


# The share of the daily reply quota kept for people's comments (``DayQuotaBook.decide``).
PEOPLE_REPLIES_KEPT = 0.3


@dataclass
class DayQuotaBook:
    """Counts of decided actions per local day, kept as the agents table keeps them."""

    quotas: Quotas
    zone: ZoneInfo
    stored: dict[str, Any] = field(default_factory=dict)

    def decide(
        self, epoch: float, chosen: Action, *, for_people: bool = False, owed: bool = False
    ) -> tuple[Action | None, str | None]:
        """The action the quotas let the agent do, and why another if so. A reply of its
        own accord (not ``for_people``: no person's comment called it) may take the reply
        quota less ``PEOPLE_REPLIES_KEPT`` of it (7 of 10): the rest is kept for the people
        who write to it (why: docs/tuning.md).

        ``owed``: a truthful answer a person asked for (what the agent is, who runs it):
        counted, never refused, whatever the quotas say (issue 48)."""
        day = local_day(self.zone, epoch)
        if owed:
            self.stored = counted(self.stored, day, chosen)
            return chosen, None
        counts = day_counts(self.stored, day)
        limit = self.quotas.limit(Action.REPLY)
        own = None
        if limit is not None and chosen is Action.REPLY and not for_people:
            kept = math.ceil(PEOPLE_REPLIES_KEPT * limit)
            if kept and counts.get(Action.REPLY.value, 0) >= limit - kept:
                # Its own share is spent: the reply falls as one past the quota does.
                counts = {**counts, Action.REPLY.value: limit}
                own = f"daily quota: {limit - kept} reply(s) of its own, {kept} kept for people"
        action, reason = within_quota(chosen, counts, self.quotas)
        reason = own or reason
        if action is not None:
            self.stored = counted(self.stored, day, action)
        return action, reason


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


__all__ = [
    "DayQuotaBook",
    "Rhythm",
    "SimulatedTick",
    "expected_actions",
    "local_day",
    "simulate",
]
