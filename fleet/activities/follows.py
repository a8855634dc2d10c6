"""The follow graph as the engagement ledger keeps it: whom each agent follows and since when."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session, sessionmaker

from fleet.db.engine import autocommit
from fleet.db.models import Engagement

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
