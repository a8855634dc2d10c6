"""The activities context's reads for reconciliation: the ledger over a window, the likes
it recorded per post, the activities left past their lease."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from fleet.activities.views import Entry
from fleet.core.kinds import KINDS, Action, making
from fleet.core.statuses import ActivityStatus
from fleet.db.models import Agent, AgentActivity, Engagement


def ledger_entries(sessions: sessionmaker[Session], since: datetime) -> list[Entry]:
    """The posts, comments, replies and likes recorded since ``since``, oldest first."""
    with sessions() as session:
        rows = session.execute(
            select(AgentActivity, Agent.handle)
            .join(Agent, Agent.id == AgentActivity.agent_id)
            .where(
                AgentActivity.action.in_((*making("post"), *making("comment"), *making("like"))),
                AgentActivity.created_at >= since,
            )
            .order_by(AgentActivity.id)
        ).all()
    entries = []
    for activity, handle in rows:
        content, result = activity.content or {}, activity.result or {}
        made_field = "post_id" if activity.action in making("post") else "comment_id"
        if activity.action in making("post"):
            target = None
        elif KINDS[Action(activity.action)].targets == "comment":
            # A reply's target on the activity is the comment; its post is in the content.
            target = content.get("post_id") or result.get("post_id")
        else:
            target = activity.target_post_id or result.get("post_id")
        entries.append(
            Entry(
                activity.id,
                activity.idempotency_key,
                handle,
                activity.action,
                activity.status,
                activity.created_at,
                made=_text(result.get(made_field)),
                target=_text(target),
                image_url=_text(content.get("image_url")),
                title=_text(content.get("title")),
                text=_text(content.get("text")),
            )
        )
    return entries


def recorded_likes(sessions: sessionmaker[Session], post_ids: Sequence[str]) -> dict[str, int]:
    """The fleet's likes on these posts, all time, from the engagement ledger."""
    if not post_ids:
        return {}
    with sessions() as session:
        rows = session.execute(
            select(Engagement.target_id, func.count())
            .where(Engagement.kind == "like", Engagement.target_id.in_(list(post_ids)))
            .group_by(Engagement.target_id)
        )
        return {post_id: int(count) for post_id, count in rows}


def stale_entries(sessions: sessionmaker[Session], now: datetime) -> list[tuple[Any, str]]:
    """Pending activities past their lease, with their agent's handle, oldest lease first."""
    with sessions() as session:
        rows = session.execute(
            select(AgentActivity, Agent.handle)
            .join(Agent, Agent.id == AgentActivity.agent_id)
            .where(
                AgentActivity.status == ActivityStatus.PENDING, AgentActivity.lease_expires_at < now
            )
            .order_by(AgentActivity.lease_expires_at)
        )
        return [(activity, handle) for activity, handle in rows]


def _text(value: object) -> str | None:
    return None if value is None else str(value)
