"""Carrying out a batch of cheap actions (the registry's ``batchable`` kinds) in one delivery.

One claim statement for all the batch's keys, the gallery calls made concurrently (a pool
of threads per process over the gallery client's one connection pool, keep-alive), one
finish statement for every action that succeeded or was skipped. Each action keeps its own
key, state, attempts and dead letter: an action that fails is settled on its own by the
caller's ``settle`` (``fleet.actions.failures.settle``, for the task) once the batch has
ended the others, and, if it is to retry, sent again as a message of its own. A batch
never retries as a whole.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from typing import NoReturn

from fleet import activities
from fleet.actions import needs
from fleet.actions.choosing import first_choices
from fleet.actions.kit import ActionKit
from fleet.actions.perform import Spent, carry_out, drafted, end, keep_failed_spending
from fleet.activities import Claim
from fleet.activities.commands import CarriedOut, Outcome, Performed, Unknown
from fleet.core.kinds import KINDS, Action, ActionKey
from fleet.errors import InputError, UnderReview
from fleet.gallery.port import AdmitsBatches, Gallery

# What the caller makes of an action of the batch that failed, its error settled on its
# own (the task's: ``fleet.actions.failures.settle``): the action's outcome.
Settle = Callable[[str, Action, BaseException], Outcome]


def _raise(key: str, action: Action, error: BaseException) -> NoReturn:
    """The single path's way with a failure: raised, for its task to settle."""
    raise error


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
def _admitted(gallery: Gallery, calls: int) -> Iterator[Gallery]:
    """The gallery with ``calls`` calls admitted at once, if it can
    (``LimitedGallery.admitted``); else the gallery as it is."""
    if not isinstance(gallery, AdmitsBatches) or calls < 1:
        yield gallery
        return
    with gallery.admitted(calls) as admitted:
        yield admitted


def _carrying_out(
    kit: ActionKit,
    claims: Sequence[Claim],
    threads: int,
    spent: Callable[[Spent], None],
    gallery: Gallery,
) -> list[tuple[Claim, Callable[[], CarriedOut]]]:
    """Each claim's action started, its calls through ``gallery``: on the process's
    threads, or in this thread for a batch of one (a thread would only add its
    hand-over); its ending, or its error, when called. What their LLM calls bill goes to
    ``spent``."""
    if len(claims) == 1:
        claim = claims[0]
        return [(claim, partial(carry_out, kit, claim, spent, gallery))]
    pool = _pool(threads)
    running: list[tuple[Claim, Future[CarriedOut]]] = [
        (claim, pool.submit(carry_out, kit, claim, spent, gallery)) for claim in claims
    ]
    return [(claim, future.result) for claim, future in running]


def perform_one(kit: ActionKit, key: ActionKey[Action]) -> Performed:
    """One delivery of a batchable kind, a batch of one (``perform_batch``): its outcome;
    its failure raised for the task to settle, as any action's; an unknown key an
    ``InputError``, as the claim of one action says it."""
    became = perform_batch(kit, [key], threads=1, settle=_raise)[str(key)]
    if isinstance(became, Unknown):
        raise InputError(f"no activity with key {str(key)!r}")
    assert isinstance(became, Performed)  # a failure was raised (``_raise``)
    return became


def perform_batch(
    kit: ActionKit,
    keys: Sequence[ActionKey[Action]],
    *,
    threads: int,
    settle: Settle = _raise,
) -> dict[str, Outcome]:
    """Carry out the actions ``keys`` name (parsed at the task's entry), each exactly once
    in effect: the outcome of each key, by the key's string. An action that failed is
    settled by ``settle`` after the batch's end (by default its error is raised then, as
    a single action's is)."""
    for key in keys:
        if not KINDS[key.action].batchable:
            raise ValueError(f"{str(key)!r} is not of a batchable kind")
    unique = list(dict.fromkeys(keys))
    # A like's post chosen before the claim, from a young feed page and one read of the
    # ledger for the whole batch, kept by the claim when still open to the agent
    # (``targets.first_choices``): no statement of its own after.
    choices = first_choices(needs.choosing(kit), unique)
    claimed = activities.claim_many(
        kit.sessions,
        [str(key) for key in unique],
        now=kit.now(),
        lease=kit.limits.lease,
        first_choices=choices,
    )
    done: dict[str, Outcome] = dict(claimed.unclaimed)
    endings: list[tuple[Claim, CarriedOut]] = []
    failed: list[tuple[Claim, BaseException]] = []
    # The batch's gallery calls admitted by the shared limits at once (one round trip to
    # Redis for all of them, when the gallery is behind limits that can do that).
    # What succeeding actions' LLM calls billed: charged in one round trip and recorded
    # by the finish statement, not a transaction and a statement each.
    spent: list[Spent] = []
    with _admitted(kit.gallery, len(claimed.claims)) as gallery:
        running = _carrying_out(kit, claimed.claims, threads, spent.append, gallery)
        for claim, result in running:
            try:
                endings.append((claim, result()))
            except UnderReview:  # a like under review (FLEET_REVIEW__KINDS): its draft
                done[claim.key] = drafted(kit, claim)
            except Exception as error:
                failed.append((claim, error))
    ending_ids = {claim.id for claim, _ in endings}
    # Of an action that failed after all: charged, and kept on its activity.
    keep_failed_spending(kit, [s for s in spent if s[0] not in ending_ids])
    done |= end(kit, endings, [s for s in spent if s[0] in ending_ids])
    for claim, raised in failed:
        done[claim.key] = settle(claim.key, Action(claim.action), raised)
    return done
