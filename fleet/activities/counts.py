"""The ledger counted for people: outcomes, actions by hour or week, dead letters."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session, sessionmaker

from fleet.core.statuses import ActivityStatus
from fleet.db.models import Agent, AgentActivity, DeadLetter

_ACTIVITIES = cast(Table, AgentActivity.__table__)


def outcome_totals(sessions: sessionmaker[Session]) -> dict[str, dict[str, dict[str, int]]]:
    """Activities counted by persona, then kind of action, then status."""
    statement = (
        select(Agent.persona, _ACTIVITIES.c.action, _ACTIVITIES.c.status, func.count())
        .join(Agent, Agent.id == _ACTIVITIES.c.agent_id)
        .group_by(Agent.persona, _ACTIVITIES.c.action, _ACTIVITIES.c.status)
    )
    out: dict[str, dict[str, dict[str, int]]] = {}
    with sessions() as session:
        for persona, action, status, count in session.execute(statement):
            out.setdefault(persona, {}).setdefault(action, {})[status] = int(count)
    return out


def dead_letter_count(sessions: sessionmaker[Session]) -> int:
    """Dead letters kept, replayed ones included."""
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(DeadLetter)) or 0)


def action_counts(sessions: sessionmaker[Session], since: datetime) -> dict[str, dict[str, int]]:
    """Activities created since ``since`` counted by kind, then status."""
    statement = (
        select(AgentActivity.action, AgentActivity.status, func.count())
        .where(AgentActivity.created_at >= since)
        .group_by(AgentActivity.action, AgentActivity.status)
    )
    out: dict[str, dict[str, int]] = {}
    with sessions() as session:
        for action, status, count in session.execute(statement):
            out.setdefault(action, {})[status] = int(count)
    return out


def dead_letters_open(sessions: sessionmaker[Session], since: datetime) -> dict[str, int]:
    """Dead letters not replayed (``total``) and those written since ``since`` (``new``)."""
    with sessions() as session:
        total = session.scalar(
            select(func.count()).select_from(DeadLetter).where(DeadLetter.replayed_at.is_(None))
        )
        new = session.scalar(
            select(func.count()).select_from(DeadLetter).where(DeadLetter.created_at >= since)
        )
    return {"total": int(total or 0), "new": int(new or 0)}


def hourly_counts(
    sessions: sessionmaker[Session], since: datetime
) -> list[tuple[str, datetime, int]]:
    """Activities created since ``since`` counted by (persona, UTC hour they began in)."""
    with sessions() as session:
        # Postgres's date_trunc; on SQLite the engine's own (``fleet.db.engine``).
        hour = func.date_trunc("hour", AgentActivity.created_at)
        statement = (
            select(Agent.persona, hour, func.count())
            .join(Agent, Agent.id == AgentActivity.agent_id)
            .where(AgentActivity.created_at >= since)
            .group_by(Agent.persona, hour)
        )
        out = []
        for persona, start, count in session.execute(statement):
            if isinstance(start, str):
                start = datetime.fromisoformat(start)
            if start.tzinfo is None:
                start = start.replace(tzinfo=UTC)
            out.append((persona, start, int(count)))
        return out


def week_outcomes(
    sessions: sessionmaker[Session], start: datetime, end: datetime
) -> tuple[list[tuple[str, str, str, int]], list[tuple[str, dict[str, object]]]]:
    """Between ``start`` and ``end``: activities by (persona, action, status), and the
    LLM usage recorded on each (persona, usage)."""
    window = (AgentActivity.created_at >= start, AgentActivity.created_at < end)
    counts = (
        select(Agent.persona, AgentActivity.action, AgentActivity.status, func.count())
        .join(Agent, Agent.id == AgentActivity.agent_id)
        .where(*window)
        .group_by(Agent.persona, AgentActivity.action, AgentActivity.status)
    )
    usage = (
        select(Agent.persona, AgentActivity.usage)
        .join(Agent, Agent.id == AgentActivity.agent_id)
        .where(*window, AgentActivity.usage.is_not(None))
    )
    with sessions() as session:
        return (
            [(p, a, s, int(n)) for p, a, s, n in session.execute(counts)],
            [(p, dict(u)) for p, u in session.execute(usage) if u],
        )


def provenance_counts(
    sessions: sessionmaker[Session], start: datetime, end: datetime, *, last: int = 1000
) -> tuple[int, int, int]:
    """Of the newest ``last`` posts decided between ``start`` and ``end``: those published,
    those published with valid provenance marks (the check's record on the activity), and
    those skipped for want of them ("no provenance")."""
    newest = (
        select(AgentActivity.status, AgentActivity.error, AgentActivity.content)
        .where(
            AgentActivity.action == "post",
            AgentActivity.created_at >= start,
            AgentActivity.created_at < end,
            AgentActivity.status.in_((ActivityStatus.SUCCEEDED, ActivityStatus.SKIPPED)),
        )
        .order_by(AgentActivity.created_at.desc())
        .limit(last)
    )
    published = marked = refused = 0
    with sessions() as session:
        for status, error, content in session.execute(newest):
            if status == "skipped":
                refused += bool(error and error.startswith("no provenance"))
                continue
            published += 1
            checked = (content or {}).get("provenance")
            marked += bool(isinstance(checked, dict) and checked.get("ok") is True)
    return published, marked, refused


def week_posts(
    sessions: sessionmaker[Session], start: datetime, end: datetime, *, limit: int
) -> tuple[list[tuple[str, str, str]], int]:
    """The fleet's posts published between ``start`` and ``end``, newest first, up to
    ``limit``: (persona, the poster's handle, the gallery's post id); and how many there
    were in all."""
    window = (
        AgentActivity.action == "post",
        AgentActivity.status == ActivityStatus.SUCCEEDED,
        AgentActivity.created_at >= start,
        AgentActivity.created_at < end,
    )
    rows = (
        select(Agent.persona, Agent.handle, AgentActivity.result)
        .join(Agent, Agent.id == AgentActivity.agent_id)
        .where(*window)
        .order_by(AgentActivity.created_at.desc(), AgentActivity.id.desc())
        .limit(limit)
    )
    total = select(func.count()).select_from(AgentActivity).where(*window)
    with sessions() as session:
        posts = [
            (persona, handle, str(result["post_id"]))
            for persona, handle, result in session.execute(rows)
            if result and result.get("post_id")
        ]
        return posts, int(session.scalar(total) or 0)


def dead_letter_reasons(
    sessions: sessionmaker[Session], start: datetime, end: datetime
) -> list[tuple[str, str, int]]:
    """Dead letters written between ``start`` and ``end`` by (task, error type)."""
    statement = (
        select(DeadLetter.task, DeadLetter.error_type, func.count())
        .where(DeadLetter.created_at >= start, DeadLetter.created_at < end)
        .group_by(DeadLetter.task, DeadLetter.error_type)
        .order_by(func.count().desc())
    )
    with sessions() as session:
        return [(t, e, int(n)) for t, e, n in session.execute(statement)]
