"""Queries of the agents context: they read and never write."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from fleet.activities.views import tallies
from fleet.agents.selection import Selection, parse_ref
from fleet.agents.views import AgentView
from fleet.core.statuses import AGENT_STATUSES
from fleet.db.models import Agent
from fleet.errors import InputError, UnknownAgent, UnknownPersona
from fleet.infra.persona_files import PersonaCatalogue

MAX_PAGE = 10_000


@dataclass(frozen=True)
class AgentFilter:
    """Which agents a listing shows, and which page of them."""

    persona: str | None = None
    status: str | None = None
    include_deleted: bool = False
    limit: int = 50
    offset: int = 0

    def __post_init__(self) -> None:
        if self.status is not None and self.status not in (*AGENT_STATUSES, "deleted"):
            raise InputError(
                f"unknown status {self.status!r}; one of {', '.join((*AGENT_STATUSES, 'deleted'))}"
            )
        if not 1 <= self.limit <= MAX_PAGE:
            raise InputError(f"limit must be between 1 and {MAX_PAGE} (got {self.limit})")
        if self.offset < 0:
            raise InputError(f"offset must not be negative (got {self.offset})")


def list_agents(sessions: sessionmaker[Session], where: AgentFilter) -> list[AgentView]:
    """A page of agents in id order."""
    statement = select(Agent).order_by(Agent.id).limit(where.limit).offset(where.offset)
    if where.persona is not None:
        statement = statement.where(Agent.persona == where.persona)
    if where.status == "deleted":
        statement = statement.where(Agent.deleted_at.is_not(None))
    else:
        if where.status is not None:
            statement = statement.where(Agent.status == where.status)
        if not where.include_deleted:
            statement = statement.where(Agent.deleted_at.is_(None))
    with sessions() as session:
        rows = list(session.scalars(statement))
        done = tallies(session, [row.id for row in rows])
        return [AgentView.of(row, done[row.id]) for row in rows]


def get_agent(sessions: sessionmaker[Session], ref: str) -> AgentView:
    """One agent by id or handle, deleted ones included, or UnknownAgent."""
    parsed = parse_ref(ref)
    column = Agent.id if isinstance(parsed, int) else Agent.handle
    with sessions() as session:
        row = session.scalar(select(Agent).where(column == parsed))
        if row is None:
            raise UnknownAgent(ref)
        return AgentView.of(row, tallies(session, [row.id])[row.id])


def agent_counts(sessions: sessionmaker[Session]) -> dict[str, dict[str, int]]:
    """Live agents counted by persona, then by status."""
    statement = (
        select(Agent.persona, Agent.status, func.count())
        .where(Agent.deleted_at.is_(None))
        .group_by(Agent.persona, Agent.status)
        .order_by(Agent.persona, Agent.status)
    )
    out: dict[str, dict[str, int]] = {}
    with sessions() as session:
        for persona, status, count in session.execute(statement):
            out.setdefault(persona, {})[status] = count
    return out


def active_since(sessions: sessionmaker[Session], before: datetime) -> dict[str, list[datetime]]:
    """Per persona, when each agent active now was created, for those created before
    ``before``."""
    statement = select(Agent.persona, Agent.created_at).where(
        Agent.deleted_at.is_(None), Agent.status == "active", Agent.created_at < before
    )
    out: dict[str, list[datetime]] = {}
    with sessions() as session:
        for persona, created in session.execute(statement):
            out.setdefault(persona, []).append(created)
    return out


def activity_of(catalogue: PersonaCatalogue, agent: AgentView) -> dict[str, Any]:
    """An agent's activity level and where it comes from (its seed, or set by hand)."""
    source = "set" if agent.activity is not None else "seed"
    try:
        rhythm = catalogue.cadences[agent.persona].rhythm(
            agent.seed, interval=agent.interval, activity=agent.activity
        )
    except UnknownPersona:
        return {"activity_level": agent.activity, "activity_from": source, "rhythm": None}
    return {
        "activity_level": round(rhythm.level, 3),
        "activity_from": source,
        "rhythm": "sessions" if rhythm.in_sessions else "steady",
    }


def persona_totals(sessions: sessionmaker[Session]) -> dict[str, tuple[int, int]]:
    """Per persona: (agents, ticks decided), deleted agents included."""
    statement = select(Agent.persona, func.count(), func.sum(Agent.ticks_count)).group_by(
        Agent.persona
    )
    with sessions() as session:
        return {p: (int(n), int(t or 0)) for p, n, t in session.execute(statement)}


def handles_with_accounts(sessions: sessionmaker[Session]) -> list[str]:
    """Handles of agents with a gallery account, deleted ones included."""
    statement = select(Agent.handle).where(Agent.platform_user_id.is_not(None))
    with sessions() as session:
        return list(session.scalars(statement))


def live_handles_with_accounts(sessions: sessionmaker[Session], *, limit: int) -> list[str]:
    """Handles of live (not deleted) agents with a gallery account, the most recently
    ticking first, up to ``limit``."""
    statement = (
        select(Agent.handle)
        .where(Agent.platform_user_id.is_not(None), Agent.deleted_at.is_(None))
        .order_by(Agent.last_tick_at.desc().nulls_last(), Agent.id)
        .limit(limit)
    )
    with sessions() as session:
        return list(session.scalars(statement))


def fleet_handles(sessions: sessionmaker[Session], handles: Iterable[str]) -> set[str]:
    """Those of ``handles`` that are the fleet's agents' (deleted ones included)."""
    wanted = sorted(set(handles))
    if not wanted:
        return set()
    with sessions() as session:
        return set(session.scalars(select(Agent.handle).where(Agent.handle.in_(wanted))))


def ids_of(sessions: sessionmaker[Session], handles: Iterable[str]) -> dict[str, int]:
    """The ids of the fleet's live agents among ``handles``, by handle."""
    wanted = sorted(set(handles))
    if not wanted:
        return {}
    with sessions() as session:
        rows = session.execute(
            select(Agent.handle, Agent.id).where(
                Agent.handle.in_(wanted), Agent.deleted_at.is_(None)
            )
        )
        return {str(handle): int(agent_id) for handle, agent_id in rows}


def due_now(sessions: sessionmaker[Session], now: datetime) -> tuple[int, datetime | None]:
    """Active agents whose tick is due by ``now``, and the oldest due tick (the lag)."""
    due = (Agent.status == "active", Agent.deleted_at.is_(None), Agent.next_tick_at <= now)
    with sessions() as session:
        count = session.scalar(select(func.count()).select_from(Agent).where(*due)) or 0
        oldest = session.scalar(select(func.min(Agent.next_tick_at)).where(*due))
    return int(count), oldest


@dataclass(frozen=True)
class Deferrals:
    """Active agents a gallery's 429 deferred past a moment: how many, and the longest."""

    count: int
    longest_until: datetime | None = None
    longest_handle: str | None = None


def deferred_past(sessions: sessionmaker[Session], after: datetime) -> Deferrals:
    """Live active agents whose deferral (``defer_agent``) still holds their next tick and
    runs past ``after``: one read of the deferred agents' index, whatever the fleet's size."""
    held = (
        Agent.deferred_until > after,
        Agent.next_tick_at >= Agent.deferred_until,
        Agent.status == "active",
        Agent.deleted_at.is_(None),
    )
    with sessions() as session:
        count = session.scalar(select(func.count()).select_from(Agent).where(*held)) or 0
        longest = session.execute(
            select(Agent.deferred_until, Agent.handle)
            .where(*held)
            .order_by(Agent.deferred_until.desc(), Agent.id)
            .limit(1)
        ).first()
    if longest is None:
        return Deferrals(int(count))
    return Deferrals(int(count), longest.deferred_until, longest.handle)


def without_account(
    sessions: sessionmaker[Session], ids: list[int]
) -> list[tuple[int, str, str, str]]:
    """(id, handle, display name, persona) of these agents that have no gallery account."""
    statement = select(Agent.id, Agent.handle, Agent.display_name, Agent.persona).where(
        Agent.id.in_(ids), Agent.platform_user_id.is_(None)
    )
    with sessions() as session:
        return [(r.id, r.handle, r.display_name, r.persona) for r in session.execute(statement)]


def active_without_account(sessions: sessionmaker[Session], selection: Selection) -> list[int]:
    """Active agents of the selection that have no gallery account yet."""
    statement = (
        selection.statement()
        .with_only_columns(Agent.id)
        .where(Agent.status == "active", Agent.platform_user_id.is_(None))
    )
    with sessions() as session:
        return list(session.scalars(statement))


def agents_after(
    sessions: sessionmaker[Session],
    *,
    after: int = 0,
    limit: int = 50,
    persona: str | None = None,
    status: str | None = None,
    search: str | None = None,
) -> list[AgentView]:
    """A page of live agents by keyset (ids above ``after``, in id order): as fast on
    page 2,000 as on page 1; ``search`` matches part of the handle."""
    statement = (
        select(Agent)
        .where(Agent.deleted_at.is_(None), Agent.id > after)
        .order_by(Agent.id)
        .limit(max(1, min(limit, MAX_PAGE)))
    )
    if persona:
        statement = statement.where(Agent.persona == persona)
    if status:
        statement = statement.where(Agent.status == status)
    if search:
        pattern = search.strip().lower().replace("\\", "").replace("%", "").replace("_", "\\_")
        statement = statement.where(Agent.handle.like(f"%{pattern}%", escape="\\"))
    with sessions() as session:
        rows = list(session.scalars(statement))
        done = tallies(session, [row.id for row in rows])
        return [AgentView.of(row, done[row.id]) for row in rows]


def active_next_ticks(sessions: sessionmaker[Session]) -> list[tuple[str, str, datetime]]:
    """Every live active agent's persona, handle and next tick, soonest first."""
    statement = (
        select(Agent.persona, Agent.handle, Agent.next_tick_at)
        .where(
            Agent.status == "active",
            Agent.deleted_at.is_(None),
            Agent.next_tick_at.is_not(None),
        )
        .order_by(Agent.next_tick_at)
    )
    with sessions() as session:
        return [(p, h, t) for p, h, t in session.execute(statement) if t is not None]
