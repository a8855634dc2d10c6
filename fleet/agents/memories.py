"""The agents' memories: commands that remember and forget, queries that recall.

A memory is written once per succeeded activity (``activity_id`` is unique: a retry or a
second delivery writes nothing) and each agent keeps at most ``keep`` of them: past it,
the least relevant (``fleet.core.memory.to_forget``) are forgotten in the same
transaction. Vectors are stored with the model that made them; a recall with another
model ignores them (ranked by recency, as with none).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from fleet.core.memory import PUBLISHED, Memory, MemoryKind, to_forget
from fleet.core.vectors import Vector, from_bytes, to_bytes
from fleet.db.engine import insert_ignoring
from fleet.db.models import Agent
from fleet.db.models import Memory as MemoryRow

MEMORIES = cast(Table, MemoryRow.__table__)


@dataclass(frozen=True, slots=True)
class Remembered:
    """A memory to write: whose, from which activity, and what."""

    agent_id: int
    activity_id: int
    memory: Memory
    post_id: str | None = None
    model: str | None = None


# Built once: a single action remembers alone, and building the statements cost it more
# than running them.
_COUNTS = (
    select(MEMORIES.c.agent_id, func.count())
    .where(MEMORIES.c.agent_id.in_(bindparam("agents", expanding=True)))
    .group_by(MEMORIES.c.agent_id)
)


def remember(
    sessions: sessionmaker[Session],
    entries: Sequence[Remembered],
    *,
    keep: int,
    now: datetime,
    half_life_days: float,
) -> int:
    """Write these memories (one per activity: an activity remembered already is left as
    it is) and forget each agent's least relevant beyond ``keep``; how many were new."""
    if not entries:
        return 0
    rows = [
        {
            "agent_id": entry.agent_id,
            "activity_id": entry.activity_id,
            "kind": entry.memory.kind.value,
            "text": entry.memory.text,
            "other": entry.memory.other,
            "about": entry.memory.about,
            "post_id": entry.post_id,
            "vector": None if entry.memory.vector is None else to_bytes(entry.memory.vector),
            "model": entry.model if entry.memory.vector is not None else None,
            "created_at": entry.memory.at,
        }
        for entry in entries
    ]
    touched = sorted({entry.agent_id for entry in entries})
    # Two statements for a whole batch (the engage path's likes): one insert of many rows,
    # one count of the agents it touched; forgetting only for an agent over its bound.
    # The rows go as parameter sets (SQLAlchemy's "insertmanyvalues" sends them as one
    # multi-row INSERT): one compiled statement whatever their number, where a VALUES
    # list built per batch was compiled again for every batch.
    with sessions.begin() as session:
        inserted = session.execute(
            insert_ignoring(session, MEMORIES, "activity_id").returning(MEMORIES.c.id), rows
        ).all()
        counts = session.execute(_COUNTS, {"agents": touched}).all()
        for agent_id, count in counts:
            if count > keep:
                _forget_beyond(session, agent_id, keep=keep, now=now, half_life_days=half_life_days)
    return len(inserted)


def _forget_beyond(
    session: Session, agent_id: int, *, keep: int, now: datetime, half_life_days: float
) -> None:
    rows = session.execute(
        select(MemoryRow.id, MemoryRow.kind, MemoryRow.created_at).where(
            MemoryRow.agent_id == agent_id
        )
    ).all()
    kept = [(row.id, Memory(MemoryKind(row.kind), "", row.created_at)) for row in rows]
    doomed = to_forget(kept, keep=keep, now=now, half_life_days=half_life_days)
    if doomed:
        session.execute(delete(MemoryRow).where(MemoryRow.id.in_(doomed)))


def _memory(row: MemoryRow, *, model: str | None, dimensions: int) -> Memory:
    vector: Vector | None = None
    if row.vector is not None and model is not None and row.model == model and dimensions:
        try:
            vector = from_bytes(row.vector, dimensions=dimensions)
        except ValueError:
            vector = None  # stored by another size of the same name: rank it by recency
    return Memory(MemoryKind(row.kind), row.text, row.created_at, row.other, row.about, vector)


def memories_of(
    sessions: sessionmaker[Session],
    agent_id: int,
    *,
    model: str | None,
    dimensions: int,
    limit: int,
) -> list[Memory]:
    """The agent's newest ``limit`` memories, newest first, with vectors of ``model``."""
    with sessions() as session:
        rows = session.scalars(
            select(MemoryRow)
            .where(MemoryRow.agent_id == agent_id)
            .order_by(MemoryRow.created_at.desc(), MemoryRow.id.desc())
            .limit(limit)
        ).all()
        return [_memory(row, model=model, dimensions=dimensions) for row in rows]


def published_vectors(
    sessions: sessionmaker[Session],
    *,
    persona: str | None,
    since: datetime,
    model: str,
    dimensions: int,
    limit: int,
    kinds: Sequence[MemoryKind] = PUBLISHED,
    replies: bool = False,
) -> list[tuple[str, Vector]]:
    """(text, vector) of what the agents of ``persona`` (None: of the whole fleet)
    published since ``since`` (of ``kinds``: posts, things said; ``replies``: only the
    replies said, which open with the @handle answered), newest first, at most
    ``limit``: the texts a draft must not echo."""
    with sessions() as session:
        query = select(MemoryRow.text, MemoryRow.vector)
        if persona is not None:
            query = query.join(Agent, Agent.id == MemoryRow.agent_id).where(
                Agent.persona == persona
            )
        if replies:
            query = query.where(MemoryRow.text.startswith("@", autoescape=True))
        rows = session.execute(
            query.where(
                MemoryRow.kind.in_([kind.value for kind in kinds]),
                MemoryRow.created_at >= since,
                MemoryRow.model == model,
                MemoryRow.vector.is_not(None),
            )
            .order_by(MemoryRow.created_at.desc())
            .limit(limit)
        ).all()
    found: list[tuple[str, Vector]] = []
    for text, data in rows:
        if data is None:
            continue
        try:
            found.append((text, from_bytes(data, dimensions=dimensions)))
        except ValueError:
            continue
    return found


def memory_count(sessions: sessionmaker[Session], agent_id: int) -> int:
    """How many memories the agent keeps."""
    with sessions() as session:
        return session.scalar(select(func.count()).where(MemoryRow.agent_id == agent_id)) or 0
