"""Queries of the activities context: they read and never write."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from fleet.activities.views import ActivityView, DeadLetterView
from fleet.db.models import ACTIONS, ACTIVITY_STATUSES, Agent, AgentActivity, DeadLetter, Engagement
from fleet.errors import InputError


@dataclass(frozen=True)
class ActivityFilter:
    """Which activities a listing shows."""

    agent_id: int | None = None
    action: str | None = None
    status: str | None = None
    since: datetime | None = None
    limit: int = 50

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


def list_dead_letters(
    sessions: sessionmaker[Session], *, limit: int = 50, include_replayed: bool = False
) -> list[DeadLetterView]:
    """The newest dead letters first."""
    statement = select(DeadLetter).order_by(DeadLetter.id.desc()).limit(limit)
    if not include_replayed:
        statement = statement.where(DeadLetter.replayed_at.is_(None))
    with sessions() as session:
        return [_letter(row) for row in session.scalars(statement)]


def get_dead_letter(sessions: sessionmaker[Session], letter_id: int) -> DeadLetterView:
    """One dead letter, or InputError."""
    with sessions() as session:
        row = session.get(DeadLetter, letter_id)
        if row is None:
            raise InputError(f"no dead letter {letter_id}")
        return _letter(row)


def _letter(row: DeadLetter) -> DeadLetterView:
    return DeadLetterView(
        row.id,
        row.activity_id,
        row.task,
        dict(row.arguments),
        row.error_type,
        row.error,
        row.attempts,
        row.created_at,
        row.replayed_at,
    )


def engaged_posts(session: Session, agent_id: int, kind: str) -> set[str]:
    """Posts the agent already liked (or commented on), from the engagement ledger."""
    rows = session.scalars(
        select(Engagement.post_id).where(Engagement.agent_id == agent_id, Engagement.kind == kind)
    )
    return set(rows)


def targets_in_flight(session: Session, agent_id: int, kind: str, *, other_than: int) -> set[str]:
    """Posts the agent's other pending likes (or comments) have already chosen."""
    rows = session.scalars(
        select(AgentActivity.target_post_id).where(
            AgentActivity.agent_id == agent_id,
            AgentActivity.action == kind,
            AgentActivity.status == "pending",
            AgentActivity.target_post_id.is_not(None),
            AgentActivity.id != other_than,
        )
    )
    return {post_id for post_id in rows if post_id is not None}


def bot_engagements_since(
    session: Session, post_ids: list[str], kind: str, since: datetime
) -> dict[str, int]:
    """How many bot likes (or comments) each post got since ``since``."""
    if not post_ids:
        return {}
    rows = session.execute(
        select(Engagement.post_id, func.count())
        .where(
            Engagement.post_id.in_(post_ids),
            Engagement.kind == kind,
            Engagement.created_at >= since,
        )
        .group_by(Engagement.post_id)
    )
    return {post_id: count for post_id, count in rows}


def recent_texts(session: Session, *, agent_id: int | None = None, limit: int = 50) -> list[str]:
    """Captions and comments recently published (by one agent, or by the whole fleet)."""
    statement = (
        select(AgentActivity.content)
        .where(AgentActivity.status == "succeeded", AgentActivity.action.in_(("post", "comment")))
        .order_by(AgentActivity.id.desc())
        .limit(limit)
    )
    if agent_id is not None:
        statement = statement.where(AgentActivity.agent_id == agent_id)
    texts = []
    for content in session.scalars(statement):
        text = (content or {}).get("title") or (content or {}).get("text")
        if text:
            texts.append(str(text))
    return texts
