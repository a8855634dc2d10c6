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

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from fleet import activities
from fleet.actions import comment as commenting
from fleet.actions import engage, needs, post, reply, review
from fleet.actions.common import Handled
from fleet.actions.kit import ActionKit
from fleet.actions.outcomes import (
    AlreadyFinished,
    Drafted,
    HeldElsewhere,
    Performed,
    Skipped,
    Succeeded,
)
from fleet.activities import Claim, Held
from fleet.core.action_key import ActionKey
from fleet.core.kinds import KINDS, Action
from fleet.errors import PermanentError, Skip, UnderReview, UnknownPersona

Needs = TypeVar("Needs")


@dataclass(frozen=True, slots=True)
class Handler(Generic[Needs]):
    """A kind's handler and what it needs, narrowed from the kit (``fleet.actions.needs``)."""

    narrow: Callable[[ActionKit], Needs]
    handle: Callable[[Needs, Claim, bool], Handled]

    def __call__(self, kit: ActionKit, claim: Claim, last_attempt: bool) -> Handled:
        return self.handle(self.narrow(kit), claim, last_attempt)


# The handler of each kind of action in the registry (``fleet.core.kinds``).
HANDLERS: dict[Action, Callable[[ActionKit, Claim, bool], Handled]] = {
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


def perform(kit: ActionKit, key: str) -> Performed:
    """Carry out the action ``key`` names, or return at once if it already ended.

    An action of a batchable kind (a like, a browse) is a batch of one
    (``fleet.actions.batch.perform_one``): one claim path and one chooser for both."""
    if _batchable(key):
        from fleet.actions.batch import perform_one  # the batch builds on this module

        return perform_one(kit, key)
    claim = activities.claim(kit.sessions, key, now=kit.now(), lease=kit.lease)
    if claim is None:
        return AlreadyFinished()
    if isinstance(claim, Held):
        # Another delivery holds it (a copy re-sent while the first was queued or running):
        # no second LLM call, no second effect. Should the holder die, its lease runs out
        # and the sweeper sends the action again.
        return HeldElsewhere()
    try:
        ending = carry_out(kit, claim)
    except UnderReview:
        return drafted(kit, claim)
    # The batch's finish for a batch of one: on Postgres one statement (the terminal
    # update and the ledger's row), not a transaction of two.
    ended = claim.id in activities.finish_many(kit.sessions, [ending], now=kit.now())
    if ended and kit.recall is not None:
        kit.recall.remember([(claim, ending)], now=kit.now())
    return ended_as(kit, claim, ending, ended)


_BATCHABLE = frozenset(kind.action.value for kind in KINDS.values() if kind.batchable)


def _batchable(key: str) -> bool:
    try:
        return ActionKey.parse(key).action in _BATCHABLE
    except ValueError:  # not a key: the claim below says so
        return False


def drafted(kit: ActionKit, claim: Claim) -> Performed:
    """Stop the action at its draft (review mode), and say so on the live feed; skipped
    if another draft of its agent already answers the same post."""
    rival = review.rival(kit, claim)
    if rival is not None:
        reason = f"draft {rival} of this agent already answers the same post"
        ending = activities.Ending(claim.id, "skipped", reason=reason)
        ended = claim.id in activities.finish_many(kit.sessions, [ending], now=kit.now())
        return ended_as(kit, claim, ending, ended)
    draft_id = review.hold(kit, claim)
    if draft_id is None:
        return AlreadyFinished(claim.id)
    outcome = Drafted(claim.id, draft_id)
    _announce(kit, claim, outcome.status, outcome.detail)
    return outcome


def carry_out(kit: ActionKit, claim: Claim) -> activities.Ending:
    """Do the claimed action (no transaction open): how it ends, succeeded or skipped.

    Any other failure is raised, for ``fleet.actions.failures.settle`` to judge.
    """
    if claim.deliveries > kit.max_deliveries:
        # Deliveries that never reached a verdict (a worker killed, a message lost) would
        # otherwise come back for ever: this one ends the action.
        raise PermanentError(
            f"delivered {claim.deliveries} times, more than the {kit.max_deliveries} its "
            "attempts, deferrals and lost deliveries allow: its workers died or its "
            "messages were lost before it ended"
        )
    last_attempt = claim.attempts + 1 >= kit.max_attempts
    try:
        if not claim.actor.active and claim.attempts == 0 and claim.deliveries <= 1:
            # Pausing stops new actions. One an earlier delivery began may have reached
            # the gallery (its answer lost): it is finished, looking before it acts, not
            # abandoned as skipped with its effect on the gallery.
            raise Skip(f"agent {claim.actor.handle} is {claim.actor.status}, not active")
        handler = HANDLERS[Action(claim.action)]
        result, engagement = handler(kit, claim, last_attempt)
    except Skip as skip:
        return activities.Ending(claim.id, "skipped", reason=str(skip))
    return activities.Ending(claim.id, "succeeded", result=result, engagement=engagement)


def ended_as(
    kit: ActionKit, claim: Claim, ending: activities.Ending, ended: bool
) -> Succeeded | Skipped | AlreadyFinished:
    """The outcome of a delivery whose ``ending`` was written (``ended``) or found another
    delivery's first; the end is announced on the live feed by the one that wrote it."""
    outcome: Succeeded | Skipped
    if ending.status == "skipped":
        outcome = Skipped(claim.id, ending.reason or "")
    else:
        outcome = Succeeded(claim.id, ending.result)
    if not ended:
        return AlreadyFinished(claim.id, outcome.detail)
    _announce(kit, claim, outcome.status, outcome.detail)
    return outcome


@dataclass(frozen=True, slots=True)
class FeedSubject:
    """The activity an event of the live feed is about (who did what, under which key)."""

    activity_id: int
    agent_id: int
    handle: str
    persona: str
    action: str
    key: str


def announce(
    kit: ActionKit, ended: FeedSubject, status: str, detail: dict[str, Any] | None
) -> None:
    """Publish the event of an activity's end on the live feed (``fleet:activity``), with
    the agent's local time (what a person reads: "09:31 local")."""
    now = kit.now()
    try:
        local = now.astimezone(kit.personas.zone(ended.persona)).strftime("%H:%M")
    except UnknownPersona:
        local = None
    kit.publish(
        {
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
    )


def _announce(kit: ActionKit, claim: Claim, status: str, detail: dict[str, Any] | None) -> None:
    actor = claim.actor
    ended = FeedSubject(claim.id, actor.id, actor.handle, actor.persona, claim.action, claim.key)
    announce(kit, ended, status, detail)
