"""Celery tasks: thin shells that parse ids and call one command of Fleet.

The dispatcher and the ticks run on queue ``ticks``; posts and comments on ``content``;
likes and browsing on ``engage``. Action tasks share one base class that owns the
failure semantics (``fleet.actions.failures``): retries with backoff and jitter, waits that do
not count as attempts, and the dead-letter hook.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from celery import Task, shared_task

from fleet import activities
from fleet.actions import perform
from fleet.actions.failures import settle
from fleet.agents.heartbeat import Decision, Tick, decide_ticks, dispatch_due
from fleet.infra.logs import bind_task, get_logger
from fleet.service.root import Fleet
from workers import runtime
from workers.runtime import current_fleet

log = get_logger("fleet.tasks")

ACTION_QUEUES = {"post": "content", "comment": "content", "like": "engage", "browse": "engage"}


def _fleet(task: Task[Any, Any]) -> Fleet:
    return current_fleet(task.app.conf.fleet_settings)


def send_actions(task: Task[Any, Any], decisions: list[Decision] | list[tuple[str, str]]) -> None:
    """Hand decided actions to their tasks, over one broker connection."""
    pairs = [(d.action, d.idempotency_key) if isinstance(d, Decision) else d for d in decisions]
    if not pairs:
        return
    with task.app.producer_or_acquire() as producer:
        for action, key in pairs:
            task.app.send_task(
                f"fleet.{action}", args=(key,), queue=ACTION_QUEUES[action], producer=producer
            )


@shared_task(name="fleet.dispatch", bind=True, acks_late=False, ignore_result=True)
def dispatch(self: Task[Any, Any]) -> int:
    """Claim due agents, advance their clocks, publish their ticks; returns ticks sent."""
    fleet = _fleet(self)
    settings = fleet.settings
    batch_size = settings.tasks.tick_batch_size

    def publish(ticks: list[Tick]) -> None:
        with self.app.producer_or_acquire() as producer:
            for start in range(0, len(ticks), batch_size):
                self.app.send_task(
                    "fleet.tick_batch",
                    args=(ticks[start : start + batch_size],),
                    queue="ticks",
                    producer=producer,
                )

    report = dispatch_due(
        fleet.sessions,
        fleet.personas,
        publish,
        now=runtime.clock.now().timestamp(),
        batch_size=settings.dispatch.batch_size,
        max_batches=settings.dispatch.max_batches_per_cycle,
        catch_up=settings.dispatch.catch_up_seconds,
    )
    for agent_id, reason in report.set_aside:
        log.error("agent set aside", task="fleet.dispatch", agent=agent_id, reason=reason)
    if report.ticks:
        log.info(
            "dispatched",
            task="fleet.dispatch",
            ticks=report.ticks,
            batches=report.batches,
            max_lag=round(report.max_lag, 3),
        )
    return report.ticks


def _decide(task: Task[Any, Any], ticks: list[list[int]]) -> int:
    fleet = _fleet(task)
    decisions = decide_ticks(
        fleet.sessions,
        fleet.personas,
        [[int(part) for part in tick] for tick in ticks],
        now=runtime.clock.now(),
        lease=timedelta(seconds=fleet.settings.tasks.unclaimed_seconds),
        adjust=fleet.degrade(),
    )
    fresh = [decision for decision in decisions if decision.new]
    send_actions(task, fresh)
    return len(fresh)


@shared_task(name="fleet.tick", bind=True)
def tick(
    self: Task[Any, Any],
    agent_id: int,
    due_at: int,
    opened: int | None = None,
    index: int = 0,
) -> int:
    """Decide one agent's action for the tick due at ``due_at`` (UTC epoch seconds), the
    ``index``-th of the session opened at second ``opened``."""
    if opened is None:
        return _decide(self, [[agent_id, due_at]])
    return _decide(self, [[agent_id, due_at, opened, index]])


@shared_task(name="fleet.tick_batch", bind=True)
def tick_batch(self: Task[Any, Any], ticks: list[list[int]]) -> int:
    """Decide the actions of a batch of ``[agent_id, due_at, opened, index]`` ticks."""
    return _decide(self, ticks)


class ActionTask(Task[Any, Any]):
    """The cross-cutting part of every action: run it, and settle any failure."""

    # Attempts are counted in Postgres, waits do not count, and a lost worker's retries are
    # bounded by the deliveries each claim counts (ActionKit.max_deliveries).
    max_retries = None

    def act(self, key: str) -> str:
        agent, _, rest = key.partition(":")
        action = rest.rpartition(":")[2]
        with bind_task(
            task=self.name, task_id=self.request.id, agent=agent, action=action, key=key
        ):
            return self._act(key)

    def _act(self, key: str) -> str:
        fleet = _fleet(self)
        kit = fleet.action_kit
        try:
            outcome = perform(kit, key)
        except Exception as error:
            verdict = settle(
                kit,
                key,
                self.name,
                error,
                deferrals=self.request.retries,
                secrets=fleet.secrets,
                rng=random.Random(),
            )
            if verdict.kind == "retry":
                log.info("retrying", countdown=round(verdict.countdown, 2), reason=verdict.reason)
                raise self.retry(countdown=verdict.countdown, max_retries=None) from None
            if verdict.kind == "dead":
                log.warning(
                    "dead letter", dead_letter=verdict.dead_letter_id, reason=verdict.reason
                )
                self.app.send_task(
                    "fleet.dead_letter", args=(verdict.dead_letter_id,), queue="dead_letter"
                )
            else:
                log.info("settled", outcome=verdict.kind, reason=verdict.reason)
            return verdict.kind
        log.info("done", outcome=outcome.status)
        return outcome.status


@shared_task(name="fleet.post", bind=True, base=ActionTask)
def post(self: ActionTask, key: str) -> str:
    """Write a caption, render the image, publish the post."""
    return self.act(key)


@shared_task(name="fleet.comment", bind=True, base=ActionTask)
def comment(self: ActionTask, key: str) -> str:
    """Reply to a post in the persona's voice."""
    return self.act(key)


@shared_task(name="fleet.like", bind=True, base=ActionTask)
def like(self: ActionTask, key: str) -> str:
    """Make sure a post is liked."""
    return self.act(key)


@shared_task(name="fleet.browse", bind=True, base=ActionTask)
def browse(self: ActionTask, key: str) -> str:
    """Read a feed page and remember a thought."""
    return self.act(key)


@shared_task(name="fleet.dead_letter", bind=True)
def dead_letter(self: Task[Any, Any], letter_id: int) -> int:
    """The dead-letter queue's consumer: it only reports (the row is in Postgres)."""
    log.warning("dead letter received", task="fleet.dead_letter", dead_letter=letter_id)
    return letter_id


@shared_task(name="fleet.sweep_leases", bind=True, acks_late=False)
def sweep_leases(self: Task[Any, Any]) -> int:
    """Re-send activities left pending past their lease (a lost message, a killed worker)."""
    fleet = _fleet(self)
    lease = timedelta(seconds=fleet.settings.tasks.lease_seconds)
    expired = activities.expired_leases(fleet.sessions, now=runtime.clock.now(), lease=lease)
    send_actions(self, [(action, key) for _, key, action in expired])
    if expired:
        log.warning(
            "leases expired, actions re-sent", task="fleet.sweep_leases", count=len(expired)
        )
    return len(expired)


@shared_task(name="fleet.noop", bind=True)
def noop(self: Task[Any, Any]) -> None:
    """Does nothing: benchmarks measure the worker's ceiling with it."""
