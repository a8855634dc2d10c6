"""Use cases on what the agents did: list activities, count them, follow the live feed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from fleet import activities, agents
from fleet.activities import ActivityFilter, ActivityView
from fleet.service.root import Fleet

__all__ = ["ActivityFilter", "ActivityView", "find", "follow", "stats"]


def find(
    fleet: Fleet,
    *,
    agent_ref: str | None = None,
    action: str | None = None,
    status: str | None = None,
    within: timedelta | None = None,
    limit: int = 50,
) -> list[ActivityView]:
    """The newest activities first (of one agent, one kind, one status, a recent window)."""
    agent_id = agents.get_agent(fleet.sessions, agent_ref).id if agent_ref else None
    start = fleet.clock.now() - within if within is not None else None
    where = ActivityFilter(agent_id, action, status, start, limit)
    return activities.list_activities(fleet.sessions, where)


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
