"""Fleet-wide holds the dispatcher respects (the fleet's budget, the platform's pause).

An agent's own wait (its next tick moved past its budget) writes the agents table: it is
the agents context's (``fleet.agents.defer_agent``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from fleet.activities.views import Hold
from fleet.db.models import FleetHold


def hold_fleet(
    sessions: sessionmaker[Session], kind: str, reason: str, until: datetime, *, now: datetime
) -> None:
    """Hold the whole fleet until ``until``: the dispatcher claims nothing meanwhile."""
    with sessions.begin() as session:
        existing = session.get(FleetHold, kind, with_for_update=True)
        if existing is None:
            session.add(FleetHold(kind=kind, reason=reason, until=until, created_at=now))
        else:
            existing.reason, existing.until = reason, max(existing.until, until)


def release_holds(sessions: sessionmaker[Session], *, now: datetime | None = None) -> int:
    """Drop fleet holds (all, or those past ``now``)."""
    statement = delete(FleetHold)
    if now is not None:
        statement = statement.where(FleetHold.until <= now)
    with sessions.begin() as session:
        return session.execute(statement).rowcount  # type: ignore[attr-defined, no-any-return]


def active_hold(session: Session, now: datetime) -> Hold | None:
    """The longest fleet hold in force at ``now``, if any (one indexed read)."""
    row = session.scalar(
        select(FleetHold).where(FleetHold.until > now).order_by(FleetHold.until.desc()).limit(1)
    )
    return None if row is None else Hold(row.kind, row.reason, row.until)


def hold_in_force(sessions: sessionmaker[Session], now: datetime) -> Hold | None:
    """``active_hold`` in a session of its own."""
    with sessions() as session:
        return active_hold(session, now)
