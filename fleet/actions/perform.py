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

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Generic, TypeVar

from fleet import activities
from fleet.actions import comment as commenting
from fleet.actions import engage, needs, post, reply, review
from fleet.actions.common import Effect
from fleet.actions.kit import ActionKit, Event
from fleet.activities import Claim, Held
from fleet.activities.commands import (
    AlreadyFinished,
    CarriedOut,
    Drafted,
    HeldElsewhere,
    Performed,
    Skipped,
    Succeeded,
)
from fleet.content.budget import usage_record
from fleet.content.port import Usage
from fleet.core.kinds import KINDS, Action, ActionKey
from fleet.errors import PermanentError, Skip, UnderReview, UnknownPersona
from fleet.gallery.port import Gallery

Needs = TypeVar("Needs")
# What one succeeding action's LLM calls billed: (activity id, agent id, usage).
Spent = tuple[int, int, Usage]


@dataclass(frozen=True, slots=True)
class Handler(Generic[Needs]):
    """A kind's handler and what it needs, narrowed from the kit (``fleet.actions.needs``)."""

    narrow: Callable[[ActionKit, needs.Spent, Gallery | None], Needs]
    handle: Callable[[Needs, Claim, bool], Effect]

    def __call__(
        self,
        kit: ActionKit,
        claim: Claim,
        last_attempt: bool,
        spent: needs.Spent,
        gallery: Gallery | None = None,
    ) -> Effect:
        return self.handle(self.narrow(kit, spent, gallery), claim, last_attempt)


# The handler of each kind of action in the registry (``fleet.core.kinds``).
HANDLERS: dict[Action, Handler[Any]] = {
    Action.POST: Handler(needs.for_post, post.handle),
    Action.COMMENT: Handler(needs.for_comment, commenting.handle),
    Action.REPLY: Handler(needs.for_reply, reply.handle),
    Action.LIKE: Handler(needs.for_like, engage.like),
    Action.BROWSE: Handler(needs.for_browse, engage.browse),
}
if set(HANDLERS) != set(KINDS):
    raise RuntimeError(
        f"kinds without a handler: {sorted(set(KINDS) - set(HANDLERS))}; "
        f"handlers without a kind: {sorted(set(HANDLERS) - set(KINDS))}"
    )


def perform(kit: ActionKit, key: ActionKey[Action]) -> Performed:
    """Carry out the action ``key`` names (a value: parsed once, where a task or an
    approval took it), or return at once if it already ended.

    An action of a batchable kind (a like, a browse) is a batch of one
    (``fleet.actions.batch.perform_one``): one claim path and one chooser for both."""
    if KINDS[key.action].batchable:
        from fleet.actions.batch import perform_one  # the batch builds on this module

        return perform_one(kit, key)
    claim = activities.claim(kit.sessions, str(key), now=kit.now(), lease=kit.limits.lease)
    if claim is None:
        return AlreadyFinished()
    if isinstance(claim, Held):
        # Another delivery holds it (a copy re-sent while the first was queued or running):
        # no second LLM call, no second effect. Should the holder die, its lease runs out
        # and the sweeper sends the action again.
        return HeldElsewhere()
    spent: list[Spent] = []
    try:
        ending = carry_out(kit, claim, spent.append)
    except UnderReview:
        return drafted(kit, claim)
    except Exception:
        keep_failed_spending(kit, spent)
        raise
    # The batch's end for a batch of one: on Postgres one statement (the terminal update
    # and the ledger's row), not a transaction of two; then the listeners.
    return end(kit, [(claim, ending)], spent)[claim.key]


# A listener of the action-ended event (Locust's ``events``), fired once per delivery after
# its finish statement: the kit, each action this delivery ended with its outcome (not
# those another delivery's end came first to), what the delivery's LLM calls billed, and
# when.
Listener = Callable[
    [ActionKit, Sequence[tuple[Claim, CarriedOut]], Sequence[Spent], datetime], None
]


def _charge(
    kit: ActionKit, ended: Sequence[tuple[Claim, CarriedOut]], spent: Sequence[Spent], now: datetime
) -> None:
    """The LLM budgets charged what the actions billed (at once, when the budget can)."""
    if spent:
        kit.limits.spending.record_many([(agent_id, usage) for _, agent_id, usage in spent])


def _remember(
    kit: ActionKit, ended: Sequence[tuple[Claim, CarriedOut]], spent: Sequence[Spent], now: datetime
) -> None:
    """What the actions this delivery ended did, in their agents' memories (and the
    vectors of the posts they published, for the feeds' readers)."""
    if kit.authorship.voice.recall is not None:
        kit.authorship.voice.recall.remember(ended, now=now)


def _announce_all(
    kit: ActionKit, ended: Sequence[tuple[Claim, CarriedOut]], spent: Sequence[Spent], now: datetime
) -> None:
    """The live feed's events of the ends this delivery wrote, together (one round trip
    to Redis when the channel can)."""
    kit.feed.all([event(kit, subject(claim), o.status, o.detail) for claim, o in ended])


# The action-ended event's listeners: the LLM charges, the memories and the posts'
# vectors, the live feed.
LISTENERS: tuple[Listener, ...] = (_charge, _remember, _announce_all)


def end(
    kit: ActionKit, endings: Sequence[tuple[Claim, CarriedOut]], spent: list[Spent]
) -> dict[str, Succeeded | Skipped | AlreadyFinished]:
    """End these claimed actions as their outcomes say, in one statement (what the
    succeeding ones billed recorded on them), then fire the action-ended event to its
    ``LISTENERS`` with the ones this delivery ended: each key's outcome."""
    usages = {activity_id: usage_record(usage) for activity_id, _, usage in spent}
    written = [
        (claim, replace(outcome, usage=usages[claim.id]) if claim.id in usages else outcome)
        for claim, outcome in endings
    ]
    now = kit.now()
    ended = activities.finish_many(kit.sessions, [o for _, o in written], now=now)
    wrote = [(claim, outcome) for claim, outcome in written if claim.id in ended]
    for listener in LISTENERS:
        listener(kit, wrote, spent, now)
    return {
        claim.key: outcome if claim.id in ended else AlreadyFinished(claim.id, outcome.detail)
        for claim, outcome in written
    }


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
    rival = review.rival(kit, claim)
    if rival is not None:
        reason = f"draft {rival} of this agent already answers the same post"
        return end(kit, [(claim, Skipped(claim.id, reason))], [])[claim.key]
    draft_id = review.hold(kit, claim)
    if draft_id is None:
        return AlreadyFinished(claim.id)
    outcome = Drafted(claim.id, draft_id)
    _announce(kit, claim, outcome.status, outcome.detail)
    return outcome


def carry_out(
    kit: ActionKit,
    claim: Claim,
    spent: Callable[[Spent], None] | None = None,
    gallery: Gallery | None = None,
) -> CarriedOut:
    """Do the claimed action (no transaction open): how it ends, succeeded or skipped.
    ``gallery``: the one its calls go through (a batch's, admitted at once; None: the
    kit's).

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
        handler = HANDLERS[Action(claim.action)]
        result, engagement = handler(kit, claim, last_attempt, spent, gallery)
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
    action: str
    key: str


def event(kit: ActionKit, ended: FeedSubject, status: str, detail: dict[str, Any] | None) -> Event:
    """The live feed's event of an activity's end (``fleet:activity``), with the agent's
    local time (what a person reads: "09:31 local")."""
    now = kit.now()
    try:
        local = now.astimezone(kit.personas.zone(ended.persona)).strftime("%H:%M")
    except UnknownPersona:
        local = None
    return {
        "activity_id": ended.activity_id,
        "agent_id": ended.agent_id,
        "handle": ended.handle,
        "persona": ended.persona,
        "action": ended.action,
        "status": status,
        "key": ended.key,
        "detail": detail or {},
        "at": now.isoformat(),
        "local_time": local,
    }


def announce(
    kit: ActionKit, ended: FeedSubject, status: str, detail: dict[str, Any] | None
) -> None:
    """Publish the event of an activity's end on the live feed."""
    kit.feed.publish(event(kit, ended, status, detail))


def subject(claim: Claim) -> FeedSubject:
    """The live feed's subject of a claimed activity."""
    actor = claim.actor
    return FeedSubject(claim.id, actor.id, actor.handle, actor.persona, claim.action, claim.key)


def _announce(kit: ActionKit, claim: Claim, status: str, detail: dict[str, Any] | None) -> None:
    announce(kit, subject(claim), status, detail)
