"""What a tick does: the session's action (or a steady draw), the budget and the daily
quotas applied with the agent locked, recorded once per (agent, due time)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from pydantic import ValidationError
from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session, sessionmaker

from fleet.activities.decided import decided_before, record_decided
from fleet.agents.heartbeat import rhythm_of
from fleet.core.action_key import ActionKey
from fleet.core.decisions import effective_weights
from fleet.core.persona import Action
from fleet.core.ticks import idempotency_key
from fleet.core.timeline import DayQuotaBook
from fleet.db.models import Agent
from fleet.errors import UnknownPersona
from fleet.infra.persona_files import PersonaCatalogue

_AGENTS = cast(Table, Agent.__table__)


@dataclass(frozen=True, slots=True)
class Decision:
    """What one tick decided: the action and the activity that will carry it out.

    ``new`` is true when this call recorded it and it waits for its task (pending); a
    tick past every daily quota records a ``skipped`` activity that no task carries out.
    """

    agent_id: int
    due_at: int
    action: str
    idempotency_key: str
    activity_id: int | None
    new: bool


def manual_key(agent_id: int, at: int, action: str) -> str:
    """The key of an action an admin asked for (``fleet agents act``): a key space of its
    own, ``{agent_id}:manual-{UTC seconds}-{token}:{action}``, so two acts in one second
    do not collide and a tick due in that second is not taken for one."""
    return str(ActionKey.manual(agent_id, at, secrets.token_hex(4), action))


def _as_tick(tick: Sequence[int]) -> tuple[int, int, int | None, int]:
    if len(tick) >= 4:
        return int(tick[0]), int(tick[1]), int(tick[2]), int(tick[3])
    return int(tick[0]), int(tick[1]), None, 0


def decide_ticks(
    sessions: sessionmaker[Session],
    catalogue: PersonaCatalogue,
    ticks: Sequence[Sequence[int]],
    *,
    now: datetime,
    lease: timedelta,
    adjust: Callable[[int, str], tuple[str, str | None]] | None = None,
) -> list[Decision]:
    """Decide each tick's action and record it once, with the agents' runtime state.

    The action is the session's (``fleet.core.sessions``) or a steady tick's weighted
    draw; ``adjust`` may replace it (an agent over its LLM budget likes or browses instead
    of posting); then the agent's daily quotas may turn it to the next kind still allowed
    today, or, every kind spent, record it ``skipped``. The activity keeps what was chosen
    first and why it changed. The agents are locked while they are decided, so two ticks
    of one agent decided at once count against its quotas one after the other; a tick
    decided before (a redelivered message) records nothing and returns the same decision.
    A tick for an agent that is no longer active decides nothing.
    """
    parsed = [_as_tick(tick) for tick in ticks]
    wanted = {agent_id for agent_id, _, _, _ in parsed}
    decisions: list[Decision] = []
    with sessions.begin() as session:
        query = (
            select(
                Agent.id,
                Agent.persona,
                Agent.seed,
                Agent.status,
                Agent.deleted_at,
                Agent.weights,
                Agent.interval_min,
                Agent.interval_max,
                Agent.activity,
                Agent.day_counts,
            )
            .where(Agent.id.in_(wanted))
            .order_by(Agent.id)
        )
        # FOR UPDATE in id order (two batches never deadlock); SQLite renders nothing.
        agents = {row.id: row for row in session.execute(query.with_for_update())}
        before = decided_before(session, [(agent_id, due) for agent_id, due, _, _ in parsed])
        books: dict[int, DayQuotaBook] = {}
        decided: list[tuple[int, int, str, str]] = []
        rows: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for agent_id, due_at, opened, index in parsed:
            agent = agents.get(agent_id)
            if agent is None or agent.status != "active" or agent.deleted_at is not None:
                continue
            earlier = before.get((agent_id, due_at))
            if earlier is not None:
                decided.append((agent_id, due_at, earlier[0], earlier[1]))
                continue
            try:
                persona = catalogue.get(agent.persona)
                weights = effective_weights(persona, agent.weights) if agent.weights else None
                rhythm = rhythm_of(catalogue, agent, weights)
            except (UnknownPersona, ValidationError):
                continue  # the dispatcher sets it aside at its next claim
            chosen = rhythm.action(due_at, opened, index).value
            action, notes = chosen, cast(dict[str, Any], {})
            if adjust is not None:
                adjusted, reason = adjust(agent_id, action)
                if adjusted != action:
                    notes = {"degraded_from": action, "degraded": reason or ""}
                    action = adjusted
            book = books.get(agent_id)
            if book is None:
                zone = catalogue.zone(agent.persona)
                book = books[agent_id] = DayQuotaBook(persona.quotas, zone, agent.day_counts or {})
            allowed, reason = book.decide(due_at, Action(action))
            status = "pending"
            if reason is not None:
                notes = {**notes, "degraded_from": notes.get("degraded_from", action)}
                notes["quota"] = reason
            if allowed is None:
                status = "skipped"
            else:
                action = allowed.value
            if action == Action.BROWSE.value and not rhythm.thinks(opened, index):
                # Only a session's opening look, when the session says something, asks
                # the writer for a thought: the other looks make no LLM call.
                notes = {**notes, "thinks": False}
            key = idempotency_key(agent_id, due_at, action)
            rows.append(
                {
                    "agent_id": agent_id,
                    "action": action,
                    "idempotency_key": key,
                    "status": status,
                    "due_at": datetime.fromtimestamp(due_at, UTC),
                    "lease_expires_at": now + lease if status == "pending" else None,
                    "content": notes or None,
                    "error": reason if status == "skipped" else None,
                    "finished_at": now if status == "skipped" else None,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            updates.append(
                {
                    "agent_id": agent_id,
                    "due": datetime.fromtimestamp(due_at, UTC),
                    "action": action,
                    "counts": book.stored,
                }
            )
            decided.append((agent_id, due_at, action, key))
        new_keys, ids = record_decided(session, rows, [d[3] for d in decided])
        pending = {row["idempotency_key"] for row in rows if row["status"] == "pending"}
        fresh = [
            u for u, row in zip(updates, rows, strict=True) if row["idempotency_key"] in new_keys
        ]
        if fresh:
            table = _AGENTS
            session.execute(
                update(table)
                .where(table.c.id == bindparam("agent_id"))
                .values(
                    ticks_count=table.c.ticks_count + 1,
                    last_tick_at=bindparam("due"),
                    day_counts=bindparam("counts"),
                    updated_at=now,
                ),
                fresh,
            )
        decisions = [
            Decision(agent_id, due_at, action, key, ids.get(key), key in new_keys & pending)
            for agent_id, due_at, action, key in decided
        ]
    return decisions
