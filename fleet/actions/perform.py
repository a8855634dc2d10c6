"""Carrying out one decided action, exactly once in effect, however often it is delivered.

An action claims its activity by key (a terminal one means: done, return), keeps what it
generates on the activity before it calls the gallery (so a retry never asks the LLM
again), calls the gallery with the key as ``Idempotency-Key``, and ends the activity in
exactly one terminal state. No database transaction is open during an LLM or gallery
call. When the gallery keeps no idempotency keys and an answer was lost, a retry first
looks for the effect (its post with the same image, its comment with the same text).

Errors are left to the task layer, which owns retries: ``TransientError`` retries,
``PermanentError`` dead-letters, ``Deferred`` waits, ``Skip`` ends the activity skipped.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from operator import attrgetter
from typing import Any, NoReturn

from fleet import activities
from fleet.actions.choosing import (
    first_choices,
)
from fleet.actions.handlers import HANDLERS, choosing
from fleet.actions.kit import ActionKit, Event, EventHook
from fleet.activities import Claim
from fleet.activities.drafts import hold_for_review, rival_draft
from fleet.activities.outcomes import (
    AlreadyFinished,
    CarriedOut,
    Drafted,
    Outcome,
    Performed,
    Skipped,
    Succeeded,
    Unknown,
)
from fleet.content.llm.budget import usage_record
from fleet.content.port import Usage
from fleet.core.kinds import KINDS, Action, ActionKey
from fleet.errors import (
    InputError,
    PermanentError,
    Skip,
    TimeLimitExceeded,
    UnderReview,
    UnknownPersona,
)
from fleet.gallery.port import admitted_at_once

# What one succeeding action's LLM calls billed: (activity id, agent id, usage).
Spent = tuple[int, int, Usage]


def perform(kit: ActionKit, key: ActionKey[Action]) -> Performed:
    """Carry out the action ``key`` names (a value: parsed once, where a task or an
    approval took it), or return at once if it already ended: its outcome; its failure
    raised for the task to settle; an unknown key an ``InputError``.

    Every action is a batch of one (``_perform``, as ``perform_batch``): one claim path
    (``activities.claim_many``) and one ending (``end``) for every kind. Another delivery
    that holds it (a copy re-sent while the first was queued or running) makes no second
    LLM call and no second effect; should the holder die, its lease runs out and the
    sweeper sends the action again."""
    became = _perform(kit, [key], threads=1, settle=_raise)[key]
    if isinstance(became, Unknown):
        raise InputError(f"no activity with key {key.text!r}")
    assert isinstance(became, Performed)  # a failure was raised (``_raise``)
    return became


# The action-ended event (Locust's ``EventHook``, ``fleet.actions.kit``): fired once for
# each way a delivery ends actions, after the statement that ended them commits: a
# handler's end (succeeded, skipped: ``end``), a draft held for review (``drafted``), a
# failure settled into its end (skipped, dead: ``fleet.actions.failures``). Its keyword
# arguments:
#
#   kit    the ActionKit;
#   ended  the ``Ending`` of each action this delivery ended (not those another
#          delivery's end came first to), in one firing for a batch;
#   spent  what the ending actions' LLM calls billed (activity id, agent id, usage);
#   now    when they ended.
#
# A listener takes them by name (``**_`` for the rest). Each runs isolated: one that
# raises is logged, the others and the delivery's settling go on. The composition root
# adds the listeners (``fleet.service.root``: ``LISTENERS``); a kit built without a hook
# (a test's) fires ``LISTENERS`` too.


@dataclass(frozen=True, slots=True)
class Ending:
    """One action's end as the action-ended event carries it: who did what under which
    key (``subject``), how it ended (``status``: succeeded, skipped, drafted, dead) and
    why or what (``detail``); the delivery's claim, where it held one, and its handler's
    outcome, where a handler ended it (``end``), None otherwise."""

    subject: FeedSubject
    status: str
    detail: dict[str, Any]
    claim: Claim | None = None
    outcome: CarriedOut | None = None


def _charge(*, kit: ActionKit, spent: Sequence[Spent], **_: Any) -> None:
    """The LLM budgets charged what the actions billed (at once, when the budget can)."""
    if spent:
        kit.limits.spending.record_many([(agent_id, usage) for _, agent_id, usage in spent])


def _remember(*, kit: ActionKit, ended: Sequence[Ending], now: datetime, **_: Any) -> None:
    """What the actions this delivery ended did, in their agents' memories (and the
    vectors of the posts they published, for the feeds' readers)."""
    carried = [(e.claim, e.outcome) for e in ended if e.claim is not None and e.outcome]
    if kit.authorship.voice.recall is not None and carried:
        kit.authorship.voice.recall.remember(carried, now=now)


def _announce_all(*, kit: ActionKit, ended: Sequence[Ending], now: datetime, **_: Any) -> None:
    """The live feed's events of the ends this delivery wrote, together (one round trip
    to Redis when the channel can), at the time they ended."""
    kit.feed.all([event(kit, e.subject, e.status, e.detail, now) for e in ended])


# The action-ended event's listeners: the LLM charges, the memories and the posts'
# vectors, the live feed.
LISTENERS: tuple[Callable[..., None], ...] = (_charge, _remember, _announce_all)


def action_ended_hook() -> EventHook:
    """The action-ended event with its ``LISTENERS`` added (the composition root's)."""
    hook = EventHook("action_ended")
    for listener in LISTENERS:
        hook.add_listener(listener)
    return hook


_STANDARD_HOOK = action_ended_hook()


def fire_ended(
    kit: ActionKit, ended: Sequence[Ending], spent: Sequence[Spent], now: datetime
) -> None:
    """Fire the action-ended event for these ends (none: nothing fired)."""
    if not ended:
        return
    hook = kit.action_ended if kit.action_ended is not None else _STANDARD_HOOK
    hook.fire(kit=kit, ended=ended, spent=spent, now=now)


def end(
    kit: ActionKit, endings: Sequence[tuple[Claim, CarriedOut]], spent: list[Spent]
) -> dict[ActionKey[Action], Succeeded | Skipped | AlreadyFinished]:
    """End these claimed actions as their outcomes say, in one statement (what the
    succeeding ones billed recorded on them), then fire the action-ended event with the
    ones this delivery ended: each key's outcome."""
    if not endings:  # every action of the delivery failed, was drafted or not claimed
        return {}
    usages: dict[int, dict[str, str | int | float]] = {}
    for activity_id, _, usage in spent:
        usages[activity_id] = usage_record(usage)
    written: list[CarriedOut] = []
    for claim, outcome in endings:
        written.append(replace(outcome, usage=usages[claim.id]) if claim.id in usages else outcome)
    now = kit.now()
    ended = activities.finish_many(kit.sessions, written, now=now)
    # Each key's outcome; the event carries those this delivery ended.
    done: dict[ActionKey[Action], Succeeded | Skipped | AlreadyFinished] = {}
    endings_fired: list[Ending] = []
    for (claim, _), outcome in zip(endings, written, strict=True):
        if claim.id in ended:
            done[claim.key] = outcome
            endings_fired.append(
                Ending(subject(claim), outcome.status, outcome.detail or {}, claim, outcome)
            )
        else:
            done[claim.key] = AlreadyFinished(claim.id, outcome.detail)
    fire_ended(kit, endings_fired, spent, now)
    return done


def keep_failed_spending(kit: ActionKit, spent: Sequence[Spent]) -> None:
    """What actions that failed after their LLM calls billed: charged, and kept on their
    activities (their retry does not pay again for what they saved)."""
    if not spent:
        return
    kit.limits.spending.record_many([(agent_id, usage) for _, agent_id, usage in spent])
    for activity_id, _, usage in spent:
        activities.save_progress(
            kit.sessions, activity_id, now=kit.now(), usage=usage_record(usage)
        )


def drafted(kit: ActionKit, claim: Claim) -> Performed:
    """Stop the action at its draft (review mode), and say so on the live feed; skipped
    if another draft of its agent already answers the same post."""
    rival = _rival_draft(kit, claim)
    if rival is not None:
        reason = f"draft {rival} of this agent already answers the same post"
        return end(kit, [(claim, Skipped(claim.id, reason))], [])[claim.key]
    draft_id = _hold_as_draft(kit, claim)
    if draft_id is None:
        return AlreadyFinished(claim.id)
    outcome = Drafted(claim.id, draft_id)
    fire_ended(
        kit, [Ending(subject(claim), outcome.status, outcome.detail or {}, claim)], [], kit.now()
    )
    return outcome


def needs_of(kit: ActionKit, action: Action, spent: Callable[[Spent], None] | None) -> Any:
    """What the kind ``action`` needs, narrowed from the kit: once per kit for a kind
    whose needs are the kit's alone (a like's, a follow's, a post's, a comment's), else
    anew, with the delivery's collector of what its LLM calls bill (a look's, a reply's:
    once per delivery, ``_carrying_out``)."""
    needs = kit.narrowed.get(action)
    if needs is None:
        handler = HANDLERS[action]
        needs = handler.narrow(kit, spent)
        if handler.per_kit:
            kit.narrowed[action] = needs
    return needs


def carry_out(
    kit: ActionKit,
    claim: Claim,
    spent: Callable[[Spent], None] | None = None,
    needs: Any = None,
) -> CarriedOut:
    """Do the claimed action (no transaction open): how it ends, succeeded or skipped;
    with ``needs``, its kind's needs for the delivery (else narrowed here).

    Any other failure is raised, for ``fleet.actions.failures.settle`` to judge.
    """
    limits = kit.limits
    if claim.deliveries > limits.max_deliveries:
        # Deliveries that never reached a verdict (a worker killed, a message lost) would
        # otherwise come back for ever: this one ends the action.
        raise PermanentError(
            f"delivered {claim.deliveries} times, more than the {limits.max_deliveries} its "
            "attempts, deferrals and lost deliveries allow: its workers died or its "
            "messages were lost before it ended"
        )
    last_attempt = claim.attempts + 1 >= limits.max_attempts
    try:
        if not claim.actor.active and claim.attempts == 0 and claim.deliveries <= 1:
            # Pausing stops new actions. One an earlier delivery began may have reached
            # the gallery (its answer lost): it is finished, looking before it acts, not
            # abandoned as skipped with its effect on the gallery.
            raise Skip(f"agent {claim.actor.handle} is {claim.actor.status}, not active")
        if needs is None:
            needs = needs_of(kit, claim.action, spent)
        result, engagement = HANDLERS[claim.action].handle(needs, claim, last_attempt)
    except Skip as skip:
        return Skipped(claim.id, str(skip))
    return Succeeded(claim.id, result, engagement)


@dataclass(frozen=True, slots=True)
class FeedSubject:
    """The activity an event of the live feed is about (who did what, under which key)."""

    activity_id: int
    agent_id: int
    handle: str
    persona: str
    action: Action
    key: ActionKey[Action]


def event(
    kit: ActionKit,
    ended: FeedSubject,
    status: str,
    detail: dict[str, Any] | None,
    now: datetime | None = None,
) -> Event:
    """The live feed's event of an activity's end (``fleet:activity``) at ``now`` (the
    kit's clock when not given), with the agent's local time (what a person reads:
    "09:31 local")."""
    if now is None:
        now = kit.now()
    try:
        # The persona's zone, resolved once by the catalogue (``PersonaCadence``).
        zone = kit.personas.cadences[ended.persona].clock.zone
        local = now.astimezone(zone).strftime("%H:%M")
    except UnknownPersona:
        local = None
    return {
        "activity_id": ended.activity_id,
        "agent_id": ended.agent_id,
        "handle": ended.handle,
        "persona": ended.persona,
        "action": ended.action.value,
        "status": status,
        "key": ended.key.text,
        "detail": detail or {},
        "at": now.isoformat(),
        "local_time": local,
    }


def announce(
    kit: ActionKit, ended: FeedSubject, status: str, detail: dict[str, Any] | None
) -> None:
    """Fire the action-ended event for one activity's end that no handler wrote (a
    failure settled: skipped or dead)."""
    fire_ended(kit, [Ending(ended, status, detail or {})], [], kit.now())


def subject(claim: Claim) -> FeedSubject:
    """The live feed's subject of a claimed activity."""
    actor = claim.actor
    return FeedSubject(claim.id, actor.id, actor.handle, actor.persona, claim.action, claim.key)


def _rival_draft(kit: ActionKit, claim: Claim) -> int | None:
    """Another open draft of this agent answering the same post (its id), or None."""
    if claim.action == "post":
        return None
    return rival_draft(kit.sessions, claim.id)


def _hold_as_draft(kit: ActionKit, claim: Claim) -> int | None:
    """Stop the claimed activity at its draft; the draft's id (None: it had ended)."""
    now = kit.now()
    expires = now + timedelta(hours=kit.authorship.publishing.review.expires_hours)
    return hold_for_review(kit.sessions, claim.id, now=now, expires_at=expires)


# Carrying out a batch of cheap actions (the registry's ``batchable`` kinds) in one delivery.
#
# One claim statement for all the batch's keys, the gallery calls made concurrently (a pool
# of threads per process over the gallery client's one connection pool, keep-alive), one
# finish statement for every action that succeeded or was skipped. Each action keeps its own
# key, state, attempts and dead letter: an action that fails is settled on its own by the
# caller's ``settle`` (``fleet.actions.failures.settle``, for the task) once the batch has
# ended the others, and, if it is to retry, sent again as a message of its own. A batch
# never retries as a whole.

# What the caller makes of an action of the batch that failed, its error settled on its
# own (the task's: ``fleet.actions.failures.settle``): the action's outcome.
Settle = Callable[[ActionKey[Action], BaseException], Outcome]


def _raise(key: ActionKey[Action], error: BaseException) -> NoReturn:
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


def end_batch_threads(*, wait: bool = True) -> None:
    """End this process's batch threads once the work they hold is done (``wait``: return
    then, else at once): the next batch starts threads of its own."""
    with _lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.shutdown(wait=wait)


def _carrying_out(
    kit: ActionKit,
    claims: Sequence[Claim],
    threads: int,
    spent: Callable[[Spent], None],
) -> list[tuple[Claim, Callable[[], CarriedOut]]]:
    """Each claim's action started on the process's threads (a batch of many; a batch of
    one runs in the delivery's thread, ``_perform``, where a thread would only add its
    hand-over): its ending, or its error, when called. What their LLM calls bill goes to
    ``spent``. Each kind's needs are narrowed once for the delivery, not once an action:
    its looks share what a delivery's looks share (the public feed's page read once,
    ``BrowseNeeds.public``)."""
    pool = _pool(threads)
    needs = {action: needs_of(kit, action, spent) for action in {c.action for c in claims}}
    running: list[tuple[Claim, Future[CarriedOut]]] = [
        (claim, pool.submit(carry_out, kit, claim, spent, needs[claim.action])) for claim in claims
    ]
    return [(claim, future.result) for claim, future in running]


def perform_batch(
    kit: ActionKit,
    keys: Sequence[ActionKey[Action]],
    *,
    threads: int,
    settle: Settle = _raise,
) -> dict[ActionKey[Action], Outcome]:
    """Carry out the actions ``keys`` name (parsed at the task's entry), each exactly once
    in effect: the outcome of each key. An action that failed is
    settled by ``settle`` after the batch's end (by default its error is raised then, as
    a single action's is)."""
    for key in keys:
        if not KINDS[key.action].batchable:
            raise ValueError(f"{key.text!r} is not of a batchable kind")
    return _perform(kit, keys, threads=threads, settle=settle)


def _perform(
    kit: ActionKit, keys: Sequence[ActionKey[Action]], *, threads: int, settle: Settle
) -> dict[ActionKey[Action], Outcome]:
    """``perform_batch`` for keys of any kind: one action (``perform``) or many."""
    unique = list(dict.fromkeys(keys))
    # A like's post chosen before the claim, from a young feed page and one read of the
    # ledger for the whole batch, kept by the claim when still open to the agent
    # (``choosing.first_choices``): no statement of its own after. A batch without a like
    # (a post, a comment) chooses nothing before its claim: it asks for no feed or ledger.
    choices = (
        first_choices(choosing(kit), unique)
        if Action.LIKE in map(attrgetter("action"), unique)
        else {}
    )
    # The claims, and the outcome of each key not claimed (the first of the delivery's).
    claims, unclaimed = activities.claim_many(
        kit.sessions,
        unique,
        now=kit.now(),
        lease=kit.limits.lease,
        first_choices=choices,
    )
    done: dict[ActionKey[Action], Outcome] = dict(unclaimed)
    endings: list[tuple[Claim, CarriedOut]] = []
    ending_ids: set[int] = set()
    failed: list[tuple[Claim, BaseException]] = []
    # What succeeding actions' LLM calls billed: charged in one round trip and recorded
    # by the finish statement, not a transaction and a statement each.
    spent: list[Spent] = []
    # The batch's gallery calls admitted by the shared limits at once (one round trip to
    # Redis for all of them, when the gallery is behind limits that can do that), and
    # carried out on the process's threads. Every key of a batch of many is of a
    # batchable kind (``perform_batch``); a single action is a batch of one, carried out
    # in this thread, whose call is admitted on its own.
    running: list[tuple[Claim, Callable[[], CarriedOut]]] = []
    with ExitStack() as admitted:
        if len(claims) > 1:  # admitted before the threads start their calls
            admitted.enter_context(admitted_at_once(kit.gallery, len(claims)))
            running = _carrying_out(kit, claims, threads, spent.append)
        elif claims:
            running = [(claims[0], partial(carry_out, kit, claims[0], spent.append))]
        for claim, result in running:
            try:
                carried = result()
            except UnderReview:  # a like under review (FLEET_REVIEW__KINDS): its draft
                done[claim.key] = drafted(kit, claim)
            except (Exception, TimeLimitExceeded) as error:  # the limit: this one's failure
                failed.append((claim, error))
            else:
                endings.append((claim, carried))
                ending_ids.add(claim.id)
    # What the ending actions billed is recorded with their end; that of an action that
    # failed after all, charged and kept on its activity.
    ending_spent: list[Spent] = []
    failed_spent: list[Spent] = []
    for billed in spent:
        (ending_spent if billed[0] in ending_ids else failed_spent).append(billed)
    if failed_spent:
        keep_failed_spending(kit, failed_spent)
    done |= end(kit, endings, ending_spent)
    for claim, raised in failed:
        done[claim.key] = settle(claim.key, raised)
    return done
