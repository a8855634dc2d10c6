"""Dead letters: an activity that could not be done, kept with why; replayed, purged, or
set right by reconciliation when the gallery shows otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from fleet.activities.finishes import record_engagement
from fleet.core.kinds import KINDS, Action
from fleet.core.statuses import ActivityStatus
from fleet.db.models import AgentActivity, DeadLetter, Engagement
from fleet.errors import InputError


def _write_letter(
    session: Session,
    activity_id: int,
    task: str,
    arguments: dict[str, Any],
    error_type: str,
    error: str,
    attempts: int,
    now: datetime,
) -> int | None:
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
            .where(AgentActivity.id == activity_id, AgentActivity.status == ActivityStatus.PENDING)
            .values(
                status="dead", error=error, finished_at=now, updated_at=now, lease_expires_at=None
            )
            .returning(AgentActivity.agent_id, AgentActivity.attempts)
        ).first()
        if row is None:
            return None
        return _write_letter(
            session, activity_id, task, arguments, error_type, error, row.attempts, now
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
            try:
                session.execute(
                    update(AgentActivity)
                    .where(
                        AgentActivity.id == letter.activity_id,
                        AgentActivity.status == "dead",
                    )
                    .values(
                        status=ActivityStatus.PENDING,
                        attempts=0,
                        deliveries=0,
                        error=None,
                        finished_at=None,
                        lease_expires_at=now + lease,
                        claimed_by=None,
                        updated_at=now,
                    )
                )
            except IntegrityError:
                # Nothing is written: the transaction rolls back with this error.
                raise InputError(
                    f"dead letter {dead_letter_id}: its post is taken by another action of "
                    "the same agent in flight; replay it once that one has ended"
                ) from None
        letter.replayed_at = now
        return letter.task, dict(letter.arguments)


def purge(
    sessions: sessionmaker[Session], ids: Sequence[int] | None, *, before: datetime | None = None
) -> int:
    """Delete dead letters (their activities stay dead); returns how many went.

    Named ``ids`` that are not dead letters are an InputError, and then none goes.
    """
    statement = delete(DeadLetter)
    if ids is not None:
        statement = statement.where(DeadLetter.id.in_(list(ids)))
    if before is not None:
        statement = statement.where(DeadLetter.created_at < before)
    with sessions.begin() as session:
        if ids is not None:
            found = set(session.scalars(select(DeadLetter.id).where(DeadLetter.id.in_(list(ids)))))
            missing = sorted(set(ids) - found)
            if missing:
                raise InputError(f"no dead letter {', '.join(map(str, missing))}: none purged")
        return session.execute(statement).rowcount  # type: ignore[attr-defined, no-any-return]


def recover(
    sessions: sessionmaker[Session],
    activity_id: int,
    *,
    result: dict[str, Any],
    now: datetime,
    engagement: tuple[str, str] | None = None,
) -> bool:
    """Make a dead or skipped activity ``succeeded``: its effect was found on the gallery.

    The engagement ledger gets its row (and the agent's tallies count it), as if the
    action had finished: ``engagement``, else (for a kind that engages) the activity's
    own target and kind. False if the activity was not dead or skipped.
    """
    with sessions.begin() as session:
        row = session.execute(
            update(AgentActivity)
            .where(
                AgentActivity.id == activity_id,
                AgentActivity.status.in_(("dead", "skipped")),
            )
            .values(
                status=ActivityStatus.SUCCEEDED,
                result=result,
                error=None,
                updated_at=now,
                lease_expires_at=None,
            )
            .returning(AgentActivity.agent_id, AgentActivity.action, AgentActivity.target_post_id)
        ).first()
        if row is None:
            return False
        agent_id, action, target = row
        if engagement is None and target is not None and KINDS[Action(action)].engages:
            engagement = (target, action)
        if engagement is not None:
            record_engagement(session, agent_id, activity_id, engagement, now)
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

    The activity's engagement row goes (the agent's tallies, read from its activities, count
    it no more); None if
    the activity was not succeeded.
    """
    with sessions.begin() as session:
        row = session.execute(
            update(AgentActivity)
            .where(
                AgentActivity.id == activity_id, AgentActivity.status == ActivityStatus.SUCCEEDED
            )
            .values(status="dead", error=error, updated_at=now, lease_expires_at=None)
            .returning(AgentActivity.agent_id, AgentActivity.action, AgentActivity.attempts)
        ).first()
        if row is None:
            return None
        session.execute(delete(Engagement).where(Engagement.activity_id == activity_id))
        return _write_letter(
            session, activity_id, task, arguments, error_type, error, row.attempts, now
        )
