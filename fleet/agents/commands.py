"""Commands of the agents context: each is one unit of work that changes agents."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from pydantic import ValidationError
from sqlalchemy import (
    Connection,
    CursorResult,
    Row,
    Table,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session, sessionmaker

from fleet.agents.deciding import rhythm_of
from fleet.agents.heartbeat import AGENT_FAULTS, set_aside
from fleet.agents.selection import Selection
from fleet.agents.views import Created, NewAgents, Transition
from fleet.core.activity_level import SET_ACTIVITY_BOUNDS
from fleet.core.memory import PUBLISHED, Memory, MemoryKind, to_forget
from fleet.core.names import Birth, capacity, identity
from fleet.core.persona import Action, effective_interval, effective_weights
from fleet.core.review import ReviewMode
from fleet.core.vectors import Vector, from_bytes, to_bytes
from fleet.db.engine import autocommit, insert_ignoring, update_rows
from fleet.db.models import Agent, MemoryRow
from fleet.errors import InputError, UnknownAgent
from fleet.infra.persona_files import PersonaCatalogue

MAX_CREATE = 1_000_000

_AGENTS = cast(Table, Agent.__table__)

# Which statuses each command moves agents from, and to.
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "start": (frozenset({"created", "stopped", "error"}), "active"),
    "pause": (frozenset({"active"}), "paused"),
    "resume": (frozenset({"paused"}), "active"),
    "stop": (frozenset({"created", "active", "paused", "error"}), "stopped"),
}

_COPY_COLUMNS = (
    "handle",
    "display_name",
    "persona",
    "persona_index",
    "seed",
    "status",
    "weights",
    "interval_min",
    "interval_max",
    "activity",
    "created_at",
    "updated_at",
)


def _validate_overrides(
    catalogue: PersonaCatalogue,
    persona_slug: str,
    interval: tuple[float, float] | None,
    weights: Mapping[str, float] | None,
) -> None:
    persona = catalogue.get(persona_slug)
    if weights:
        unknown = set(weights) - {action.value for action in Action}
        if unknown:
            raise InputError(f"weights: unknown action(s) {sorted(unknown)}")
        try:
            effective_weights(persona, weights)
        except ValidationError as exc:
            raise InputError(
                f"weights: {exc.errors()[0]['msg'].removeprefix('Value error, ')}"
            ) from None
    if interval is not None:
        try:
            effective_interval(persona, *interval)
        except ValidationError as exc:
            raise InputError(
                f"interval: {exc.errors()[0]['msg'].removeprefix('Value error, ')}"
            ) from None


def _lock_persona(connection: Connection, persona_slug: str) -> None:
    # Two creators of one persona would pick the same next index: serialise them.
    # Dialect branch: an advisory lock is Postgres's; SQLite serialises every writer.
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
            {"key": f"fleet:create-agents:{persona_slug}"},
        )


def _copy_rows(connection: Connection, rows: list[tuple[object, ...]]) -> None:
    driver = connection.connection.driver_connection
    columns = ", ".join(_COPY_COLUMNS)
    with driver.cursor() as cursor, cursor.copy(f"COPY agents ({columns}) FROM STDIN") as copy:  # type: ignore[union-attr]
        for row in rows:
            copy.write_row(row)


def create_agents(
    sessions: sessionmaker[Session],
    catalogue: PersonaCatalogue,
    new: NewAgents,
    *,
    fleet_seed: int,
    now: datetime,
) -> Created:
    """Create ``new.count`` agents of a persona in one bulk write, after any made before;
    under review mode when asked (their content actions wait as drafts)."""
    _check_new(catalogue, new)
    persona, count = new.persona, new.count
    spec = catalogue.get(persona)
    with sessions.begin() as session:
        connection = session.connection()
        _lock_persona(connection, persona)
        highest = session.scalar(
            select(func.max(Agent.persona_index)).where(Agent.persona == persona)
        )
        first = 0 if highest is None else highest + 1
        if first + count > capacity(spec):
            raise InputError(f"persona {persona} cannot hold {count} more agents")
        identities = [identity(spec, fleet_seed, index) for index in range(first, first + count)]
        _insert_agents(session, new, identities, now)
        first_id, last_id = session.execute(
            select(func.min(Agent.id), func.max(Agent.id)).where(
                Agent.persona == persona, Agent.persona_index >= first
            )
        ).one()
        if new.review is ReviewMode.ON:
            session.execute(
                update(Agent)
                .where(Agent.persona == persona, Agent.persona_index >= first)
                .values(review=True)
            )
    return Created(persona, count, first, first + count - 1, first_id, last_id)


def _check_new(catalogue: PersonaCatalogue, new: NewAgents) -> None:
    """InputError for a count out of bounds, or overrides the persona cannot take."""
    if not 1 <= new.count <= MAX_CREATE:
        raise InputError(f"count must be between 1 and {MAX_CREATE:,} (got {new.count})")
    _validate_overrides(catalogue, new.persona, new.interval, new.weights)
    low, high = SET_ACTIVITY_BOUNDS
    activity = new.activity
    if activity is not None and not (math.isfinite(activity) and low <= activity <= high):
        raise InputError(f"activity must be a number from {low:g} to {high:g} (got {activity!r})")


def _insert_agents(
    session: Session, new: NewAgents, identities: Sequence[Birth], now: datetime
) -> None:
    """The agents' rows, created: by COPY on Postgres (100,000 agents in a second), by
    one insert on SQLite."""
    weights = dict(new.weights) if new.weights else None
    lo, hi = new.interval if new.interval is not None else (None, None)
    rows = [
        {
            "handle": i.handle,
            "display_name": i.display_name,
            "persona": new.persona,
            "persona_index": i.index,
            "seed": i.seed,
            "status": "created",
            "weights": weights,
            "interval_min": lo,
            "interval_max": hi,
            "activity": new.activity,
            "created_at": now,
            "updated_at": now,
        }
        for i in identities
    ]
    connection = session.connection()
    # Dialect branch: COPY is Postgres's; SQLite inserts.
    if connection.dialect.name == "postgresql":
        weights_json = json.dumps(weights) if weights else None
        _copy_rows(
            connection,
            [
                tuple(
                    weights_json if column == "weights" else row[column] for column in _COPY_COLUMNS
                )
                for row in rows
            ],
        )
    else:
        session.execute(insert(Agent), rows)


def _selected(session: Session, catalogue: PersonaCatalogue, selection: Selection) -> list[Any]:
    """The selection's live agents, locked on Postgres; UnknownAgent if a named one is missing."""
    if selection.persona is not None:
        catalogue.get(selection.persona)
    columns = selection.statement().with_only_columns(
        Agent.id,
        Agent.handle,
        Agent.status,
        Agent.persona,
        Agent.seed,
        Agent.interval_min,
        Agent.interval_max,
        Agent.activity,
    )
    # FOR UPDATE on Postgres; SQLite, which locks the whole database, renders nothing.
    found = list(session.execute(columns.with_for_update()))
    missing = selection.missing(found)
    if missing:
        raise UnknownAgent(", ".join(missing))
    return found


def _apply(
    session: Session,
    ids: list[int],
    values: dict[str, Any],
    ticks: Sequence[datetime | None] | None,
) -> None:
    """Write ``values`` (and each agent's own next tick) to the agents ``ids``, in bulk."""
    columns = {"next_tick_at": ticks} if ticks is not None else {}
    update_rows(session, _AGENTS, ids, columns, values)


def change_status(
    sessions: sessionmaker[Session],
    catalogue: PersonaCatalogue,
    command: str,
    selection: Selection,
    *,
    now: datetime,
) -> Transition:
    """Start, pause, resume or stop the selected agents; others are left as they are.

    An agent that becomes active gets its next tick from its persona's clock, counted
    from ``now``; one that leaves the active state has no next tick.
    """
    sources, target = TRANSITIONS[command]
    errors: tuple[str, ...] = ()
    with sessions.begin() as session:
        agents = _selected(session, catalogue, selection)
        moving = [agent for agent in agents if agent.status in sources]
        ids = [agent.id for agent in moving]
        if target == "active":
            ticks: list[datetime] = []
            bad: list[tuple[int, str]] = []
            for agent in moving:
                try:
                    ticks.append(_first_tick(catalogue, agent, now))
                except AGENT_FAULTS as error:
                    bad.append((agent.id, f"cannot be started: {error}"))
            if bad:
                # Set aside with the reason; the others start.
                set_aside(session.connection(), bad, now=now)
                failed = {agent_id for agent_id, _ in bad}
                moving = [agent for agent in moving if agent.id not in failed]
                ids = [agent.id for agent in moving]
                errors = tuple(f"agent {agent_id} {reason}" for agent_id, reason in bad)
            # No session position: each agent's first tick opens a session.
            values: dict[str, Any] = {
                "status": target,
                "session_opened_at": None,
                "session_index": 0,
                "error": None,
            }
            _apply(session, ids, {**values, "updated_at": now}, ticks)
        else:
            values = {
                "status": target,
                "next_tick_at": None,
                "updated_at": now,
            }
            _apply(session, ids, values, None)
    return Transition(command, len(moving), len(agents) - len(moving) - len(errors), errors)


def _first_tick(catalogue: PersonaCatalogue, agent: Row[Any], now: datetime) -> datetime:
    """The agent's first tick after ``now``: a session opening (or its next steady tick)."""
    start = rhythm_of(catalogue.cadences[agent.persona], agent).start(now.timestamp())
    return datetime.fromtimestamp(start.due, UTC)


def delete_agents(
    sessions: sessionmaker[Session],
    catalogue: PersonaCatalogue,
    selection: Selection,
    *,
    now: datetime,
) -> Transition:
    """Soft-delete the selected agents: they stop, keep their history and their handle."""
    with sessions.begin() as session:
        agents = _selected(session, catalogue, selection)
        if agents:
            session.execute(
                update(Agent),
                [
                    {
                        "id": agent.id,
                        "status": "stopped",
                        "next_tick_at": None,
                        "deleted_at": now,
                        "updated_at": now,
                    }
                    for agent in agents
                ],
            )
    return Transition("delete", len(agents), 0)


def set_platform_user(sessions: sessionmaker[Session], agent_id: int, user_id: str) -> None:
    """Keep the gallery user id of the agent's account (provisioned on first use)."""
    with sessions.begin() as session:
        session.execute(update(Agent).where(Agent.id == agent_id).values(platform_user_id=user_id))


def defer_agent(sessions: sessionmaker[Session], agent_id: int, until: datetime) -> None:
    """Move an active agent's next tick to ``until`` (its own budget ran out), and keep
    ``until`` as its deferral for ``fleet status`` to flag a long one."""
    with sessions.begin() as session:
        session.execute(
            update(Agent)
            .where(Agent.id == agent_id, Agent.status == "active")
            .values(
                next_tick_at=func.coalesce(until, Agent.next_tick_at),
                deferred_until=func.coalesce(until, Agent.deferred_until),
            )
        )


def mark_people_waiting(
    sessions: sessionmaker[Session], handles: Sequence[str], *, now: datetime
) -> int:
    """Keep which agents a person's comment waits on (``handles``, from one scan of the
    gallery's newest posts): those keep the time it was first seen, every other agent
    has none waiting. How many agents people wait on."""
    wanted = sorted(set(handles))
    with sessions.begin() as session:
        waiting = Agent.handle.in_(wanted)
        session.execute(
            update(Agent)
            .where(~waiting, Agent.people_waiting_since.is_not(None))
            .values(people_waiting_since=None)
        )
        if not wanted:
            return 0
        marked = session.execute(
            update(Agent)
            .where(waiting, Agent.deleted_at.is_(None))
            .values(people_waiting_since=func.coalesce(Agent.people_waiting_since, now))
        )
        return int(cast(CursorResult[Any], marked).rowcount)


def utcnow() -> datetime:
    """The current time, aware and in UTC."""
    return datetime.now(UTC)


# The agents' memories: commands that remember and forget, queries that recall.
#
# A memory is written once per succeeded activity (``activity_id`` is unique: a retry or a
# second delivery writes nothing) and each agent keeps at most ``keep`` of them: past it,
# the least relevant (``fleet.core.memory.to_forget``) are forgotten in the same
# transaction. Vectors are stored with the model that made them; a recall with another
# model ignores them (ranked by recency, as with none).

MEMORIES = cast(Table, MemoryRow.__table__)


@dataclass(frozen=True, slots=True)
class Remembered:
    """A memory to write: whose, from which activity, and what."""

    agent_id: int
    activity_id: int
    memory: Memory
    post_id: str | None = None
    model: str | None = None


# SQLite's count of the agents a batch's memories touched (Postgres counts them in its
# insert, ``_REMEMBER_AND_COUNT``). Built once: a single action remembers alone, and
# building the statement cost it more than running it.
_COUNTS = (
    select(MEMORIES.c.agent_id, func.count())
    .where(MEMORIES.c.agent_id.in_(bindparam("agents", expanding=True)))
    .group_by(MEMORIES.c.agent_id)
)


# Postgres's insert of a batch's memories: one array a column. As SQLAlchemy's one INSERT
# of ten parameters a row (13,000 characters for 50 likes) it was too long for psycopg's
# cache of parsed statements: parsed again every batch, 5 ms of the worker's CPU.
_REMEMBERED = (
    "agent_id",
    "activity_id",
    "kind",
    "text",
    "other",
    "about",
    "post_id",
    "vector",
    "model",
    "created_at",
)
# The insert and, in the same statement, each touched agent's memories now and those
# added: those it kept before (the statement's snapshot does not see its own insert)
# counted with the new ones.
_REMEMBER_AND_COUNT = text(
    """
    WITH added AS (
        INSERT INTO memories
            (agent_id, activity_id, kind, text, other, about, post_id, vector, model,
            created_at)
        SELECT * FROM unnest(
            CAST(:agent_id AS bigint[]), CAST(:activity_id AS bigint[]),
            CAST(:kind AS text[]), CAST(:text AS text[]), CAST(:other AS text[]),
            CAST(:about AS text[]), CAST(:post_id AS text[]), CAST(:vector AS bytea[]),
            CAST(:model AS text[]), CAST(:created_at AS timestamptz[])
        )
        ON CONFLICT (activity_id) DO NOTHING
        RETURNING agent_id
    ),
    touched AS (
        SELECT agent_id,
            (SELECT count(*) FROM added WHERE added.agent_id = agents.agent_id) AS added
        FROM (SELECT DISTINCT unnest(CAST(:agent_id AS bigint[])) AS agent_id) AS agents
    )
    SELECT agent_id,
        (SELECT count(*) FROM memories WHERE memories.agent_id = touched.agent_id) + added,
        added
    FROM touched
    """
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
    rows: list[tuple[Any, ...]] = []  # by _REMEMBERED's columns
    for entry in entries:
        memory = entry.memory
        vector = memory.vector
        rows.append(
            (
                entry.agent_id,
                entry.activity_id,
                memory.kind.value,
                memory.text,
                memory.other,
                memory.about,
                entry.post_id,
                None if vector is None else to_bytes(vector),
                None if vector is None else entry.model,
                memory.at,
            )
        )
    # One statement for a whole batch on Postgres (the engage path's likes), on a
    # connection in autocommit: the rows go as one array a column, and the agents they
    # touched are counted in the same statement (``_REMEMBER_AND_COUNT``); no session nor
    # transaction around it (11 of a batched like's 806 Python calls, ``bench.like_cpu``).
    # On SQLite two, in a transaction: the rows as parameter sets (SQLAlchemy's
    # "insertmanyvalues": one compiled statement whatever their number), then the count.
    # Forgetting only for an agent over its bound, after (each its own statements).
    kept: Sequence[Any]  # each touched agent: (its id, its memories now, those added)
    postgres = sessions.kw["bind"].dialect.name == "postgresql"
    on: Connection | Session
    with autocommit(sessions).connect() if postgres else sessions.begin() as on:
        if postgres:
            columns = dict(zip(_REMEMBERED, map(list, zip(*rows, strict=True)), strict=True))
            kept = on.execute(_REMEMBER_AND_COUNT, columns).all()
        else:
            new = on.execute(
                insert_ignoring(on, MEMORIES, "activity_id").returning(MEMORIES.c.agent_id),
                [dict(zip(_REMEMBERED, row, strict=True)) for row in rows],
            ).scalars()
            added_by = Counter(new)
            touched = sorted({row[0] for row in rows})  # the agents the rows are of
            counts = on.execute(_COUNTS, {"agents": touched})
            kept = [(agent_id, count, added_by[agent_id]) for agent_id, count in counts]
        new_memories = 0
        for agent_id, count, added in kept:
            new_memories += added
            if count > keep:
                _forget_beyond(on, agent_id, keep=keep, now=now, half_life_days=half_life_days)
    return new_memories


def _forget_beyond(
    on: Session | Connection, agent_id: int, *, keep: int, now: datetime, half_life_days: float
) -> None:
    rows = on.execute(
        select(MemoryRow.id, MemoryRow.kind, MemoryRow.created_at).where(
            MemoryRow.agent_id == agent_id
        )
    ).all()
    kept = [(row.id, Memory(MemoryKind(row.kind), "", row.created_at)) for row in rows]
    doomed = to_forget(kept, keep=keep, now=now, half_life_days=half_life_days)
    if doomed:
        on.execute(delete(MemoryRow).where(MemoryRow.id.in_(doomed)))


def _memory(row: Any, *, model: str | None, dimensions: int) -> Memory:
    """A memory from a row of ``memories`` (its kind, text, created_at, other, about,
    vector and model)."""
    vector: Vector | None = None
    if row.vector is not None and model is not None and row.model == model and dimensions:
        try:
            vector = from_bytes(row.vector, dimensions=dimensions)
        except ValueError:
            vector = None  # stored by another size of the same name: rank it by recency
    return Memory(MemoryKind(row.kind), row.text, row.created_at, row.other, row.about, vector)


# ``memories_of``' one statement, built once: the columns a memory is made of, not the
# mapped rows (a comment's or a reply's recall reads an agent's memories each time).
_MEMORIES_OF = (
    select(
        MEMORIES.c.kind,
        MEMORIES.c.text,
        MEMORIES.c.created_at,
        MEMORIES.c.other,
        MEMORIES.c.about,
        MEMORIES.c.vector,
        MEMORIES.c.model,
    )
    .where(MEMORIES.c.agent_id == bindparam("agent"))
    .order_by(MEMORIES.c.created_at.desc(), MEMORIES.c.id.desc())
    .limit(bindparam("limit"))
)


def memories_of(
    sessions: sessionmaker[Session],
    agent_id: int,
    *,
    model: str | None,
    dimensions: int,
    limit: int,
) -> list[Memory]:
    """The agent's newest ``limit`` memories, newest first, with vectors of ``model``."""
    with autocommit(sessions).connect() as connection:
        rows = connection.execute(_MEMORIES_OF, {"agent": agent_id, "limit": limit}).all()
    return [_memory(row, model=model, dimensions=dimensions) for row in rows]


@dataclass(frozen=True, slots=True)
class Published:
    """One text the fleet published (a post, a thing said), with its vector."""

    id: int
    at: datetime
    text: str
    vector: Vector


def published_since(
    sessions: sessionmaker[Session],
    *,
    persona: str | None,
    since: datetime,
    model: str,
    dimensions: int,
    limit: int,
    after_id: int = 0,
    kinds: Sequence[MemoryKind] = PUBLISHED,
    replies: bool = False,
    known: Callable[[int], bool] = lambda _id: False,
) -> list[Published]:
    """What the agents of ``persona`` (None: the whole fleet) published since ``since``
    (``kinds``: posts, things said; ``replies``: only replies, which open with an
    @handle) in memories after ``after_id``: the newest ``limit``, in id order, the
    vectors of those ``known`` says are held not fetched again."""
    wanted = [
        MemoryRow.kind.in_([kind.value for kind in kinds]),
        MemoryRow.created_at >= since,
        MemoryRow.model == model,
        MemoryRow.vector.is_not(None),
        MemoryRow.id > after_id,
    ]
    if replies:
        wanted.append(MemoryRow.text.startswith("@", autoescape=True))
    with sessions() as session:
        query = select(MemoryRow.id)
        if persona is not None:
            query = query.join(Agent, Agent.id == MemoryRow.agent_id).where(
                Agent.persona == persona
            )
        ids = session.scalars(query.where(*wanted).order_by(MemoryRow.id.desc()).limit(limit))
        new = [id_ for id_ in ids if not known(id_)]
        rows: list[Row[int, datetime, str, bytes | None]] = []
        for chunk in range(0, len(new), 1000):
            rows += session.execute(
                select(MemoryRow.id, MemoryRow.created_at, MemoryRow.text, MemoryRow.vector).where(
                    MemoryRow.id.in_(new[chunk : chunk + 1000])
                )
            ).all()
    found: list[Published] = []
    for id_, at, said, data in sorted(rows, key=lambda row: row[0]):
        if data is None:
            continue
        try:
            found.append(Published(id_, at, said, from_bytes(data, dimensions=dimensions)))
        except ValueError:
            continue
    return found


def memory_count(sessions: sessionmaker[Session], agent_id: int) -> int:
    """How many memories the agent keeps."""
    with sessions() as session:
        return session.scalar(select(func.count()).where(MemoryRow.agent_id == agent_id)) or 0
