"""Drafts: actions under review, written and waiting for an owner's decision.

A content action of an agent under review claims, writes and keeps its text and image as
any action does, then stops: ``hold_for_review`` turns its activity ``awaiting_review``
(no lease: the sweeper never re-sends it) and records its draft, in one transaction.

Every decision is a conditional update of the draft ``WHERE status = 'pending'``: of two
owners deciding at once, exactly one wins, and the other is told how it was decided.
An approval puts the activity back to ``pending``, marked approved, with its lease set
to its publication time: the lease sweeper sends it then, and it publishes through the
action's own idempotent path with its own key. A rejection or an expiry ends the
activity ``skipped`` with its reason.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from fleet.core.review import rejected_as
from fleet.core.statuses import ActivityStatus, DraftStatus
from fleet.db.engine import insert_ignoring
from fleet.db.models import Agent, AgentActivity, Draft

DRAFTS = cast(Table, Draft.__table__)
# The mark an approval leaves on the activity's content: the action publishes.
APPROVED = "approved"
EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class DraftView:
    """One draft as people see it: the action, its agent, what it wrote, where it stands."""

    id: int
    activity_id: int
    agent_id: int
    handle: str
    persona: str
    action: str
    key: str
    status: DraftStatus
    content: dict[str, Any]
    target_post_id: str | None
    reason: str | None
    created_at: datetime
    expires_at: datetime
    decided_at: datetime | None
    publish_at: datetime | None
    edited_at: datetime | None
    activity_status: ActivityStatus
    # How the activity ended (its skip reason), or its result once published.
    ending: str | None
    result: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class DraftFilter:
    """Which drafts a list shows, newest first."""

    status: str | None = None
    agent_id: int | None = None
    persona: str | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True, slots=True)
class DraftDecision:
    """What a decision on one draft did: ``done`` (this call decided it) or found it
    decided already as ``status``."""

    draft_id: int
    status: DraftStatus
    done: bool
    reason: str | None = None


_VIEW = (
    select(
        Draft.id,
        Draft.activity_id,
        Draft.agent_id,
        Agent.handle,
        Agent.persona,
        AgentActivity.action,
        AgentActivity.idempotency_key,
        Draft.status,
        AgentActivity.content,
        AgentActivity.target_post_id,
        Draft.reason,
        Draft.created_at,
        Draft.expires_at,
        Draft.decided_at,
        Draft.publish_at,
        Draft.edited_at,
        AgentActivity.status,
        AgentActivity.error,
        AgentActivity.result,
    )
    .join(AgentActivity, AgentActivity.id == Draft.activity_id)
    .join(Agent, Agent.id == Draft.agent_id)
)


def _view(row: Any) -> DraftView:
    values = list(row)
    values[8] = dict(values[8] or {})
    return DraftView(*values)


def hold_for_review(
    sessions: sessionmaker[Session], activity_id: int, *, now: datetime, expires_at: datetime
) -> int | None:
    """Stop a pending activity at its draft: ``awaiting_review``, no lease, its draft
    recorded; the draft's id, or None if the activity was no longer pending."""
    with sessions.begin() as session:
        held = session.execute(
            update(AgentActivity)
            .where(AgentActivity.id == activity_id, AgentActivity.status == ActivityStatus.PENDING)
            .values(
                status=ActivityStatus.AWAITING_REVIEW.value,
                claimed_by=None,
                lease_expires_at=None,
                updated_at=now,
            )
            .returning(AgentActivity.agent_id, AgentActivity.usage)
        ).first()
        if held is None:
            return None
        session.execute(
            insert_ignoring(session, DRAFTS, "activity_id").values(
                activity_id=activity_id,
                agent_id=held.agent_id,
                status=DraftStatus.PENDING.value,
                created_at=now,
                expires_at=expires_at,
                cost_usd=_cost(held.usage),
            )
        )
        found = session.scalar(select(Draft.id).where(Draft.activity_id == activity_id))
        assert found is not None
        return found


def rival_draft(sessions: sessionmaker[Session], activity_id: int) -> int | None:
    """Another draft, pending or approved, of the same agent and kind for the same target
    (a comment's post, a reply's comment) as this activity's: its id, or None. One comment
    of an agent per post: the second draft would be a second comment."""
    this = AgentActivity.__table__.alias("this")
    statement = (
        select(Draft.id)
        .join(AgentActivity, AgentActivity.id == Draft.activity_id)
        .join(
            this,
            (this.c.agent_id == AgentActivity.agent_id)
            & (this.c.action == AgentActivity.action)
            & (this.c.target_post_id == AgentActivity.target_post_id),
        )
        .where(
            this.c.id == activity_id,
            AgentActivity.id != activity_id,
            Draft.status.in_((DraftStatus.PENDING.value, DraftStatus.APPROVED.value)),
        )
        .limit(1)
    )
    with sessions() as session:
        return session.scalar(statement)


def draft_of(sessions: sessionmaker[Session], draft_id: int) -> DraftView | None:
    """One draft, or None."""
    with sessions() as session:
        row = session.execute(_VIEW.where(Draft.id == draft_id)).first()
    return None if row is None else _view(row)


def list_drafts(sessions: sessionmaker[Session], where: DraftFilter) -> list[DraftView]:
    """A page of drafts, newest first."""
    statement = _VIEW
    if where.status is not None:
        statement = statement.where(Draft.status == where.status)
    if where.agent_id is not None:
        statement = statement.where(Draft.agent_id == where.agent_id)
    if where.persona is not None:
        statement = statement.where(Agent.persona == where.persona)
    statement = statement.order_by(Draft.id.desc()).limit(where.limit).offset(where.offset)
    with sessions() as session:
        return [_view(row) for row in session.execute(statement)]


def next_moments(
    sessions: sessionmaker[Session], draft_ids: list[int]
) -> dict[int, datetime | None]:
    """Per draft, its agent's next tick when the agent is active (None otherwise)."""
    statement = (
        select(Draft.id, Agent.status, Agent.deleted_at, Agent.next_tick_at)
        .join(Agent, Agent.id == Draft.agent_id)
        .where(Draft.id.in_(draft_ids))
    )
    with sessions() as session:
        return {
            row.id: row.next_tick_at if row.status == "active" and row.deleted_at is None else None
            for row in session.execute(statement)
        }


def _decided_already(session: Session, draft_id: int) -> DraftDecision | None:
    status = session.scalar(select(Draft.status).where(Draft.id == draft_id))
    return None if status is None else DraftDecision(draft_id, status, done=False)


def approve(
    sessions: sessionmaker[Session], draft_id: int, *, now: datetime, publish_at: datetime
) -> DraftDecision | None:
    """Approve a pending draft: its action is pending again, marked approved, to be sent
    at ``publish_at`` (its lease). None if there is no such draft."""
    with sessions.begin() as session:
        won = session.execute(
            update(Draft)
            .where(Draft.id == draft_id, Draft.status == DraftStatus.PENDING.value)
            .values(status=DraftStatus.APPROVED.value, decided_at=now, publish_at=publish_at)
            .returning(Draft.activity_id)
        ).first()
        if won is None:
            return _decided_already(session, draft_id)
        activity = session.get_one(AgentActivity, won.activity_id, with_for_update=True)
        if activity.status != ActivityStatus.AWAITING_REVIEW.value:
            return DraftDecision(draft_id, DraftStatus.APPROVED, done=True)
        try:
            with session.begin_nested():
                activity.status = ActivityStatus.PENDING
                activity.content = {**(activity.content or {}), APPROVED: True}
                # Nothing of it reached the gallery (it stopped before): its publication
                # starts afresh, so an agent paused or deleted meanwhile publishes nothing.
                activity.deliveries = 0
                activity.claimed_by = None
                activity.lease_expires_at = publish_at
                activity.updated_at = now
                session.flush()
        except IntegrityError:
            # Another action of this agent in flight holds the same post: one comment of
            # an agent per post, so this one ends.
            reason = "approved, but another action of this agent holds the same post"
            session.refresh(activity)
            _end(session, activity.id, reason, now)
            return DraftDecision(draft_id, DraftStatus.APPROVED, done=True, reason=reason)
        return DraftDecision(draft_id, DraftStatus.APPROVED, done=True)


def _end(session: Session, activity_id: int, reason: str, now: datetime) -> None:
    session.execute(
        update(AgentActivity)
        .where(
            AgentActivity.id == activity_id,
            AgentActivity.status == ActivityStatus.AWAITING_REVIEW.value,
        )
        .values(
            status=ActivityStatus.SKIPPED.value,
            error=reason,
            finished_at=now,
            updated_at=now,
            lease_expires_at=None,
            claimed_by=None,
        )
    )


def reject(
    sessions: sessionmaker[Session], draft_id: int, *, now: datetime, reason: str | None
) -> DraftDecision | None:
    """Reject a pending draft: its action ends skipped, "rejected: REASON". None if there
    is no such draft."""
    with sessions.begin() as session:
        won = session.execute(
            update(Draft)
            .where(Draft.id == draft_id, Draft.status == DraftStatus.PENDING.value)
            .values(status=DraftStatus.REJECTED.value, decided_at=now, reason=reason or None)
            .returning(Draft.activity_id)
        ).first()
        if won is None:
            return _decided_already(session, draft_id)
        _end(session, won.activity_id, rejected_as(reason), now)
        return DraftDecision(draft_id, DraftStatus.REJECTED, done=True, reason=rejected_as(reason))


def expire_due(sessions: sessionmaker[Session], *, now: datetime, limit: int = 1000) -> list[int]:
    """Expire the pending drafts past their time: each action ends skipped, "expired".
    The drafts expired by this call."""
    with sessions.begin() as session:
        due = list(
            session.execute(
                select(Draft.id, Draft.activity_id)
                .where(Draft.status == DraftStatus.PENDING.value, Draft.expires_at <= now)
                .order_by(Draft.expires_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        if not due:
            return []
        ids = [row.id for row in due]
        session.execute(
            update(Draft)
            .where(Draft.id.in_(ids), Draft.status == DraftStatus.PENDING.value)
            .values(status=DraftStatus.EXPIRED.value, decided_at=now)
        )
        for row in due:
            _end(session, row.activity_id, EXPIRED, now)
        return ids


def edit(
    sessions: sessionmaker[Session], draft_id: int, changes: dict[str, str], *, now: datetime
) -> DraftDecision | None:
    """Change a pending draft's text (keys of its activity's content); a decided draft is
    left as it is. None if there is no such draft."""
    with sessions.begin() as session:
        won = session.execute(
            update(Draft)
            .where(Draft.id == draft_id, Draft.status == DraftStatus.PENDING.value)
            .values(edited_at=now)
            .returning(Draft.activity_id)
        ).first()
        if won is None:
            return _decided_already(session, draft_id)
        activity = session.get_one(AgentActivity, won.activity_id, with_for_update=True)
        activity.content = {**(activity.content or {}), **changes, "edited": True}
        activity.updated_at = now
        return DraftDecision(draft_id, DraftStatus.PENDING, done=True)


@dataclass(frozen=True, slots=True)
class DraftStats:
    """Drafts waiting, and the decisions since a time: counts, the approval rate (of the
    owner's decisions), the median time to a decision, and what rejected drafts cost."""

    waiting: int
    approved: int
    rejected: int
    expired: int
    median_decision_seconds: float | None
    rejected_cost_usd: float

    @property
    def approval_rate(self) -> float | None:
        decided = self.approved + self.rejected
        return None if decided == 0 else self.approved / decided


# The latest decisions the median time to a decision is taken over (the recent pace of
# review): a bounded read however many drafts a window holds.
MEDIAN_OF = 201


def _cost(usage: object) -> float | None:
    """The USD an activity's ``usage`` says writing it cost (None: not said)."""
    spent = usage.get("cost_usd") if isinstance(usage, dict) else None
    return float(spent) if isinstance(spent, int | float) and not isinstance(spent, bool) else None


def _waiting(session: Session) -> int:
    pending = Draft.status == DraftStatus.PENDING.value
    return int(session.scalar(select(func.count()).select_from(Draft).where(pending)) or 0)


def waiting_drafts(sessions: sessionmaker[Session]) -> int:
    """How many drafts wait for review (from ``ix_drafts_status_expires_at`` alone)."""
    with sessions() as session:
        return _waiting(session)


def draft_stats(
    sessions: sessionmaker[Session], *, since: datetime, until: datetime | None = None
) -> DraftStats:
    """The drafts waiting now, and those decided since ``since`` (and before ``until``):
    counted by status, the rejected ones' cost summed, from a range of
    ``ix_drafts_status_decided_at`` per status alone; the median time to a decision over
    the latest ``MEDIAN_OF`` approved and the latest ``MEDIAN_OF`` rejected. No read
    touches the activities, nor grows with the drafts but by the window's decisions."""
    window = (
        Draft.decided_at >= since,
        true() if until is None else Draft.decided_at < until,
    )
    decided = [status.value for status in DraftStatus if status != DraftStatus.PENDING]
    with sessions() as session:
        waiting = _waiting(session)
        # One range of (status, decided_at) per decided status, each read from the index.
        counted = session.execute(
            select(Draft.status, func.count(), func.sum(Draft.cost_usd))
            .where(Draft.status.in_(decided), *window)
            .group_by(Draft.status)
        ).all()
        latest = [
            row
            for status in (DraftStatus.APPROVED.value, DraftStatus.REJECTED.value)
            for row in session.execute(
                select(Draft.decided_at, Draft.created_at)
                .where(Draft.status == status, *window)
                .order_by(Draft.decided_at.desc())
                .limit(MEDIAN_OF)
            )
        ]
    latest = sorted(latest, key=lambda row: row.decided_at, reverse=True)[:MEDIAN_OF]
    counts = {status.value: 0 for status in DraftStatus}
    cost = 0.0
    for status, count, spent in counted:
        counts[status] = int(count)
        if status == DraftStatus.REJECTED:
            cost = float(spent or 0.0)
    waits = [(row.decided_at - row.created_at).total_seconds() for row in latest]
    return DraftStats(
        waiting,
        counts[DraftStatus.APPROVED],
        counts[DraftStatus.REJECTED],
        counts[DraftStatus.EXPIRED],
        statistics.median(waits) if waits else None,
        round(cost, 6),
    )
