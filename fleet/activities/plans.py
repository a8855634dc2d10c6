"""Sessions' plans: the words a speaking session's opening look had written in one call
(``fleet.actions.planning``), kept once per (agent, session) before any action uses them.

``keep_plan`` inserts the plan unless the session has one (a retried opening look finds
it and pays nothing; the agent's plans of sessions over a day old are deleted with it);
``plan_of`` reads it for the session's comments, replies and post (``plan_before`` for
its follows, which carry no mark of their session); ``opening_pending``
tells whether the session's opening action is still to be delivered (its plan may come).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, select
from sqlalchemy.orm import Session, sessionmaker

from fleet.core.statuses import ActivityStatus
from fleet.db.engine import insert_ignoring
from fleet.db.models import AgentActivity, SessionPlanRow

_PLANS = cast(Table, SessionPlanRow.__table__)
# A session lasts minutes; a draft of it waits for review in the activity, not here.
KEPT_FOR = timedelta(days=1)


def plan_of(
    sessions: sessionmaker[Session], agent_id: int, opened_at: datetime
) -> dict[str, Any] | None:
    """The plan kept for the agent's session opened at ``opened_at``, or None."""
    with sessions() as session:
        found = session.execute(
            select(_PLANS.c["items"]).where(
                _PLANS.c.agent_id == agent_id, _PLANS.c.opened_at == opened_at
            )
        ).scalar_one_or_none()
    return dict(found) if isinstance(found, dict) else None


def plan_before(
    sessions: sessionmaker[Session], agent_id: int, at: datetime, reach: timedelta
) -> dict[str, Any] | None:
    """The plan of the agent's latest session opened at or before ``at`` and no more than
    ``reach`` before it (the session an action due at ``at`` belongs to, for an action
    the dispatcher does not mark with its session), or None."""
    with sessions() as session:
        found = session.execute(
            select(_PLANS.c["items"])
            .where(
                _PLANS.c.agent_id == agent_id,
                _PLANS.c.opened_at <= at,
                _PLANS.c.opened_at >= at - reach,
            )
            .order_by(_PLANS.c.opened_at.desc())
            .limit(1)
        ).scalar_one_or_none()
    return dict(found) if isinstance(found, dict) else None


def keep_plan(
    sessions: sessionmaker[Session],
    agent_id: int,
    opened_at: datetime,
    items: dict[str, Any],
    *,
    now: datetime,
) -> dict[str, Any]:
    """Keep the session's plan, unless it has one already; the plan kept (the first)."""
    row = {"agent_id": agent_id, "opened_at": opened_at, "items": items, "created_at": now}
    with sessions.begin() as session:
        session.execute(insert_ignoring(session, _PLANS), [row])
        # The agent's plans of sessions long ended go: one row per agent, about, is kept.
        session.execute(
            delete(_PLANS).where(
                _PLANS.c.agent_id == agent_id, _PLANS.c.opened_at < opened_at - KEPT_FOR
            )
        )
    kept = plan_of(sessions, agent_id, opened_at)
    return kept if kept is not None else items


def opening_pending(sessions: sessionmaker[Session], agent_id: int, opened: datetime) -> bool:
    """Whether the agent's session opened at ``opened`` has its opening action (the one
    marked with ``says``: a look, or a reply) still pending (an agent has few pending)."""
    with sessions() as session:
        rows = session.execute(
            select(AgentActivity.content).where(
                AgentActivity.agent_id == agent_id,
                AgentActivity.status == ActivityStatus.PENDING.value,
                AgentActivity.action.in_(("browse", "reply")),
            )
        ).scalars()
        stamp = int(opened.timestamp())
        return any(
            isinstance(c, dict) and c.get("session") == stamp and c.get("says") for c in rows
        )
