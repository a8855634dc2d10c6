"""Use cases of review mode: put agents under review, list drafts, and decide them.

Every face (the CLI, the console) calls these. A decision on several drafts checks all
of its input first (every id known, the reason short enough): a bad one changes nothing.
An approval publishes nothing at the click: each approved action is pending again with
its publication time as its lease, and the lease sweeper sends it then (``--here``: it is
carried out in this process, now).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from fleet import agents
from fleet.activities import drafts as store
from fleet.activities import recent_texts_of
from fleet.activities.drafts import DraftDecision, DraftFilter, DraftStats, DraftView
from fleet.agents import Selection, Transition
from fleet.agents.review import set_review
from fleet.core.review import CAPTION_MAX, TEXT_MAX, ReviewMode, publish_times, reason_problem
from fleet.core.statuses import DRAFT_STATUSES, ActivityStatus, DraftStatus
from fleet.errors import InputError, UnknownPersona
from fleet.infra.logs import get_logger
from fleet.service.root import Fleet

log = get_logger("fleet.drafts")

__all__ = [
    "DRAFT_STATUSES",
    "Approval",
    "DraftDecision",
    "DraftStats",
    "DraftView",
    "Publish",
    "ReviewMode",
    "approve",
    "edit",
    "expire",
    "find",
    "review",
    "show",
    "stats",
]


def review(fleet: Fleet, selection: Selection, mode: ReviewMode) -> Transition:
    """Put the selected agents under review mode, or take them out of it."""
    return set_review(fleet.sessions, fleet.personas, selection, mode, now=fleet.clock.now())


def find(
    fleet: Fleet,
    *,
    status: str | None = None,
    agent: str | None = None,
    persona: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[DraftView]:
    """A page of drafts, newest first."""
    if status is not None and status not in DRAFT_STATUSES:
        raise InputError(f"unknown draft status {status!r}; one of {', '.join(DRAFT_STATUSES)}")
    if persona is not None:
        fleet.personas.get(persona)
    if not 1 <= limit <= 1000:
        raise InputError(f"limit must be between 1 and 1000 (got {limit})")
    agent_id = None if agent is None else agents.get_agent(fleet.sessions, agent).id
    where = DraftFilter(status, agent_id, persona, limit, offset)
    return store.list_drafts(fleet.sessions, where)


def show(fleet: Fleet, draft_id: int) -> DraftView:
    """One draft; InputError if there is none."""
    found = store.draft_of(fleet.sessions, draft_id)
    if found is None:
        raise InputError(f"no draft {draft_id}")
    return found


def _known(fleet: Fleet, draft_ids: Sequence[int]) -> list[int]:
    """The ids once each, in order; InputError naming the first unknown one."""
    if not draft_ids:
        raise InputError("name at least one draft by its id")
    ids = list(dict.fromkeys(draft_ids))
    for draft_id in ids:
        if draft_id < 1 or store.draft_of(fleet.sessions, draft_id) is None:
            raise InputError(f"no draft {draft_id}")
    return ids


@dataclass(frozen=True, slots=True)
class Approval:
    """What approving one draft did, and (``here``) how its publication ended."""

    decided: DraftDecision
    publish_at: str | None = None
    outcome: str | None = None
    detail: dict[str, object] | None = None


class Publish(StrEnum):
    """When an approved draft is published: at its agent's next session, as soon as the
    sweeper sends it (``NOW``), or carried out in this process at once (``HERE``)."""

    AT_NEXT_SESSION = "at-next-session"
    NOW = "now"
    HERE = "here"


def approve(
    fleet: Fleet, draft_ids: Sequence[int], *, when: Publish = Publish.AT_NEXT_SESSION
) -> list[Approval]:
    """Approve drafts. Each publishes ``when`` asked (at its agent's next session unless
    the setting ``FLEET_REVIEW__PUBLISH_NOW`` says as soon as the sweeper sends it),
    approvals spaced apart but those published here. A draft decided already is left as
    it was (``DraftDecision.done`` False)."""
    ids = _known(fleet, draft_ids)
    settings = fleet.settings.review
    at = fleet.clock.now()
    here = when is Publish.HERE
    soon = when is not Publish.AT_NEXT_SESSION or settings.publish_now
    moments = store.next_moments(fleet.sessions, ids)
    times = publish_times(
        at,
        [None if soon else moments.get(draft_id) for draft_id in ids],
        spacing=timedelta(seconds=0 if here else settings.spacing_seconds),
        rng=random.Random(),
    )
    approvals = []
    for draft_id, publish_at in zip(ids, times, strict=True):
        decided = store.approve(fleet.sessions, draft_id, now=at, publish_at=publish_at)
        assert decided is not None  # known above; drafts are never deleted alone
        approvals.append(Approval(decided, publish_at.isoformat()))
    if here:
        return [_publish_here(fleet, approval) for approval in approvals]
    return approvals


def _publish_here(fleet: Fleet, approval: Approval) -> Approval:
    """Carry out a draft just approved in this process (a failure is settled as a
    worker's is, without retries: it ends skipped or dead)."""
    if not approval.decided.done or approval.decided.reason is not None:
        return approval
    from fleet.actions import perform
    from fleet.actions.failures import settle
    from fleet.activities.outcomes import AlreadyFinished
    from fleet.core.kinds import kind_of, parsed_key

    view = show(fleet, approval.decided.draft_id)
    kit = fleet.action_kit
    key = parsed_key(view.key)  # the one parse of a key, as a task's entry does it
    if isinstance(key, str):  # no activity can have it: nothing left to publish
        return Approval(
            approval.decided, approval.publish_at, AlreadyFinished.status, {"reason": ""}
        )
    try:
        outcome = perform(kit, key)
    except Exception as error:
        task = kind_of(view.action).task
        settled = settle(kit, key, task, error, deferrals=0, secrets=fleet.secrets, retry=False)
        # Without retries, settling ends it: skipped or dead, with why.
        reason = "" if isinstance(settled, AlreadyFinished) else settled.reason
        return Approval(approval.decided, approval.publish_at, settled.status, {"reason": reason})
    return Approval(approval.decided, approval.publish_at, outcome.status, outcome.detail)


def reject(
    fleet: Fleet, draft_ids: Sequence[int], *, reason: str | None = None
) -> list[DraftDecision]:
    """Reject drafts: each action ends skipped, "rejected: REASON"."""
    if reason is not None:
        problem = reason_problem(reason)
        if problem is not None:
            raise InputError(problem)
        reason = reason.strip() or None
    ids = _known(fleet, draft_ids)
    at = fleet.clock.now()
    decided = [store.reject(fleet.sessions, draft_id, now=at, reason=reason) for draft_id in ids]
    done = [d for d in decided if d is not None]
    _announce_ends(fleet, [d.draft_id for d in done if d.done])
    return done


def expire(fleet: Fleet) -> list[int]:
    """Expire the drafts past ``FLEET_REVIEW__EXPIRES_HOURS``: each action ends skipped,
    "expired". The drafts expired now."""
    expired: list[int] = []
    while True:
        batch = store.expire_due(fleet.sessions, now=fleet.clock.now())
        expired += batch
        if len(batch) < 1000:
            break
    _announce_ends(fleet, expired)
    return expired


def _announce_ends(fleet: Fleet, draft_ids: list[int]) -> None:
    """Tell the live feed (when there is one) how these drafts' actions ended: skipped,
    with the reason. The feed is told, not relied on: a decision stands if it is down."""
    if not draft_ids or (fleet.publish is None and fleet.settings.redis_url is None):
        return
    publish = fleet.publish or fleet.activity_channel.publish
    now = fleet.clock.now()
    try:
        for draft_id in draft_ids[:1000]:
            draft = store.draft_of(fleet.sessions, draft_id)
            if draft is None or draft.activity_status != ActivityStatus.SKIPPED:
                continue
            try:
                local: str | None = now.astimezone(fleet.personas.zone(draft.persona)).strftime(
                    "%H:%M"
                )
            except UnknownPersona:
                local = None
            publish(
                {
                    "activity_id": draft.activity_id,
                    "agent_id": draft.agent_id,
                    "handle": draft.handle,
                    "persona": draft.persona,
                    "action": draft.action,
                    "status": ActivityStatus.SKIPPED.value,
                    "key": draft.key,
                    "detail": {"reason": draft.ending, "draft_id": draft.id},
                    "at": now.isoformat(),
                    "local_time": local,
                }
            )
    except Exception as error:  # the feed's Redis down: the decisions are made and kept
        log.warning("draft endings not announced", error=f"{type(error).__name__}: {error}")


def edit(
    fleet: Fleet, draft_id: int, *, text: str, description: str | None = None
) -> DraftDecision:
    """Change a pending draft's text (a post's caption, and its description if given; a
    comment's or reply's text) once the guard accepts it; InputError with the guard's
    reason otherwise, the draft unchanged."""
    draft = show(fleet, draft_id)
    if draft.status != DraftStatus.PENDING:
        return DraftDecision(draft_id, draft.status, done=False)
    changes = _changes(draft, text.strip(), None if description is None else description.strip())
    from fleet.content.factory import build_guard

    guard = build_guard(fleet.settings, fleet.claim_check)
    own = recent_texts_of(fleet.sessions, agent_id=draft.agent_id, limit=20)
    everyone = recent_texts_of(fleet.sessions, limit=200)
    mentionable = [str(draft.content[k]) for k in ("author", "to") if draft.content.get(k)]
    for value in changes.values():
        verdict = guard.check(
            value, own_recent=own, fleet_recent=everyone, allowed_mentions=mentionable
        )
        if not verdict.ok:
            raise InputError(
                f"the guard refuses the new text: {verdict.reason}; draft {draft_id} unchanged"
            )
    decided = store.edit(fleet.sessions, draft_id, changes, now=fleet.clock.now())
    assert decided is not None
    return decided


def _changes(draft: DraftView, text: str, description: str | None) -> dict[str, str]:
    if not text:
        raise InputError("--text is empty")
    if draft.action == "post":
        if len(text) > CAPTION_MAX:
            raise InputError(f"a caption is at most {CAPTION_MAX} characters (got {len(text)})")
        changes = {"title": text}
        if description is not None:
            if len(description) > TEXT_MAX:
                raise InputError(f"a description is at most {TEXT_MAX} characters")
            changes["description"] = description
        return changes
    if description is not None:
        raise InputError(f"a {draft.action} has no description: give --text only")
    if len(text) > TEXT_MAX:
        raise InputError(f"a {draft.action} is at most {TEXT_MAX} characters (got {len(text)})")
    return {"text": text}


def waiting(fleet: Fleet) -> int:
    """How many drafts wait for review now (what the Drafts page's heading says)."""
    return store.waiting_drafts(fleet.sessions)


def stats(fleet: Fleet, *, days: float = 7.0) -> DraftStats:
    """Drafts waiting now, and the decisions of the last ``days``."""
    since = fleet.clock.now() - timedelta(days=days)
    return store.draft_stats(fleet.sessions, since=since)
