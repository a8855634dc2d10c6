"""What a delivery writes on the activity it holds, up to its end written exactly once.

What an action made so far (text, image, target, usage) is kept before any gallery call,
so a retry re-uses it; a failed attempt is counted. Every terminal transition is a
conditional update ``WHERE status = 'pending'``: of two workers finishing the same
activity (a redelivered message), exactly one wins, and only the winner writes the
engagement ledger; a batch's endings are written in one statement (``finish_many``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, func, literal_column, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session, sessionmaker

from fleet.activities.kept_targets import ACTIVITIES, ENGAGEMENTS
from fleet.activities.outcomes import CarriedOut, Skipped, Succeeded
from fleet.core.kinds import target_kind
from fleet.core.statuses import ActivityStatus
from fleet.db.engine import autocommit, insert_ignoring
from fleet.db.models import AgentActivity

__all__ = [
    "finish",
    "finish_many",
    "record_engagement",
    "record_failure",
    "save_progress",
]

# What an action made so far, kept on its pending activity in one statement on Postgres
# (``_progress_statement``): the content merged key by key into what is kept (jsonb's
# ``||``, as ``{**kept, **new}``), the first usage set, the target kept. Usage already
# kept is added to under a row lock instead (``_save_locked``), as is every save on
# SQLite, whose JSON merge is not a shallow one.
_PROGRESS: dict[tuple[bool, bool, bool], Any] = {}


def _progress_statement(content: bool, usage: bool, target: bool) -> Any:
    statement = _PROGRESS.get((content, usage, target))
    if statement is None:
        values: dict[str, Any] = {"updated_at": bindparam("at")}
        where = [
            ACTIVITIES.c.id == bindparam("activity"),
            ACTIVITIES.c.status == ActivityStatus.PENDING,
        ]
        if content:
            # A content kept as JSON null (or none) merges into an empty object.
            kept = case(
                (func.jsonb_typeof(ACTIVITIES.c.content) == "object", ACTIVITIES.c.content),
                else_=literal_column("'{}'::jsonb"),
            )
            values["content"] = kept.op("||")(bindparam("content", type_=JSONB))
        if usage:
            where.append(ACTIVITIES.c.usage.is_(None))
            values["usage"] = bindparam("usage")
            values["provider"] = bindparam("provider")
        if target:
            values["target_post_id"] = bindparam("target")
        statement = update(ACTIVITIES).where(*where).values(values).returning(ACTIVITIES.c.id)
        _PROGRESS[(content, usage, target)] = statement
    return statement


def save_progress(
    sessions: sessionmaker[Session],
    activity_id: int,
    *,
    now: datetime,
    content: dict[str, Any] | None = None,
    usage: dict[str, Any] | None = None,
    target_post_id: str | None = None,
) -> None:
    """Keep what an action made so far (text, image, target) so a retry re-uses it; an
    activity no longer pending is left as it is."""
    engine = autocommit(sessions)
    on_postgres = engine.dialect.name == "postgresql"
    if on_postgres or (usage and not content and target_post_id is None):
        # One statement (on SQLite only the first usage of a browse's thought): None
        # when the activity is not pending, or already keeps a usage to add to.
        shape = (bool(content), bool(usage), target_post_id is not None)
        params: dict[str, Any] = {"activity": activity_id, "at": now}
        if content:
            params["content"] = content
        if usage:
            params |= {"usage": usage, "provider": usage.get("provider")}
        if target_post_id is not None:
            params["target"] = target_post_id
        with engine.connect() as connection:
            if connection.execute(_progress_statement(*shape), params).first() is not None:
                return
        if not usage:  # not pending: nothing to keep
            return
    _save_locked(sessions, activity_id, now, content, usage, target_post_id)


def _save_locked(
    sessions: sessionmaker[Session],
    activity_id: int,
    now: datetime,
    content: dict[str, Any] | None,
    usage: dict[str, Any] | None,
    target_post_id: str | None,
) -> None:
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
    """Add (agent, target, kind) to the engagement ledger (the target's kind follows the
    action's: ``fleet.core.kinds.target_kind``); an existing row stays as it is."""
    target_id, kind = engagement
    session.execute(
        insert_ignoring(session, ENGAGEMENTS, "agent_id", "target_id", "kind"),
        {
            "agent_id": agent_id,
            "target_kind": target_kind(kind),
            "target_id": target_id,
            "kind": kind,
            "activity_id": activity_id,
            "created_at": now,
        },
    )


# One statement: the terminal updates, and the winners' engagements in the ledger.
_FINISH_MANY = text(
    """
    WITH v AS (
        SELECT * FROM unnest(
            CAST(:ids AS bigint[]), CAST(:statuses AS text[]), CAST(:results AS text[]),
            CAST(:reasons AS text[]), CAST(:posts AS text[]), CAST(:kinds AS text[]),
            CAST(:usages AS text[]), CAST(:targets AS text[])
        ) AS v(id, status, result, reason, post_id, kind, usage, target_kind)
    ), done AS (
        UPDATE agent_activities AS a
        SET status = v.status, result = CAST(v.result AS jsonb), error = v.reason,
            finished_at = :at, updated_at = :at, lease_expires_at = NULL,
            -- This delivery's usage added to what earlier ones kept, number by number.
            usage = CASE
                WHEN v.usage IS NULL THEN a.usage
                WHEN a.usage IS NULL OR a.usage = 'null' THEN CAST(v.usage AS jsonb)
                ELSE (
                    SELECT jsonb_object_agg(
                        k,
                        CASE WHEN jsonb_typeof(a.usage -> k) = 'number'
                              AND jsonb_typeof(CAST(v.usage AS jsonb) -> k) = 'number'
                        THEN to_jsonb(CAST(a.usage ->> k AS numeric)
                                      + CAST(CAST(v.usage AS jsonb) ->> k AS numeric))
                        ELSE COALESCE(CAST(v.usage AS jsonb) -> k, a.usage -> k) END
                    )
                    FROM jsonb_object_keys(a.usage || CAST(v.usage AS jsonb)) AS k
                )
            END,
            provider = COALESCE(CAST(v.usage AS jsonb) ->> 'provider', a.provider)
        FROM v
        WHERE a.id = v.id AND a.status = :pending_status
        RETURNING a.id, a.agent_id
    ), ledger AS (
        INSERT INTO engagements (agent_id, target_kind, target_id, kind, activity_id, created_at)
        SELECT done.agent_id, v.target_kind, v.post_id, v.kind, done.id, :at
        FROM done JOIN v ON v.id = done.id
        WHERE v.status = :succeeded_status AND v.post_id IS NOT NULL
        ON CONFLICT (agent_id, target_id, kind) DO NOTHING
    )
    SELECT id FROM done
    """
)


def _result(outcome: CarriedOut) -> dict[str, Any] | None:
    return outcome.result if isinstance(outcome, Succeeded) else None


def _reason(outcome: CarriedOut) -> str | None:
    return outcome.reason if isinstance(outcome, Skipped) else None


def _engagement(outcome: CarriedOut) -> tuple[str, str] | None:
    return outcome.engagement if isinstance(outcome, Succeeded) else None


def finish_many(
    sessions: sessionmaker[Session], endings: Sequence[CarriedOut], *, now: datetime
) -> set[int]:
    """End these pending activities, each as its outcome says (succeeded or skipped), in
    one statement; the ids that ended here (one already ended by another delivery is left
    as it is)."""
    if not endings:
        return set()
    for ending in endings:
        if not isinstance(ending, Succeeded | Skipped):
            raise ValueError(f"finish_many() takes succeeded or skipped, not {ending.status!r}")
    with autocommit(sessions).connect() as connection:
        if connection.dialect.name != "postgresql":
            for v in endings:
                if v.usage:
                    save_progress(sessions, v.activity_id, now=now, usage=v.usage)
            return {
                v.activity_id
                for v in endings
                if finish(
                    sessions,
                    v.activity_id,
                    v.status,
                    now=now,
                    result=_result(v),
                    reason=_reason(v),
                    engagement=_engagement(v),
                )
            }
        # The statement's columns, one value of each ending's in each, made in one pass.
        ids: list[int] = []
        statuses: list[str] = []
        results: list[str | None] = []
        reasons: list[str | None] = []
        posts: list[str | None] = []
        kinds: list[str | None] = []
        targets: list[str | None] = []
        usages: list[str | None] = []
        for v in endings:
            result = engagement = reason = None
            if isinstance(v, Succeeded):
                result, engagement = v.result, v.engagement
            else:
                reason = v.reason
            ids.append(v.activity_id)
            statuses.append(v.status.value)
            results.append(None if result is None else json.dumps(result))
            reasons.append(reason)
            posts.append(engagement[0] if engagement else None)
            kinds.append(engagement[1] if engagement else None)
            targets.append(target_kind(engagement[1]) if engagement else None)
            usages.append(None if v.usage is None else json.dumps(v.usage))
        params = {
            "ids": ids,
            "statuses": statuses,
            "results": results,
            "reasons": reasons,
            "posts": posts,
            "kinds": kinds,
            "targets": targets,
            "usages": usages,
            "at": now,
            "pending_status": ActivityStatus.PENDING.value,
            "succeeded_status": ActivityStatus.SUCCEEDED.value,
        }
        return set(connection.execute(_FINISH_MANY, params).scalars())
