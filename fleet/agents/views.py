"""What the agents context hands out: plain, serialisable views of stored rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fleet.activities.views import Tally, view_json
from fleet.core.review import ReviewMode
from fleet.db.models import Agent


@dataclass(frozen=True)
class NewAgents:
    """Agents to create: ``count`` of a persona, what each changes of it (its interval
    between ticks, its action weights, its activity level; None: the persona's), and
    whether their posts, comments and replies wait for review."""

    persona: str
    count: int
    interval: tuple[float, float] | None = None
    weights: Mapping[str, float] | None = None
    activity: float | None = None
    review: ReviewMode = ReviewMode.OFF


@dataclass(frozen=True, slots=True)
class AgentView:
    """One agent as the CLI and the API show it."""

    id: int
    handle: str
    display_name: str
    persona: str
    persona_index: int
    status: str
    seed: int
    interval: tuple[float, float] | None
    activity: float | None
    weights: dict[str, float] | None
    platform_user_id: str | None
    next_tick_at: datetime | None
    last_tick_at: datetime | None
    current_action: str | None
    last_action: str | None
    last_action_at: datetime | None
    last_thought: str | None
    error: str | None
    ticks: int
    # Successes per kind of action ({"post": 3, "like": 40}).
    actions: dict[str, int]
    created_at: datetime
    deleted_at: datetime | None
    # Review mode: its posts, comments and replies wait as drafts for an owner.
    review: bool = False

    @classmethod
    def of(cls, row: Agent, tally: Tally) -> AgentView:
        interval = None
        if row.interval_min is not None and row.interval_max is not None:
            interval = (row.interval_min, row.interval_max)
        return cls(
            id=row.id,
            handle=row.handle,
            display_name=row.display_name,
            persona=row.persona,
            persona_index=row.persona_index,
            status="deleted" if row.deleted_at else row.status,
            seed=row.seed,
            interval=interval,
            activity=row.activity,
            weights=row.weights,
            platform_user_id=row.platform_user_id,
            next_tick_at=row.next_tick_at,
            last_tick_at=row.last_tick_at,
            current_action=tally.current_action,
            last_action=tally.last_action,
            last_action_at=tally.last_action_at,
            last_thought=tally.last_thought,
            error=row.error,
            ticks=row.ticks_count,
            actions=tally.actions,
            created_at=row.created_at,
            deleted_at=row.deleted_at,
            review=bool(row.review),
        )

    def to_json(self) -> dict[str, Any]:
        return view_json(self)


@dataclass(frozen=True, slots=True)
class Created:
    """The result of creating agents: how many, and the range of indices and ids."""

    persona: str
    count: int
    first_index: int
    last_index: int
    first_id: int
    last_id: int
    started: int = 0


@dataclass(frozen=True, slots=True)
class Transition:
    """The result of a status command: which agents changed and which were left as they were."""

    command: str
    changed: int
    unchanged: int
    # Agents that could not make the change and were set aside, each with its reason.
    errors: tuple[str, ...] = ()
