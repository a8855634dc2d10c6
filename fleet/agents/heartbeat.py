"""The heartbeat of the agents context: dispatching due ticks and deciding what a tick does.

Dispatch claims due active agents in batches (``FOR UPDATE SKIP LOCKED`` on Postgres, so
two dispatchers never claim the same agent), advances each ``next_tick_at`` with the
agent's clock, commits, and only then hands the batch to the publisher. The tick's
due time is the agent's old ``next_tick_at`` in whole UTC seconds: it names the tick in
the idempotency key, and a redelivered tick finds its decision already recorded.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from fleet.activities.holds import active_hold
from fleet.activities.views import Hold
from fleet.core.clock import tick_rng
from fleet.core.decisions import choose_action, effective_weights
from fleet.core.ticks import next_tick_epoch
from fleet.db.models import Agent, AgentActivity
from fleet.personas import PersonaCatalogue

# A tick is named by its whole UTC second: two ticks of one agent never share one.
MIN_TICK_GAP_SECONDS = 1.0

_AGENTS = cast(Table, Agent.__table__)

Tick = tuple[int, int]
"""(agent id, due time as whole UTC epoch seconds): what a tick message carries."""


@dataclass
class DispatchReport:
    """What one dispatch cycle did."""

    ticks: int = 0
    batches: int = 0
    lags: list[float] = field(default_factory=list)
    held: Hold | None = None

    @property
    def max_lag(self) -> float:
        return max(self.lags, default=0.0)


def _claim(connection: Connection, now: float, limit: int) -> Sequence[Any]:
    statement = (
        select(
            Agent.id,
            Agent.persona,
            Agent.seed,
            Agent.next_tick_at,
            Agent.interval_min,
            Agent.interval_max,
        )
        .where(
            Agent.status == "active",
            Agent.deleted_at.is_(None),
            Agent.next_tick_at <= datetime.fromtimestamp(now, UTC),
        )
        .order_by(Agent.next_tick_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return connection.execute(statement).all()


def _advance(connection: Connection, ids: list[int], ticks: list[float]) -> None:
    if connection.dialect.name == "postgresql":
        # Epoch doubles, turned into timestamps by the server: cheaper to send than datetimes.
        connection.execute(
            text(
                "UPDATE agents SET next_tick_at = to_timestamp(v.tick) FROM unnest("
                "CAST(:ids AS bigint[]), CAST(:ticks AS double precision[])) AS v(id, tick) "
                "WHERE agents.id = v.id"
            ),
            {"ids": ids, "ticks": ticks},
        )
        return
    connection.execute(
        update(_AGENTS)
        .where(_AGENTS.c.id == bindparam("agent_id"))
        .values(next_tick_at=bindparam("tick")),
        [
            {"agent_id": agent_id, "tick": datetime.fromtimestamp(tick, UTC)}
            for agent_id, tick in zip(ids, ticks, strict=True)
        ],
    )


def next_tick_for(catalogue: PersonaCatalogue, row: Any, due: float, now: float) -> float:
    """The tick after ``due``; an agent far behind (the fleet was down) restarts from now."""
    persona = catalogue.get(row.persona)
    low = row.interval_min if row.interval_min is not None else persona.interval.min_seconds
    high = row.interval_max if row.interval_max is not None else persona.interval.max_seconds
    clock = catalogue.clock(row.persona)
    following = next_tick_epoch(clock, row.seed, low, high, due)
    if following <= now:
        # One tick for the whole gap, then the normal rhythm: never a burst of catch-up ticks.
        following = next_tick_epoch(clock, row.seed, low, high, now)
    return max(following, math.floor(due) + MIN_TICK_GAP_SECONDS)


def dispatch_due(
    sessions: sessionmaker[Session],
    catalogue: PersonaCatalogue,
    publish: Callable[[list[Tick]], None],
    *,
    now: float,
    batch_size: int,
    max_batches: int,
) -> DispatchReport:
    """Claim due agents batch by batch, advance their clocks, commit, then publish.

    While a fleet-wide hold is in force (the fleet's budget, the platform's pause),
    nothing is claimed: the agents' ticks wait in Postgres, not in the broker.
    """
    report = DispatchReport()
    with sessions() as session:
        report.held = active_hold(session, datetime.fromtimestamp(now, UTC))
    if report.held is not None:
        return report
    for _ in range(max_batches):
        with sessions.begin() as session:
            connection = session.connection()
            rows = _claim(connection, now, batch_size)
            if not rows:
                break
            ids: list[int] = []
            nexts: list[float] = []
            ticks: list[Tick] = []
            for row in rows:
                due = row.next_tick_at.timestamp()
                ids.append(row.id)
                nexts.append(next_tick_for(catalogue, row, due, now))
                ticks.append((row.id, math.floor(due)))
                report.lags.append(now - due)
            _advance(connection, ids, nexts)
        # Published only after commit: a crash between the two loses a tick, never
        # duplicates one, and the agent's next tick is already on its way.
        publish(ticks)
        report.ticks += len(ticks)
        report.batches += 1
        if len(rows) < batch_size:
            break
    return report


@dataclass(frozen=True, slots=True)
class Decision:
    """What one tick decided: the action and the activity that will carry it out."""

    agent_id: int
    due_at: int
    action: str
    idempotency_key: str
    activity_id: int | None
    new: bool


def idempotency_key(agent_id: int, due_at: int, action: str) -> str:
    """``{agent_id}:{due_at as UTC seconds}:{action}``, the key of one action's effect."""
    return f"{agent_id}:{due_at}:{action}"


def _insert_ignoring_duplicates(session: Session, rows: list[dict[str, Any]]) -> set[str]:
    """Insert activity rows; return the keys that were new (a redelivered tick adds none)."""
    if not rows:
        return set()
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(AgentActivity)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(AgentActivity.idempotency_key)
    )
    return set(session.scalars(statement))


def decide_ticks(
    sessions: sessionmaker[Session],
    catalogue: PersonaCatalogue,
    ticks: Sequence[Tick],
    *,
    now: datetime,
    lease: timedelta,
    adjust: Callable[[int, str], tuple[str, str | None]] | None = None,
) -> list[Decision]:
    """Decide each tick's action and record it once, with the agents' runtime state.

    A tick for an agent that is no longer active decides nothing. Deciding the same tick
    twice (a redelivered message) records nothing new and returns the same decision.
    ``adjust`` may replace a chosen action (an agent over its LLM budget likes or browses
    instead of posting); the activity keeps what was chosen first and why it changed.
    """
    wanted = {agent_id for agent_id, _ in ticks}
    with sessions.begin() as session:
        agents = {
            row.id: row
            for row in session.execute(
                select(
                    Agent.id,
                    Agent.persona,
                    Agent.seed,
                    Agent.status,
                    Agent.deleted_at,
                    Agent.weights,
                ).where(Agent.id.in_(wanted))
            )
        }
        decided: list[tuple[int, int, str, str]] = []
        notes: dict[str, dict[str, str]] = {}
        for agent_id, due_at in ticks:
            agent = agents.get(agent_id)
            if agent is None or agent.status != "active" or agent.deleted_at is not None:
                continue
            weights = effective_weights(catalogue.get(agent.persona), agent.weights)
            action = choose_action(
                weights, tick_rng(agent.seed, datetime.fromtimestamp(due_at, UTC))
            ).value
            note: dict[str, str] | None = None
            if adjust is not None:
                adjusted, reason = adjust(agent_id, action)
                if adjusted != action:
                    note = {"degraded_from": action, "degraded": reason or ""}
                    action = adjusted
            key = idempotency_key(agent_id, due_at, action)
            if note is not None:
                notes[key] = note
            decided.append((agent_id, due_at, action, key))
        rows = [
            {
                "agent_id": agent_id,
                "action": action,
                "idempotency_key": key,
                "status": "pending",
                "due_at": datetime.fromtimestamp(due_at, UTC),
                "lease_expires_at": now + lease,
                "content": notes.get(key),
                "created_at": now,
                "updated_at": now,
            }
            for agent_id, due_at, action, key in decided
        ]
        new_keys = _insert_ignoring_duplicates(session, rows)
        fresh = [d for d in decided if d[3] in new_keys]
        if fresh:
            table = _AGENTS
            session.execute(
                update(table)
                .where(table.c.id == bindparam("agent_id"))
                .values(
                    ticks_count=table.c.ticks_count + 1,
                    last_tick_at=bindparam("due"),
                    current_action=bindparam("action"),
                    updated_at=now,
                ),
                [
                    {"agent_id": a, "due": datetime.fromtimestamp(d, UTC), "action": act}
                    for a, d, act, _ in fresh
                ],
            )
        ids: dict[str, int] = {}
        if decided:
            keys = [d[3] for d in decided]
            found = select(AgentActivity.idempotency_key, AgentActivity.id).where(
                AgentActivity.idempotency_key.in_(keys)
            )
            ids = {key: activity_id for key, activity_id in session.execute(found)}
    return [
        Decision(agent_id, due_at, action, key, ids.get(key), key in new_keys)
        for agent_id, due_at, action, key in decided
    ]
