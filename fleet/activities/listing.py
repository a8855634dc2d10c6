"""Listing the activity ledger: a filtered page of activities, newest first, in keyset
pages; and activities counted by persona, action and status. Reads only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from fleet.activities.views import ActivityView
from fleet.core.kinds import ACTION_NAMES as ACTIONS
from fleet.core.statuses import ACTIVITY_STATUSES
from fleet.db.models import Agent, AgentActivity
from fleet.errors import InputError


@dataclass(frozen=True)
class ActivityFilter:
    """Which activities a listing shows."""

    agent_id: int | None = None
    action: str | None = None
    status: str | None = None
    since: datetime | None = None
    limit: int = 50
    persona: str | None = None
    # Keyset paging: only activities with an id below this one (the next page's start).
    before: int | None = None

    def __post_init__(self) -> None:
        if self.action is not None and self.action not in ACTIONS:
            raise InputError(f"unknown action {self.action!r}; one of {', '.join(ACTIONS)}")
        if self.status is not None and self.status not in ACTIVITY_STATUSES:
            raise InputError(
                f"unknown status {self.status!r}; one of {', '.join(ACTIVITY_STATUSES)}"
            )
        if not 1 <= self.limit <= 10_000:
            raise InputError(f"limit must be between 1 and 10000 (got {self.limit})")


def list_activities(sessions: sessionmaker[Session], where: ActivityFilter) -> list[ActivityView]:
    """The newest activities first."""
    statement = (
        select(AgentActivity, Agent.handle, Agent.persona)
        .join(Agent, Agent.id == AgentActivity.agent_id)
        .order_by(AgentActivity.id.desc())
        .limit(where.limit)
    )
    if where.agent_id is not None:
        statement = statement.where(AgentActivity.agent_id == where.agent_id)
    if where.action is not None:
        statement = statement.where(AgentActivity.action == where.action)
    if where.status is not None:
        statement = statement.where(AgentActivity.status == where.status)
    if where.since is not None:
        statement = statement.where(AgentActivity.created_at >= where.since)
    if where.persona is not None:
        statement = statement.where(Agent.persona == where.persona)
    if where.before is not None:
        statement = statement.where(AgentActivity.id < where.before)
    with sessions() as session:
        return [
            ActivityView(
                a.id,
                a.agent_id,
                handle,
                persona,
                a.action,
                a.status,
                a.idempotency_key,
                a.due_at,
                a.attempts,
                a.target_post_id,
                a.result,
                a.usage,
                a.error,
                a.created_at,
                a.finished_at,
            )
            for a, handle, persona in session.execute(statement)
        ]


def activity_stats(
    sessions: sessionmaker[Session], since: datetime
) -> list[tuple[str, str, str, int]]:
    """Activities since ``since`` counted by (persona, action, status)."""
    statement = (
        select(Agent.persona, AgentActivity.action, AgentActivity.status, func.count())
        .join(Agent, Agent.id == AgentActivity.agent_id)
        .where(AgentActivity.created_at >= since)
        .group_by(Agent.persona, AgentActivity.action, AgentActivity.status)
        .order_by(Agent.persona, AgentActivity.action, AgentActivity.status)
    )
    with sessions() as session:
        return [(p, a, s, n) for p, a, s, n in session.execute(statement)]
