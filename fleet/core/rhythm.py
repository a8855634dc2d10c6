"""An agent's rhythm: the one place that says when its next tick falls, what that tick does."""

from __future__ import annotations

import math
from dataclasses import dataclass

from fleet.core.activity_clock import ActivityClock
from fleet.core.activity_level import activity_level, agent_sessions, human_level
from fleet.core.persona import Action, ActionWeights, Persona, Sessions, choose_action
from fleet.core.sessions import (
    MIN_GAP_SECONDS,
    Position,
    after_session,
    answer_index,
    next_in_session,
    open_session,
    session_action,
    session_says,
    session_speaks,
)
from fleet.core.steady import next_tick_epoch, tick_rng


@dataclass(frozen=True, slots=True)
class PersonaCadence:
    """What every tick of a persona's agents reads of the persona, resolved once (when a
    catalogue loads it, ``fleet.infra.persona_files``), not at each tick: the persona (its
    quotas), its activity clock (and time zone), and its own rhythm (its sessions, or
    its steady interval), from which each agent's ``Rhythm`` is filled in."""

    persona: Persona
    clock: ActivityClock
    sessions: Sessions | None
    steady: tuple[float, float] | None

    @classmethod
    def of(cls, persona: Persona, clock: ActivityClock) -> PersonaCadence:
        steady = None
        if persona.interval is not None:
            steady = (persona.interval.min_seconds, persona.interval.max_seconds)
        if persona.sessions is None and steady is None:  # pragma: no cover - refused by Persona
            raise ValueError(f"persona {persona.slug} has no rhythm")
        return cls(persona, clock, persona.sessions, steady)

    def rhythm(
        self,
        seed: int,
        *,
        interval: tuple[float, float] | None = None,
        activity: float | None = None,
        weights: ActionWeights | None = None,
        pace: float = 1.0,
    ) -> Rhythm:
        """One agent's rhythm: the persona's sessions, or its own steady ``interval`` (a
        steady ticker's); its sessions open at the fleet's ``pace`` (``fleet.core.pace``)."""
        if interval is None:
            sessions, steady = self.sessions, self.steady
        else:
            sessions, steady = None, interval
        weights = weights or self.persona.weights
        if activity is None:
            # Drawn from the seed, log-normal across agents (a steady ticker's spread is
            # 0: the median, 1). Drawn once here, where every tick of the agent reads it.
            activity = 1.0 if sessions is None else activity_level(seed, sessions.activity_spread)
        return Rhythm(self.clock, weights, seed, activity, sessions, steady, pace)


@dataclass(frozen=True, slots=True)
class Rhythm:
    """How one agent's ticks follow each other and what each does."""

    clock: ActivityClock
    weights: ActionWeights
    seed: int
    # The agent's activity level: set by hand, or drawn from its seed (log-normal).
    level: float
    sessions: Sessions | None = None
    # Active seconds between two steady ticks (min, max), when the agent has no sessions.
    steady: tuple[float, float] | None = None
    # The fleet's pace (``fleet.core.pace``): it multiplies the rate of sessions.
    pace: float = 1.0

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
        return choose_action(self.weights, tick_rng(self.seed, due))
