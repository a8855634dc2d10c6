"""The follow graph and reactions as the ledger keeps them: whom each agent follows, since
when, and how many of its likes carried a reaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session, sessionmaker

from fleet.core.statuses import ActivityStatus
from fleet.db.engine import autocommit
from fleet.db.models import AgentActivity, Engagement

_ENGAGEMENTS = cast(Table, Engagement.__table__)


def follows_of(sessions: sessionmaker[Session], agent_id: int) -> dict[str, datetime]:
    """The accounts (handles) the agent follows now by its ledger, with when it followed
    each: its follows not since unfollowed."""
    query = select(_ENGAGEMENTS.c.target_id, _ENGAGEMENTS.c.kind, _ENGAGEMENTS.c.created_at).where(
        _ENGAGEMENTS.c.agent_id == agent_id,
        _ENGAGEMENTS.c.kind.in_(("follow", "unfollow")),
    )
    followed: dict[str, datetime] = {}
    gone: set[str] = set()
    with autocommit(sessions).connect() as connection:
        for target, kind, at in connection.execute(query):
            if kind == "unfollow":
                gone.add(str(target))
            else:
                followed[str(target)] = at if at.tzinfo else at.replace(tzinfo=UTC)
    return {handle: at for handle, at in followed.items() if handle not in gone}


def reactions_since(sessions: sessionmaker[Session], agent_id: int, since: datetime) -> int:
    """How many of the agent's likes due since ``since`` carried a reaction."""
    query = select(AgentActivity.result).where(
        AgentActivity.agent_id == agent_id,
        AgentActivity.action == "like",
        AgentActivity.due_at >= since,
        AgentActivity.status == ActivityStatus.SUCCEEDED,
    )
    with autocommit(sessions).connect() as connection:
        return sum(1 for (result,) in connection.execute(query) if (result or {}).get("reaction"))
