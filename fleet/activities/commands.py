"""Commands of an activity's life: record, claim, finish exactly once.

Dead letters are in ``dead_letters``, waits and fleet holds in ``holds``, the choice of a
like's or comment's post in ``ledger``.

Every terminal transition is a conditional update ``WHERE status = 'pending'``: of two
workers finishing the same activity (a redelivered message), exactly one wins, and only
the winner writes the engagement ledger.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    String,
    and_,
    bindparam,
    case,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from fleet.activities.kept_targets import ACTIVITIES, AGENTS, ENGAGEMENTS, open_to
from fleet.activities.views import Actor, Claim, FirstChoice, Held
from fleet.core.leases import resend_lease
from fleet.core.statuses import ActivityStatus
from fleet.db.engine import autocommit, insert_ignoring
from fleet.db.models import AgentActivity
from fleet.errors import InputError

# The hot path of every action (claim, target, finish) runs statements built once:
# building and keying a statement per call cost more than the database round trips.

_CLAIMED = (
    ACTIVITIES.c.id,
    ACTIVITIES.c.action,
    ACTIVITIES.c.due_at,
    ACTIVITIES.c.attempts,
    ACTIVITIES.c.deliveries,
    ACTIVITIES.c.content,
    ACTIVITIES.c.target_post_id,
)
_ACTOR = (
    AGENTS.c.id,
    AGENTS.c.handle,
    AGENTS.c.display_name,
    AGENTS.c.persona,
    AGENTS.c.seed,
    AGENTS.c.status,
    AGENTS.c.platform_user_id,
    AGENTS.c.deleted_at.is_not(None),
    AGENTS.c.review,
)
# A claim is exclusive: it takes an activity nobody holds, or one whose holder went
# silent past its lease. Of two deliveries of one action (a re-sent message, a backlog
# older than the lease), the second finds it held and does no work.
_CLAIM = (
    update(ACTIVITIES)
    .where(
        ACTIVITIES.c.idempotency_key == bindparam("key"),
        ACTIVITIES.c.status == ActivityStatus.PENDING,
        or_(
            ACTIVITIES.c.claimed_by.is_(None),
            ACTIVITIES.c.lease_expires_at.is_(None),
            ACTIVITIES.c.lease_expires_at <= bindparam("at"),
        ),
    )
    .values(
        lease_expires_at=bindparam("lease_until"),
        claimed_by=bindparam("token"),
        updated_at=bindparam("at"),
        deliveries=ACTIVITIES.c.deliveries + 1,
    )
)
# Postgres returns the agent with the claim (UPDATE ... FROM agents).
_CLAIM_WITH_ACTOR = _CLAIM.where(AGENTS.c.id == ACTIVITIES.c.agent_id).returning(*_CLAIMED, *_ACTOR)
_CLAIM_ALONE = _CLAIM.returning(*_CLAIMED, ACTIVITIES.c.agent_id)
_ACTOR_OF = select(*_ACTOR).where(AGENTS.c.id == bindparam("agent"))
_KEY_STATE = select(ACTIVITIES.c.status, ACTIVITIES.c.lease_expires_at).where(
    ACTIVITIES.c.idempotency_key == bindparam("key")
)


def _choosing(claim_statement: Any) -> Any:
    """The claim that also keeps ``:post`` as the target of a ``:kind`` without one yet,
    if the post is not the agent's own (``:author``) and is open to the agent."""
    handle = (
        select(AGENTS.c.handle).where(AGENTS.c.id == ACTIVITIES.c.agent_id).correlate(ACTIVITIES)
    )
    return claim_statement.values(
        target_post_id=case(
            (
                and_(
                    ACTIVITIES.c.target_post_id.is_(None),
                    ACTIVITIES.c.action == bindparam("kind"),
                    handle.scalar_subquery() != bindparam("author", type_=String()),
                    open_to(ACTIVITIES.c.agent_id),
                ),
                bindparam("post", type_=String()),
            ),
            else_=ACTIVITIES.c.target_post_id,
        )
    )


# By (database, whether a first choice comes with the claim). Dialect branch: SQLite's
# RETURNING cannot return another table's columns, so the agent is read after the claim.
_CLAIMS = {
    ("postgresql", False): _CLAIM_WITH_ACTOR,
    ("postgresql", True): _choosing(_CLAIM_WITH_ACTOR),
    ("sqlite", False): _CLAIM_ALONE,
    ("sqlite", True): _choosing(_CLAIM_ALONE),
}


def claim(
    sessions: sessionmaker[Session],
    key: str,
    *,
    now: datetime,
    lease: timedelta,
    first_choice: FirstChoice | None = None,
) -> Claim | Held | None:
    """Hold the pending activity ``key`` under a lease; None if it is already terminal,
    Held if another delivery holds it (this one does no work).

    One conditional update: of a delivery finishing the activity and one claiming it, the
    claim waits for the finish and then finds nothing pending. With a ``first_choice``
    the same update keeps its post as the target of a like or comment that has none yet,
    if the post is open to the agent and not its own (``Claim.first_choice_refused``
    says when it was not kept).
    """
    params: dict[str, Any] = {
        "key": key,
        "lease_until": now + lease,
        "at": now,
        "token": secrets.token_hex(8),
    }
    if first_choice is not None:
        params |= {
            "post": first_choice.post_id,
            "author": first_choice.author,
            "kind": first_choice.kind,
            "cap": first_choice.cap_per_hour,
            "since": first_choice.since,
        }
    with autocommit(sessions).connect() as connection:
        try:
            claimed = _claim_row(connection, params, choosing=first_choice is not None)
        except IntegrityError:
            # Another action of this agent in flight holds the post: claim without it.
            claimed = _claim_row(connection, params, choosing=False)
        if claimed is None:
            state = connection.execute(_KEY_STATE, {"key": key}).first()
            if state is None:
                raise InputError(f"no activity with key {key!r}")
            if state.status == ActivityStatus.PENDING:
                return Held(key, state.lease_expires_at)
            return None
    columns, actor = claimed
    return claim_of(key, columns, actor, chose=first_choice is not None)


def claim_of(key: str, columns: Sequence[Any], actor: Sequence[Any], *, chose: bool) -> Claim:
    """A claim from the activity's claimed columns (``_CLAIMED``) and its agent's
    (``_ACTOR``); ``chose``: a first choice came with the claim (refused if no target)."""
    activity_id, action, due_at, attempts, deliveries, content, target_post_id = columns
    return Claim(
        activity_id,
        key,
        action,
        due_at,
        attempts,
        deliveries,
        dict(content or {}),
        target_post_id,
        Actor(*actor),
        first_choice_refused=chose and target_post_id is None,
    )


def _claim_row(
    connection: Connection, params: dict[str, Any], *, choosing: bool
) -> tuple[Sequence[Any], Sequence[Any]] | None:
    """(the activity's columns, the agent's) of the claimed activity, or None."""
    dialect = connection.dialect.name
    row = connection.execute(_CLAIMS[dialect, choosing], params).first()
    if row is None:
        return None
    if dialect == "postgresql":
        return row[: len(_CLAIMED)], row[len(_CLAIMED) :]
    # SQLite cannot return columns of another table: the agent is read next.
    return row[: len(_CLAIMED)], tuple(connection.execute(_ACTOR_OF, {"agent": row[-1]}).one())


def create_activity(
    sessions: sessionmaker[Session],
    agent_id: int,
    action: str,
    due_at: datetime,
    key: str,
    *,
    now: datetime,
    lease: timedelta,
    content: dict[str, Any] | None = None,
) -> int:
    """Record a decided action (or find the one already recorded under ``key``)."""
    with sessions.begin() as session:
        session.execute(
            insert_ignoring(session, AgentActivity, "idempotency_key").values(
                agent_id=agent_id,
                action=action,
                idempotency_key=key,
                status=ActivityStatus.PENDING,
                due_at=due_at,
                lease_expires_at=now + lease,
                content=content,
                created_at=now,
                updated_at=now,
            )
        )
        found = session.scalar(select(AgentActivity.id).where(AgentActivity.idempotency_key == key))
        assert found is not None
        return found


_FIRST_USAGE = (
    update(ACTIVITIES)
    .where(
        ACTIVITIES.c.id == bindparam("activity"),
        ACTIVITIES.c.status == ActivityStatus.PENDING,
        ACTIVITIES.c.usage.is_(None),
    )
    .values(usage=bindparam("usage"), provider=bindparam("provider"), updated_at=bindparam("at"))
    .returning(ACTIVITIES.c.id)
)


def save_progress(
    sessions: sessionmaker[Session],
    activity_id: int,
    *,
    now: datetime,
    content: dict[str, Any] | None = None,
    usage: dict[str, Any] | None = None,
    target_post_id: str | None = None,
) -> None:
    """Keep what an action made so far (text, image, target) so a retry re-uses it."""
    if usage and not content and target_post_id is None:
        # The common case (a browse's thought was billed): the first usage of a pending
        # activity, one statement; usage already there is added to under a lock below.
        with autocommit(sessions).connect() as connection:
            first = connection.execute(
                _FIRST_USAGE,
                {
                    "activity": activity_id,
                    "usage": usage,
                    "provider": usage.get("provider"),
                    "at": now,
                },
            ).first()
            if first is not None:
                return
    with sessions.begin() as session:
        activity = session.get_one(AgentActivity, activity_id, with_for_update=True)
        if activity.status != ActivityStatus.PENDING:
            return
        if content:
            activity.content = {**(activity.content or {}), **content}
        if usage:
            activity.usage = _add_usage(activity.usage, usage)
            activity.provider = usage.get("provider") or activity.provider
        if target_post_id is not None:
            activity.target_post_id = target_post_id
        activity.updated_at = now


def _add_usage(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    if not old:
        return dict(new)
    merged = dict(old)
    for name, value in new.items():
        if isinstance(value, int | float) and isinstance(merged.get(name), int | float):
            merged[name] = merged[name] + value
        else:
            merged[name] = value
    return merged


def release(
    sessions: sessionmaker[Session],
    activity_id: int,
    *,
    until: datetime,
    now: datetime,
    unmade: bool = False,
) -> None:
    """Let go of a pending activity whose delivery will come again (a retry, a wait):
    the next delivery may claim it; past ``until`` with no claim, the sweeper re-sends.

    ``unmade``: the delivery made no call that could have an effect (the fleet's own
    rate limit refused it): its delivery is given back, so that ``deliveries`` counts
    only those that may have reached the gallery, and lost ones."""
    values: dict[str, Any] = {"claimed_by": None, "lease_expires_at": until, "updated_at": now}
    if unmade:
        values["deliveries"] = case(
            (AgentActivity.deliveries > 0, AgentActivity.deliveries - 1), else_=0
        )
    with sessions.begin() as session:
        session.execute(
            update(AgentActivity)
            .where(AgentActivity.id == activity_id, AgentActivity.status == ActivityStatus.PENDING)
            .values(**values)
        )


def record_failure(
    sessions: sessionmaker[Session], activity_id: int, error: str, *, now: datetime
) -> int:
    """Count one failed attempt; returns the attempts so far."""
    with sessions.begin() as session:
        activity = session.get_one(AgentActivity, activity_id, with_for_update=True)
        activity.attempts += 1
        activity.error = error
        activity.updated_at = now
        return activity.attempts


_FINISH = (
    update(ACTIVITIES)
    .where(ACTIVITIES.c.id == bindparam("activity"), ACTIVITIES.c.status == ActivityStatus.PENDING)
    .values(
        status=bindparam("new_status"),
        result=bindparam("outcome"),
        error=bindparam("reason"),
        finished_at=bindparam("at"),
        updated_at=bindparam("at"),
        lease_expires_at=None,
    )
    .returning(ACTIVITIES.c.agent_id, ACTIVITIES.c.action)
)


def finish(
    sessions: sessionmaker[Session],
    activity_id: int,
    status: str,
    *,
    now: datetime,
    result: dict[str, Any] | None = None,
    reason: str | None = None,
    engagement: tuple[str, str] | None = None,
    thought: str | None = None,
) -> bool:
    """End a pending activity as ``succeeded`` or ``skipped``; False if it had already ended.

    The winner writes the engagement ledger (for a kind that engages), in the same
    transaction. What the agent did is read from its activities, not counted on it.
    """
    if status not in (ActivityStatus.SUCCEEDED, ActivityStatus.SKIPPED):
        raise ValueError(f"finish() takes succeeded or skipped, not {status!r}")
    succeeded = status == ActivityStatus.SUCCEEDED
    post_id, kind = engagement if succeeded and engagement is not None else (None, None)
    params = {
        "activity": activity_id,
        "new_status": status,
        "outcome": result,
        "reason": reason,
        "at": now,
    }
    with sessions.begin() as session:
        row = session.execute(_FINISH, params).first()
        if row is None:
            return False
        agent_id, _ = row
        if post_id is not None and kind is not None:
            record_engagement(session, agent_id, activity_id, (post_id, kind), now)
        return True


def record_engagement(
    session: Session, agent_id: int, activity_id: int, engagement: tuple[str, str], now: datetime
) -> None:
    """Add (agent, post, kind) to the engagement ledger; an existing row stays as it is."""
    post_id, kind = engagement
    session.execute(
        insert_ignoring(session, ENGAGEMENTS, "agent_id", "post_id", "kind"),
        {
            "agent_id": agent_id,
            "post_id": post_id,
            "kind": kind,
            "activity_id": activity_id,
            "created_at": now,
        },
    )


def expired_leases(
    sessions: sessionmaker[Session], *, now: datetime, lease: timedelta, limit: int = 1000
) -> list[tuple[int, str, str]]:
    """Pending activities whose lease ran out, leased anew: (id, key, action) to re-send.

    One a delivery held (claimed, its worker gone) gets one ``lease``; one nobody took
    may still wait in a long queue, and gets a lease as long as its wait since it was
    due (``fleet.core.leases``): a backlog longer than the lease piles a few copies of
    each action, not one a lease."""
    with sessions.begin() as session:
        statement = (
            select(
                AgentActivity.id,
                AgentActivity.idempotency_key,
                AgentActivity.action,
                AgentActivity.due_at,
                AgentActivity.claimed_by,
            )
            .where(
                AgentActivity.status == ActivityStatus.PENDING, AgentActivity.lease_expires_at < now
            )
            .order_by(AgentActivity.lease_expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        found = session.execute(statement).all()
        if found:
            session.execute(
                update(AgentActivity),
                [
                    {
                        "id": r.id,
                        "lease_expires_at": now
                        + (
                            lease
                            if r.claimed_by is not None
                            else resend_lease(lease, now - r.due_at)
                        ),
                        "claimed_by": None,
                    }
                    for r in found
                ],
            )
        return [(r.id, r.idempotency_key, r.action) for r in found]
