"""Carrying out a batch of cheap actions (the registry's ``batchable`` kinds) in one delivery.

One claim statement for all the batch's keys, the gallery calls made concurrently (a pool
of threads per process over the gallery client's one connection pool, keep-alive), one
finish statement for every action that succeeded or was skipped. Each action keeps its own
key, state, attempts and dead letter: an action that fails is handed back with its error,
for the caller to settle on its own (``fleet.actions.failures.settle``) and, if it is to
retry, send again as a message of its own. A batch never retries as a whole.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from fleet import activities
from fleet.actions.choosing import first_choices
from fleet.actions.kit import ActionKit, Event
from fleet.actions.outcomes import AlreadyFinished, HeldElsewhere, Performed, Unknown
from fleet.actions.perform import carry_out, drafted, ended_as
from fleet.activities import Claim, Ending
from fleet.content.budget import usage_record
from fleet.content.port import Usage
from fleet.core.action_key import action_of
from fleet.core.kinds import KINDS, Action
from fleet.errors import InputError, UnderReview
from fleet.gallery.port import AdmitsBatches


@dataclass(frozen=True, slots=True)
class Failed:
    """An action of a batch that failed: not yet an outcome, its error is to be settled on
    its own (``fleet.actions.failures.settle``)."""

    key: str
    action: str
    error: BaseException


# The outcome of a key the batch's claim could not take, by why (``activities.Claimed``).
_UNCLAIMED: dict[str, type[AlreadyFinished | HeldElsewhere | Unknown]] = {
    "already-finished": AlreadyFinished,
    "held-elsewhere": HeldElsewhere,
    "unknown": Unknown,
}

_lock = threading.Lock()
_pools: dict[tuple[int, int], ThreadPoolExecutor] = {}


def _pool(threads: int) -> ThreadPoolExecutor:
    """This process's threads for batches (made on first use, again after a fork)."""
    with _lock:
        pool = _pools.get((os.getpid(), threads))
        if pool is None:
            pool = ThreadPoolExecutor(threads, thread_name_prefix="fleet-batch")
            _pools[os.getpid(), threads] = pool
        return pool


@contextmanager
def _admitted(kit: ActionKit, calls: int) -> Iterator[ActionKit]:
    """The kit whose gallery has ``calls`` calls admitted at once, if its gallery can
    (``LimitedGallery.admitted``); else the kit as it is."""
    if not isinstance(kit.gallery, AdmitsBatches) or calls < 1:
        yield kit
        return
    with kit.gallery.admitted(calls) as gallery:
        yield replace(kit, gallery=gallery)


def _charged(kit: ActionKit, spent: list[tuple[int, int, Usage]]) -> dict[int, dict[str, Any]]:
    """Charge the budgets what the batch's calls billed (at once, when the budget can);
    each activity's usage to record."""
    if not spent:
        return {}
    kit.spending.record_many([(agent_id, usage) for _, agent_id, usage in spent])
    return {activity_id: usage_record(usage) for activity_id, _, usage in spent}


def _carrying_out(
    kit: ActionKit, claims: Sequence[Claim], threads: int
) -> list[tuple[Claim, Callable[[], Ending]]]:
    """Each claim's action started: on the process's threads, or in this thread for a
    batch of one (a thread would only add its hand-over); its ending, or its error, when
    called."""
    if len(claims) == 1:
        claim = claims[0]
        return [(claim, partial(carry_out, kit, claim))]
    pool = _pool(threads)
    running: list[tuple[Claim, Future[Ending]]] = [
        (claim, pool.submit(carry_out, kit, claim)) for claim in claims
    ]
    return [(claim, future.result) for claim, future in running]


def perform_one(kit: ActionKit, key: str) -> Performed:
    """One delivery of a batchable kind, a batch of one (``perform_batch``): its outcome;
    its failure raised for the task to settle, as any action's; an unknown key an
    ``InputError``, as the claim of one action says it."""
    became = perform_batch(kit, [key], threads=1)[key]
    if isinstance(became, Failed):
        raise became.error
    if isinstance(became, Unknown):
        raise InputError(f"no activity with key {key!r}")
    return became


def perform_batch(
    kit: ActionKit, keys: Sequence[str], *, threads: int
) -> dict[str, Performed | Failed]:
    """Carry out the actions ``keys`` name, each exactly once in effect: what became of
    each key (an outcome, or a failure for the caller to settle)."""
    for key in keys:
        action = action_of(key)
        if action not in {kind.action.value for kind in KINDS.values() if kind.batchable}:
            raise ValueError(f"{key!r} is not of a batchable kind")
    unique = list(dict.fromkeys(keys))
    # A like's post chosen before the claim, from a young feed page and one read of the
    # ledger for the whole batch, kept by the claim when still open to the agent
    # (``targets.first_choices``): no statement of its own after.
    choices = first_choices(kit, unique)
    claimed = activities.claim_many(
        kit.sessions, unique, now=kit.now(), lease=kit.lease, first_choices=choices
    )
    done: dict[str, Performed | Failed] = {
        key: _UNCLAIMED[why]() for key, why in claimed.unclaimed.items()
    }
    endings: list[tuple[Claim, Ending]] = []
    # The batch's gallery calls admitted by the shared limits at once (one round trip to
    # Redis for all of them, when the gallery is behind limits that can do that).
    # What succeeding actions' LLM calls billed: charged in one round trip and recorded
    # by the finish statement, not a transaction and a statement each.
    spent: list[tuple[int, int, Usage]] = []
    with _admitted(kit, len(claimed.claims)) as acting:
        acting = replace(acting, spent=spent.append)
        for claim, result in _carrying_out(acting, claimed.claims, threads):
            try:
                endings.append((claim, result()))
            except UnderReview:  # a like under review (FLEET_REVIEW__KINDS): its draft
                done[claim.key] = drafted(kit, claim)
            except Exception as error:
                done[claim.key] = Failed(claim.key, Action(claim.action).value, error)
    usages = _charged(kit, spent)
    endings = [
        (claim, replace(ending, usage=usages.pop(claim.id)) if claim.id in usages else ending)
        for claim, ending in endings
    ]
    for activity_id, usage in usages.items():  # of an action that failed after all
        activities.save_progress(kit.sessions, activity_id, now=kit.now(), usage=usage)
    ended = activities.finish_many(kit.sessions, [e for _, e in endings], now=kit.now())
    if kit.recall is not None:
        kit.recall.remember([(c, e) for c, e in endings if c.id in ended], now=kit.now())
    # The live feed's events of the batch go out together (one round trip to Redis).
    events: list[Event] = []
    collecting = replace(kit, publish=events.append)
    for claim, ending in endings:
        done[claim.key] = ended_as(collecting, claim, ending, claim.id in ended)
    if kit.publish_many is not None:
        kit.publish_many(events)
    else:
        for event in events:
            kit.publish(event)
    return done
