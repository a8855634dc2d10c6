"""Use cases on what the agents did: list activities, count them, follow the live feed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from fleet import activities, agents
from fleet.activities import ActivityFilter, ActivityView
from fleet.service.root import Fleet

__all__ = [
    "EXPORT_FIELDS",
    "ActivityFilter",
    "ActivityView",
    "LedgerQuery",
    "export",
    "find",
    "follow",
    "ledger_page",
    "stats",
]

# The columns of ``fleet activity export``: every action with its origin and operator.
EXPORT_FIELDS = (
    "id",
    "origin",
    "operator",
    "operator_url",
    "agent",
    "persona",
    "action",
    "status",
    "idempotency_key",
    "due_at",
    "target",
    "post_id",
    "created_at",
    "finished_at",
)
EXPORT_PAGE = 1_000

PAGE = 50


@dataclass(frozen=True)
class LedgerQuery:
    """Which activities to read, as a person names them: of one agent (its id or handle),
    one persona, one kind, one status, a recent window, older than activity ``before``;
    at most ``limit``. None: any."""

    agent_ref: str | None = None
    persona: str | None = None
    action: str | None = None
    status: str | None = None
    within: timedelta | None = None
    before: int | None = None
    limit: int = PAGE


def find(fleet: Fleet, query: LedgerQuery = LedgerQuery()) -> list[ActivityView]:
    """The newest activities first, as ``query`` names them."""
    agent_id = agents.get_agent(fleet.sessions, query.agent_ref).id if query.agent_ref else None
    persona = query.persona
    if persona is not None:
        fleet.personas.get(persona)  # an unknown slug is an InputError naming the known ones
    start = fleet.clock.now() - query.within if query.within is not None else None
    where = ActivityFilter(
        agent_id, query.action, query.status, start, query.limit, persona, query.before
    )
    return activities.list_activities(fleet.sessions, where)


def ledger_page(fleet: Fleet, query: LedgerQuery) -> tuple[list[ActivityView], int | None]:
    """A page of the ledger, newest first, and the id the next (older) page starts
    before (None on the last page): keyset pages, as fast on the thousandth as the first."""
    limit = query.limit
    rows = find(fleet, replace(query, limit=limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


def stats(fleet: Fleet, within: timedelta) -> list[tuple[str, str, str, int]]:
    """Activities of the last ``within`` counted by (persona, action, status)."""
    since: datetime = fleet.clock.now() - within
    return [tuple(row) for row in activities.activity_stats(fleet.sessions, since)]  # type: ignore[misc]


def follow(
    fleet: Fleet, *, timeout: float | None = None, stop: Callable[[], bool] | None = None
) -> Iterator[dict[str, Any]]:
    """The live feed's events as they come (Redis channel ``fleet:activity``), until
    ``timeout`` seconds pass without one or ``stop()`` is true."""
    return fleet.activity_channel.follow(timeout=timeout, stop=stop)


def feed_reachable(fleet: Fleet) -> None:
    """Raises (a Redis error, or InputError without Redis) unless the feed's Redis answers."""
    fleet.redis.ping()


def export(fleet: Fleet, *, within: timedelta | None = None) -> Iterator[dict[str, Any]]:
    """Every action of the ledger (of the last ``within``), newest first, each with its
    origin ("automated": every action Fleet takes is, and the gallery was told so by the
    ``X-Fleet-Origin`` header) and the operator who answers for it; read a page at a time."""
    operator = fleet.settings.disclosure
    before: int | None = None
    while True:
        page = find(fleet, LedgerQuery(within=within, before=before, limit=EXPORT_PAGE))
        for row in page:
            result = row.result or {}
            yield {
                "id": row.id,
                "origin": "automated",
                "operator": operator.operator_name,
                "operator_url": str(operator.operator_url),
                "agent": row.handle,
                "persona": row.persona,
                "action": row.action,
                "status": row.status,
                "idempotency_key": row.idempotency_key,
                "due_at": row.due_at.isoformat(),
                "target": row.target_post_id,
                "post_id": result.get("post_id"),
                "created_at": row.created_at.isoformat(),
                "finished_at": None if row.finished_at is None else row.finished_at.isoformat(),
            }
        if len(page) < EXPORT_PAGE:
            return
        before = page[-1].id
