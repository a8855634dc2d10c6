"""The workers' use cases: dispatch due ticks, decide them, carry out an action, settle
its failure, re-send what was lost. The Celery tasks (``fleet.worker.tasks``) call these and
nothing deeper; each returns what the task needs to send next."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta

from fleet import activities, agents
from fleet.actions import Outcome, perform
from fleet.actions.failures import settle
from fleet.actions.perform import perform_batch
from fleet.activities.outcomes import AlreadyFinished, Dead, Retry, Settled, Skipped
from fleet.agents import DispatchReport, Tick
from fleet.core.kinds import KINDS, Action, ActionKey
from fleet.errors import TimeLimitExceeded

__all__ = [
    "Dead",
    "DispatchReport",
    "Outcome",
    "Retry",
    "Skipped",
    "Tick",
    "act",
    "act_batch",
    "decide",
    "dispatch",
    "sweep",
]
from fleet.service import drafts
from fleet.service.root import Fleet

# How long a post's vector is kept (``agents.post_vectors``).
POST_VECTORS_KEPT = timedelta(days=30)


def dispatch(fleet: Fleet, publish: Callable[[list[Tick]], None]) -> DispatchReport:
    """Claim the agents that are due, advance their clocks, ``publish`` their ticks."""
    settings = fleet.settings.dispatch
    return agents.dispatch_due(
        fleet.sessions,
        fleet.personas,
        publish,
        now=fleet.clock.now().timestamp(),
        limits=agents.DispatchLimits(
            batch_size=settings.batch_size,
            max_batches=settings.max_batches_per_cycle,
            catch_up=settings.catch_up_seconds,
            lead=settings.lead_seconds,
        ),
    )


def decide(fleet: Fleet, ticks: list[list[int]]) -> list[ActionKey[Action]]:
    """Decide the actions of these ticks; the keys newly recorded, to send (a key names
    its action).

    While the gallery's shared limit refuses requests, fewer ticks act (the back-pressure,
    ``fleet.core.back_pressure``: its share read once for the batch, or the one a batch of
    this process read in the last second, ``Fleet.decide_share``)."""
    decisions = agents.decide_ticks(
        fleet.sessions,
        fleet.personas,
        ticks,  # each part read as a number there
        now=fleet.clock.now(),
        lease=timedelta(seconds=fleet.settings.tasks.unclaimed_seconds),
        strain=agents.Strain(fleet.degrade, fleet.decide_share()),
    )
    return [d.decision.key for d in decisions if d.new]


def act(fleet: Fleet, key: ActionKey[Action] | str, task: str, *, deferrals: int) -> Outcome:
    """Carry out the action ``key`` (as the task parsed it; a string that is no key as it
    came, which no activity has); a failure is settled (retry, wait, dead letter), and so
    is the task's soft time limit (``TimeLimitExceeded``): a failed attempt that retries."""
    kit = fleet.action_kit
    if isinstance(key, str):  # no activity can have it: nothing to do
        return AlreadyFinished()
    try:
        return perform(kit, key)
    except (Exception, TimeLimitExceeded) as error:  # the time limit is no Exception
        return settle(
            kit,
            key,
            task,
            error,
            deferrals=deferrals,
            secrets=fleet.secrets,
            rng=random.Random(),
        )


def act_batch(
    fleet: Fleet,
    keys: Sequence[ActionKey[Action]],
    *,
    deferrals: Mapping[ActionKey[Action], int] | None = None,
) -> dict[ActionKey[Action], Outcome]:
    """Carry out a batch of cheap actions; each failure is settled on its own, as the
    failure of its kind's single task (``fleet.like``...), so a retry is sent as one.
    ``deferrals``: the waits each key's message has had already (none: none)."""
    kit = fleet.action_kit
    waited = deferrals or {}

    def settled(key: ActionKey[Action], error: BaseException) -> Settled:
        return settle(
            kit,
            key,
            KINDS[key.action].task,
            error,
            deferrals=waited.get(key, 0),
            secrets=fleet.secrets,
            rng=random.Random(),
        )

    return perform_batch(
        kit, keys, threads=fleet.settings.tasks.action_batch_threads, settle=settled
    )


def sweep(fleet: Fleet) -> list[ActionKey[Action]]:
    """Pending activities whose lease ran out, leased anew: their keys, to re-send
    (approved drafts among them, at their publication time); posts' vectors past their
    keeping forgotten. Drafts past their expiry end skipped first."""
    drafts.expire(fleet)
    lease = timedelta(seconds=fleet.settings.tasks.lease_seconds)
    now = fleet.clock.now()
    expired = activities.expired_leases(fleet.sessions, now=now, lease=lease)
    # Posts' vectors are kept for a month: the feeds seldom show older posts.
    agents.forget_post_vectors(fleet.sessions, before=now - POST_VECTORS_KEPT)
    return expired
