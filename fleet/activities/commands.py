"""Commands of the activities context: claim, record, finish exactly once, bury, replay.

Every terminal transition is a conditional update ``WHERE status = 'pending'``: of two
workers finishing the same activity (a redelivered message), exactly one wins, and only
the winner moves the agent's counters and writes the engagement ledger.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from fleet.activities.views import Actor, Claim, Hold
from fleet.db.models import Agent, AgentActivity, DeadLetter, Engagement, FleetHold
from fleet.errors import InputError

COUNTERS = {
    "post": Agent.posts_count,
    "comment": Agent.comments_count,
    "like": Agent.likes_count,
    "browse": Agent.browses_count,
}


def _claim_of(session: Session, activity: AgentActivity) -> Claim:
    agent = session.get_one(Agent, activity.agent_id)
    actor = Actor(
        agent.id,
        agent.handle,
        agent.display_name,
        agent.persona,
        agent.seed,
        agent.status,
        agent.platform_user_id,
        agent.deleted_at is not None,
    )
    return Claim(
        activity.id,
        activity.idempotency_key,
        activity.action,
        activity.due_at,
        activity.attempts,
        dict(activity.content or {}),
        activity.target_post_id,
        actor,
    )


def _locked(session: Session, key: str) -> AgentActivity | None:
    statement = select(AgentActivity).where(AgentActivity.idempotency_key == key)
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update()
    return session.scalar(statement)


def claim(
    sessions: sessionmaker[Session], key: str, *, now: datetime, lease: timedelta
) -> Claim | None:
    """Hold the pending activity ``key`` under a lease; None if it is already terminal."""
    with sessions.begin() as session:
        activity = _locked(session, key)
        if activity is None:
            raise InputError(f"no activity with key {key!r}")
        if activity.status != "pending":
            return None
        activity.lease_expires_at = now + lease
        activity.updated_at = now
        return _claim_of(session, activity)


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
        dialect = session.get_bind().dialect.name
        maker = postgresql.insert if dialect == "postgresql" else sqlite.insert
        session.execute(
            maker(AgentActivity)
            .values(
                agent_id=agent_id,
                action=action,
                idempotency_key=key,
                status="pending",
                due_at=due_at,
                lease_expires_at=now + lease,
                content=content,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
        )
        found = session.scalar(select(AgentActivity.id).where(AgentActivity.idempotency_key == key))
        assert found is not None
        return found


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
    with sessions.begin() as session:
        activity = session.get_one(AgentActivity, activity_id, with_for_update=True)
        if activity.status != "pending":
            return
        if content:
            activity.content = {**(activity.content or {}), **content}
        if usage:
            activity.usage = _add_usage(activity.usage, usage)
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


def keep_target(
    sessions: sessionmaker[Session], activity_id: int, post_id: str, *, now: datetime
) -> str | None:
    """Record the post a pending activity engages with unless one is recorded already.

    Returns the post in force: the first recorded wins, so two deliveries of one action
    choosing at the same time act on one post. None if the activity is no longer pending.
    """
    with sessions.begin() as session:
        session.execute(
            update(AgentActivity)
            .where(
                AgentActivity.id == activity_id,
                AgentActivity.status == "pending",
                AgentActivity.target_post_id.is_(None),
            )
            .values(target_post_id=post_id, updated_at=now)
        )
        row = session.execute(
            select(AgentActivity.status, AgentActivity.target_post_id).where(
                AgentActivity.id == activity_id
            )
        ).one()
        return row.target_post_id if row.status == "pending" else None


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
    """End a pending activity as ``succeeded`` or ``skipped``; False if it had already ended."""
    if status not in ("succeeded", "skipped"):
        raise ValueError(f"finish() takes succeeded or skipped, not {status!r}")
    with sessions.begin() as session:
        row = session.execute(
            update(AgentActivity)
            .where(AgentActivity.id == activity_id, AgentActivity.status == "pending")
            .values(
                status=status,
                result=result,
                error=reason,
                finished_at=now,
                updated_at=now,
                lease_expires_at=None,
            )
            .returning(AgentActivity.agent_id, AgentActivity.action)
        ).first()
        if row is None:
            return False
        agent_id, action = row
        values: dict[str, Any] = {"current_action": None, "updated_at": now}
        if status == "succeeded":
            values.update(
                {
                    COUNTERS[action].key: COUNTERS[action] + 1,
                    "last_action": action,
                    "last_action_at": now,
                }
            )
            if thought is not None:
                values["last_thought"] = thought
        session.execute(update(Agent).where(Agent.id == agent_id).values(**values))
        if status == "succeeded" and engagement is not None:
            _record_engagement(session, agent_id, activity_id, engagement, now)
        return True


def _record_engagement(
    session: Session, agent_id: int, activity_id: int, engagement: tuple[str, str], now: datetime
) -> None:
    """Add (agent, post, kind) to the engagement ledger; an existing row stays as it is."""
    post_id, kind = engagement
    dialect = session.get_bind().dialect.name
    maker = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        maker(Engagement)
        .values(
            agent_id=agent_id, post_id=post_id, kind=kind, activity_id=activity_id, created_at=now
        )
        .on_conflict_do_nothing(index_elements=["agent_id", "post_id", "kind"])
    )


def bury(
    sessions: sessionmaker[Session],
    activity_id: int,
    *,
    task: str,
    arguments: dict[str, Any],
    error_type: str,
    error: str,
    now: datetime,
) -> int | None:
    """Make a pending activity ``dead`` and keep a dead letter; None if it had already ended."""
    with sessions.begin() as session:
        row = session.execute(
            update(AgentActivity)
            .where(AgentActivity.id == activity_id, AgentActivity.status == "pending")
            .values(
                status="dead", error=error, finished_at=now, updated_at=now, lease_expires_at=None
            )
            .returning(AgentActivity.agent_id, AgentActivity.attempts)
        ).first()
        if row is None:
            return None
        agent_id, attempts = row
        session.execute(update(Agent).where(Agent.id == agent_id).values(current_action=None))
        return session.scalar(
            insert(DeadLetter)
            .values(
                activity_id=activity_id,
                task=task,
                arguments=arguments,
                error_type=error_type,
                error=error,
                attempts=attempts,
                created_at=now,
            )
            .returning(DeadLetter.id)
        )


def replay(
    sessions: sessionmaker[Session], dead_letter_id: int, *, now: datetime, lease: timedelta
) -> tuple[str, dict[str, Any]]:
    """Put a dead letter's activity back to pending, same key; returns the task to send."""
    with sessions.begin() as session:
        letter = session.get(DeadLetter, dead_letter_id, with_for_update=True)
        if letter is None:
            raise InputError(f"no dead letter {dead_letter_id}")
        if letter.replayed_at is not None:
            raise InputError(
                f"dead letter {dead_letter_id} was already replayed at {letter.replayed_at:%Y-%m-%d %H:%M:%S}"
            )
        if letter.activity_id is not None:
            session.execute(
                update(AgentActivity)
                .where(AgentActivity.id == letter.activity_id, AgentActivity.status == "dead")
                .values(
                    status="pending",
                    attempts=0,
                    error=None,
                    finished_at=None,
                    lease_expires_at=now + lease,
                    updated_at=now,
                )
            )
        letter.replayed_at = now
        return letter.task, dict(letter.arguments)


def purge(
    sessions: sessionmaker[Session], ids: Sequence[int] | None, *, before: datetime | None = None
) -> int:
    """Delete dead letters (their activities stay dead); returns how many went."""
    statement = delete(DeadLetter)
    if ids is not None:
        statement = statement.where(DeadLetter.id.in_(list(ids)))
    if before is not None:
        statement = statement.where(DeadLetter.created_at < before)
    with sessions.begin() as session:
        return session.execute(statement).rowcount  # type: ignore[attr-defined, no-any-return]


def expired_leases(
    sessions: sessionmaker[Session], *, now: datetime, lease: timedelta, limit: int = 1000
) -> list[tuple[int, str, str]]:
    """Pending activities whose lease ran out, leased anew: (id, key, action) to re-send."""
    with sessions.begin() as session:
        statement = (
            select(AgentActivity.id, AgentActivity.idempotency_key, AgentActivity.action)
            .where(AgentActivity.status == "pending", AgentActivity.lease_expires_at < now)
            .order_by(AgentActivity.lease_expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = [(r.id, r.idempotency_key, r.action) for r in session.execute(statement)]
        if rows:
            session.execute(
                update(AgentActivity)
                .where(AgentActivity.id.in_([r[0] for r in rows]))
                .values(lease_expires_at=now + lease)
            )
        return rows


def defer_agent(sessions: sessionmaker[Session], agent_id: int, until: datetime) -> None:
    """Move an active agent's next tick to ``until`` (its own budget ran out)."""
    with sessions.begin() as session:
        session.execute(
            update(Agent)
            .where(Agent.id == agent_id, Agent.status == "active")
            .values(next_tick_at=func.coalesce(until, Agent.next_tick_at))
        )


def hold_fleet(
    sessions: sessionmaker[Session], kind: str, reason: str, until: datetime, *, now: datetime
) -> None:
    """Hold the whole fleet until ``until``: the dispatcher claims nothing meanwhile."""
    with sessions.begin() as session:
        existing = session.get(FleetHold, kind, with_for_update=True)
        if existing is None:
            session.add(FleetHold(kind=kind, reason=reason, until=until, created_at=now))
        else:
            existing.reason, existing.until = reason, max(existing.until, until)


def release_holds(sessions: sessionmaker[Session], *, now: datetime | None = None) -> int:
    """Drop fleet holds (all, or those past ``now``)."""
    statement = delete(FleetHold)
    if now is not None:
        statement = statement.where(FleetHold.until <= now)
    with sessions.begin() as session:
        return session.execute(statement).rowcount  # type: ignore[attr-defined, no-any-return]


def active_hold(session: Session, now: datetime) -> Hold | None:
    """The longest fleet hold in force at ``now``, if any (one indexed read)."""
    row = session.scalar(
        select(FleetHold).where(FleetHold.until > now).order_by(FleetHold.until.desc()).limit(1)
    )
    return None if row is None else Hold(row.kind, row.reason, row.until)


def recover(
    sessions: sessionmaker[Session],
    activity_id: int,
    *,
    result: dict[str, Any],
    now: datetime,
    engagement: tuple[str, str] | None = None,
) -> bool:
    """Make a dead or skipped activity ``succeeded``: its effect was found on the gallery.

    The agent's counter moves up by one and the engagement ledger gets its row, as if the
    action had finished; False if the activity was not dead or skipped.
    """
    with sessions.begin() as session:
        row = session.execute(
            update(AgentActivity)
            .where(
                AgentActivity.id == activity_id,
                AgentActivity.status.in_(("dead", "skipped")),
            )
            .values(
                status="succeeded",
                result=result,
                error=None,
                updated_at=now,
                lease_expires_at=None,
            )
            .returning(AgentActivity.agent_id, AgentActivity.action)
        ).first()
        if row is None:
            return False
        agent_id, action = row
        counter = COUNTERS[action]
        session.execute(
            update(Agent).where(Agent.id == agent_id).values({counter.key: counter + 1})
        )
        if engagement is not None:
            _record_engagement(session, agent_id, activity_id, engagement, now)
        return True


def bury_missing(
    sessions: sessionmaker[Session],
    activity_id: int,
    *,
    task: str,
    arguments: dict[str, Any],
    error_type: str,
    error: str,
    now: datetime,
) -> int | None:
    """Make a succeeded activity ``dead`` whose effect the gallery lacks; keep a dead letter.

    The agent's counter moves down by one and the activity's engagement row goes; None if
    the activity was not succeeded.
    """
    with sessions.begin() as session:
        row = session.execute(
            update(AgentActivity)
            .where(AgentActivity.id == activity_id, AgentActivity.status == "succeeded")
            .values(status="dead", error=error, updated_at=now, lease_expires_at=None)
            .returning(AgentActivity.agent_id, AgentActivity.action, AgentActivity.attempts)
        ).first()
        if row is None:
            return None
        agent_id, action, attempts = row
        counter = COUNTERS[action]
        session.execute(
            update(Agent)
            .where(Agent.id == agent_id)
            .values({counter.key: case((counter > 0, counter - 1), else_=0)})
        )
        session.execute(delete(Engagement).where(Engagement.activity_id == activity_id))
        return session.scalar(
            insert(DeadLetter)
            .values(
                activity_id=activity_id,
                task=task,
                arguments=arguments,
                error_type=error_type,
                error=error,
                attempts=attempts,
                created_at=now,
            )
            .returning(DeadLetter.id)
        )
