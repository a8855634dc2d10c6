"""Celery tasks: thin shells that parse ids and call one command of the agents context."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from celery import Task, shared_task
from celery.utils.log import get_task_logger

from fleet.agents.heartbeat import Tick, decide_ticks, dispatch_due
from fleet.bootstrap import Fleet
from workers.runtime import current_fleet

log = get_task_logger(__name__)


def _fleet(task: Task[Any, Any]) -> Fleet:
    return current_fleet(task.app.conf.fleet_settings)


@shared_task(name="fleet.dispatch", bind=True, acks_late=False, ignore_result=True)
def dispatch(self: Task[Any, Any]) -> int:
    """Claim due agents, advance their clocks, publish their ticks; returns ticks sent."""
    fleet = _fleet(self)
    settings = fleet.settings
    batch_size = settings.tasks.tick_batch_size

    def publish(ticks: list[Tick]) -> None:
        for start in range(0, len(ticks), batch_size):
            tick_batch.apply_async(args=(ticks[start : start + batch_size],), queue="ticks")

    report = dispatch_due(
        fleet.sessions,
        fleet.personas,
        publish,
        now=time.time(),
        batch_size=settings.dispatch.batch_size,
        max_batches=settings.dispatch.max_batches_per_cycle,
    )
    if report.ticks:
        log.info(
            "dispatched %d ticks in %d batches, max lag %.2fs",
            report.ticks,
            report.batches,
            report.max_lag,
        )
    return report.ticks


def _decide(task: Task[Any, Any], ticks: list[Tick]) -> int:
    fleet = _fleet(task)
    decisions = decide_ticks(
        fleet.sessions,
        fleet.personas,
        [(int(agent_id), int(due_at)) for agent_id, due_at in ticks],
        now=datetime.now(UTC),
        lease=timedelta(seconds=fleet.settings.tasks.lease_seconds),
    )
    return sum(1 for decision in decisions if decision.new)


@shared_task(name="fleet.tick", bind=True, max_retries=3)
def tick(self: Task[Any, Any], agent_id: int, due_at: int) -> int:
    """Decide one agent's action for the tick due at ``due_at`` (UTC epoch seconds)."""
    return _decide(self, [(agent_id, due_at)])


@shared_task(name="fleet.tick_batch", bind=True, max_retries=3)
def tick_batch(self: Task[Any, Any], ticks: list[list[int]]) -> int:
    """Decide the actions of a batch of ``[agent_id, due_at]`` ticks."""
    return _decide(self, [(agent_id, due_at) for agent_id, due_at in ticks])
