"""The activities a batch of ticks decides, each recorded once as its activity's row.

A tick delivered twice finds the decision it made before by (agent, due time) and adds
nothing: the activities' unique key refuses the second row. An act an operator asked for
is recorded the same way (``create_activity``). A delivery's claim of its activity is in
``claims``, what it writes up to the activity's end in ``finishes``, how it ended in
``outcomes``; dead letters are in ``dead_letters``, waits and fleet holds in ``holds``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from fleet.core.decisions import Decision
from fleet.core.kinds import ActionKey
from fleet.core.statuses import ActivityStatus
from fleet.core.tick_notes import TickNotes
from fleet.db.engine import insert_ignoring
from fleet.db.models import AgentActivity

__all__ = ["create_activity", "decided_before", "record_decided", "spoke_since"]


def decided_before(
    session: Session, ticks: Iterable[tuple[int, int]]
) -> dict[tuple[int, int], Decision]:
    """The decisions already recorded for these (agent, due second) ticks: each one's key
    (an ``ActionKey``) and its notes as its activity keeps them."""
    wanted = set(ticks)
    if not wanted:
        return {}
    agent_ids: set[int] = set()
    dues: set[datetime] = set()
    for agent_id, due in wanted:
        agent_ids.add(agent_id)
        dues.add(datetime.fromtimestamp(due, UTC))
    rows = session.execute(
        select(
            AgentActivity.agent_id,
            AgentActivity.due_at,
            AgentActivity.action,
            AgentActivity.idempotency_key,
            AgentActivity.content,
        ).where(
            AgentActivity.agent_id.in_(agent_ids),
            AgentActivity.due_at.in_(dues),
        )
    )
    found: dict[tuple[int, int], Decision] = {}
    for row in rows:
        tick = (row.agent_id, math.floor(row.due_at.timestamp()))
        if tick not in wanted:
            continue
        decided = ActionKey.tick(tick[0], tick[1], row.action)
        if row.idempotency_key == decided.text:  # a tick's, not an act asked for then
            found[tick] = Decision(decided, TickNotes.of(row.content or {}))
    return found


def record_decided(
    session: Session, rows: list[dict[str, Any]], keys: Sequence[str]
) -> tuple[set[str], dict[str, int]]:
    """Insert the decided activities ``rows`` (a key already recorded adds nothing), in the
    caller's transaction; returns the keys that were new and the ids of all ``keys``.

    The insert returns the new rows' ids with their keys: only keys it did not insert (a
    tick decided before, redelivered) are read again, in a statement of their own."""
    ids: dict[str, int] = {}
    if rows:
        statement = (
            insert_ignoring(session, AgentActivity, "idempotency_key")
            .values(rows)
            .returning(AgentActivity.idempotency_key, AgentActivity.id)
        )
        ids = dict(session.execute(statement).all())
    new = set(ids)
    earlier = set(keys).difference(ids)
    if earlier:
        found = select(AgentActivity.idempotency_key, AgentActivity.id).where(
            AgentActivity.idempotency_key.in_(earlier)
        )
        ids.update(session.execute(found).all())
    return new, ids


def spoke_since(session: Session, agent_ids: Iterable[int], *, since: datetime) -> set[int]:
    """Those of these agents with a post or comment published since ``since``: others may
    have answered them, so their sessions open by answering (``fleet.core.answering``)."""
    wanted = set(agent_ids)
    if not wanted:
        return set()
    rows = session.execute(
        select(AgentActivity.agent_id)
        .where(
            AgentActivity.agent_id.in_(wanted),
            AgentActivity.created_at >= since,
            AgentActivity.action.in_(("post", "comment")),
            AgentActivity.status == ActivityStatus.SUCCEEDED,
        )
        .distinct()
    )
    return {agent_id for (agent_id,) in rows}


def create_activity(
    sessions: sessionmaker[Session],
    agent_id: int,
    action: str,
    due_at: datetime,
    key: str,
    *,
    now: datetime,
    lease: timedelta,
    content: dict[str, Any] | None = None,
) -> int:
    """Record a decided action (or find the one already recorded under ``key``)."""
    with sessions.begin() as session:
        session.execute(
            insert_ignoring(session, AgentActivity, "idempotency_key").values(
                agent_id=agent_id,
                action=action,
                idempotency_key=key,
                status=ActivityStatus.PENDING,
                due_at=due_at,
                lease_expires_at=now + lease,
                content=content,
                created_at=now,
                updated_at=now,
            )
        )
        found = session.scalar(select(AgentActivity.id).where(AgentActivity.idempotency_key == key))
        assert found is not None
        return found
