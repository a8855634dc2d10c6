"""Decided actions recorded once: the rows a batch of ticks adds to the activities.

A tick delivered twice finds the decision it made before by (agent, due time) and adds
nothing: the activities' unique key refuses the second row.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fleet.core.statuses import ActivityStatus
from fleet.core.timeline import idempotency_key
from fleet.db.engine import insert_ignoring
from fleet.db.models import AgentActivity


def decided_before(
    session: Session, ticks: Iterable[tuple[int, int]]
) -> dict[tuple[int, int], tuple[str, str, int]]:
    """Activities already recorded for these (agent, due second) ticks: (action, key, id)."""
    wanted = set(ticks)
    if not wanted:
        return {}
    rows = session.execute(
        select(
            AgentActivity.agent_id,
            AgentActivity.due_at,
            AgentActivity.action,
            AgentActivity.idempotency_key,
            AgentActivity.id,
        ).where(
            AgentActivity.agent_id.in_({agent_id for agent_id, _ in wanted}),
            AgentActivity.due_at.in_({datetime.fromtimestamp(due, UTC) for _, due in wanted}),
        )
    )
    found: dict[tuple[int, int], tuple[str, str, int]] = {}
    for agent_id, due_at, action, key, activity_id in rows:
        pair = (agent_id, math.floor(due_at.timestamp()))
        if pair in wanted and key == idempotency_key(pair[0], pair[1], action):
            found[pair] = (action, key, activity_id)
    return found


def record_decided(
    session: Session, rows: list[dict[str, Any]], keys: Sequence[str]
) -> tuple[set[str], dict[str, int]]:
    """Insert the decided activities ``rows`` (a key already recorded adds nothing), in the
    caller's transaction; returns the keys that were new and the ids of all ``keys``."""
    new: set[str] = set()
    if rows:
        statement = (
            insert_ignoring(session, AgentActivity, "idempotency_key")
            .values(rows)
            .returning(AgentActivity.idempotency_key)
        )
        new = set(session.scalars(statement))
    ids: dict[str, int] = {}
    if keys:
        found = select(AgentActivity.idempotency_key, AgentActivity.id).where(
            AgentActivity.idempotency_key.in_(keys)
        )
        ids = {key: activity_id for key, activity_id in session.execute(found)}
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
