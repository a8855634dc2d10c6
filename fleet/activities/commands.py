"""Commands of an activity's life: record, claim, choose its target, finish exactly once.

Dead letters are in ``dead_letters``, waits and fleet holds in ``holds``.

Every terminal transition is a conditional update ``WHERE status = 'pending'``: of two
workers finishing the same activity (a redelivered message), exactly one wins, and only
the winner moves the agent's counters and writes the engagement ledger.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    String,
    Table,
    Text,
    any_,
    bindparam,
    case,
    exists,
    func,
    literal,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from fleet.activities.views import Actor, Chooser, Claim, TargetKept
from fleet.db.engine import autocommit
from fleet.db.models import Agent, AgentActivity, Engagement
from fleet.errors import InputError

COUNTERS = {
    "post": Agent.posts_count,
    "comment": Agent.comments_count,
    "like": Agent.likes_count,
    "browse": Agent.browses_count,
}

# The hot path of every action (claim, target, finish) runs these statements, built once:
# building and keying a statement per call cost more than the database round trips.
_ACTIVITIES = cast(Table, AgentActivity.__table__)
_AGENTS = cast(Table, Agent.__table__)
_ENGAGEMENTS = cast(Table, Engagement.__table__)

_CLAIMED = (
    _ACTIVITIES.c.id,
    _ACTIVITIES.c.action,
    _ACTIVITIES.c.due_at,
    _ACTIVITIES.c.attempts,
    _ACTIVITIES.c.content,
    _ACTIVITIES.c.target_post_id,
)
_ACTOR = (
    _AGENTS.c.id,
    _AGENTS.c.handle,
    _AGENTS.c.display_name,
    _AGENTS.c.persona,
    _AGENTS.c.seed,
    _AGENTS.c.status,
    _AGENTS.c.platform_user_id,
    _AGENTS.c.deleted_at.is_not(None),
)
_CLAIM = (
    update(_ACTIVITIES)
    .where(_ACTIVITIES.c.idempotency_key == bindparam("key"), _ACTIVITIES.c.status == "pending")
    .values(lease_expires_at=bindparam("lease_until"), updated_at=bindparam("at"))
)
# Postgres returns the agent with the claim (UPDATE ... FROM agents); SQLite cannot return
# columns of another table, so it reads the agent next.
_CLAIM_WITH_ACTOR = _CLAIM.where(_AGENTS.c.id == _ACTIVITIES.c.agent_id).returning(
    *_CLAIMED, *_ACTOR
)
_CLAIM_ALONE = _CLAIM.returning(*_CLAIMED, _ACTIVITIES.c.agent_id)
_ACTOR_OF = select(*_ACTOR).where(_AGENTS.c.id == bindparam("agent"))
_KEY_EXISTS = select(_ACTIVITIES.c.id).where(_ACTIVITIES.c.idempotency_key == bindparam("key"))


def claim(
    sessions: sessionmaker[Session], key: str, *, now: datetime, lease: timedelta
) -> Claim | None:
    """Hold the pending activity ``key`` under a lease; None if it is already terminal.

    One conditional update: of a delivery finishing the activity and one claiming it, the
    claim waits for the finish and then finds nothing pending.
    """
    params = {"key": key, "lease_until": now + lease, "at": now}
    with autocommit(sessions).connect() as connection:
        if connection.dialect.name == "postgresql":
            row = connection.execute(_CLAIM_WITH_ACTOR, params).first()
            claimed = None if row is None else (row[: len(_CLAIMED)], row[len(_CLAIMED) :])
        else:
            row = connection.execute(_CLAIM_ALONE, params).first()
            claimed = None
            if row is not None:
                actor_row = connection.execute(_ACTOR_OF, {"agent": row[-1]}).one()
                claimed = (row[: len(_CLAIMED)], tuple(actor_row))
        if claimed is None:
            if connection.execute(_KEY_EXISTS, {"key": key}).first() is None:
                raise InputError(f"no activity with key {key!r}")
            return None
    (activity_id, action, due_at, attempts, content, target_post_id), actor = claimed
    return Claim(
        activity_id,
        key,
        action,
        due_at,
        attempts,
        dict(content or {}),
        target_post_id,
        Actor(*actor),
    )


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


_TARGET_OF = select(_ACTIVITIES.c.status, _ACTIVITIES.c.target_post_id).where(
    _ACTIVITIES.c.id == bindparam("activity")
)


# One read for the choice: the agent's other likes (or comments) in flight have taken
# their posts (a second like of one post would toggle the first off), and per feed post
# the bot engagements since the cap's window began and whether this agent is among them.
def _taken(feed_post: Any) -> Any:
    return union_all(
        select(_ACTIVITIES.c.target_post_id, literal(0), literal(1)).where(
            _ACTIVITIES.c.agent_id == bindparam("agent"),
            _ACTIVITIES.c.action == bindparam("kind"),
            _ACTIVITIES.c.status == "pending",
            _ACTIVITIES.c.target_post_id.is_not(None),
            _ACTIVITIES.c.id != bindparam("activity"),
        ),
        select(
            _ENGAGEMENTS.c.post_id,
            func.sum(case((_ENGAGEMENTS.c.created_at >= bindparam("since"), 1), else_=0)),
            func.max(case((_ENGAGEMENTS.c.agent_id == bindparam("agent"), 1), else_=0)),
        )
        .where(feed_post, _ENGAGEMENTS.c.kind == bindparam("kind"))
        .group_by(_ENGAGEMENTS.c.post_id),
    )


_TAKEN = {
    # One array parameter: the statement's text is the same whatever the page's length,
    # so Postgres keeps one prepared plan for it.
    "postgresql": _taken(
        _ENGAGEMENTS.c.post_id == any_(bindparam("posts", type_=postgresql.ARRAY(String)))
    ),
    "sqlite": _taken(_ENGAGEMENTS.c.post_id.in_(bindparam("posts", expanding=True))),
}
# The first choice holds: only a pending activity without a target takes one. The unique
# index of pending targets per (agent, action) refuses a post another action has taken.
_KEEP = (
    update(_ACTIVITIES)
    .where(
        _ACTIVITIES.c.id == bindparam("activity"),
        _ACTIVITIES.c.status == "pending",
        _ACTIVITIES.c.target_post_id.is_(None),
    )
    .values(target_post_id=bindparam("post"), updated_at=bindparam("at"))
    .returning(_ACTIVITIES.c.target_post_id)
)
# A choice made before reading anything is kept only if the post is still open to the
# agent: not engaged with by it before, and under the cap of bot engagements.
_KEEP_IF_OPEN = _KEEP.where(
    ~exists().where(
        _ENGAGEMENTS.c.agent_id == bindparam("agent"),
        _ENGAGEMENTS.c.post_id == bindparam("post"),
        _ENGAGEMENTS.c.kind == bindparam("kind"),
    ),
    select(func.count())
    .where(
        _ENGAGEMENTS.c.post_id == bindparam("post"),
        _ENGAGEMENTS.c.kind == bindparam("kind"),
        _ENGAGEMENTS.c.created_at >= bindparam("since"),
    )
    .scalar_subquery()
    < bindparam("cap"),
)
CHOICE_ATTEMPTS = 3


def keep_target(
    sessions: sessionmaker[Session],
    activity_id: int,
    agent_id: int,
    kind: str,
    post_ids: Sequence[str],
    choose: Chooser,
    *,
    cap_per_hour: int,
    since: datetime,
    now: datetime,
) -> TargetKept:
    """Choose and record the post a pending like or comment is for, once.

    ``choose(done, recent)`` picks among ``post_ids`` given the posts this agent already
    engaged with or has another action in flight on (``done``) and how many bot
    engagements each post got since ``since`` (``recent``); a post with ``cap_per_hour``
    of them or more is not open. The first recorded choice holds: a second delivery of the
    same action gets it back instead of choosing again. Two actions of one agent never
    hold the same post: the database refuses the second, which then chooses again among
    what is left. No lock is held.

    Most posts of a feed page are open to an agent, so the first choice is made knowing
    nothing and kept by one statement that checks the post is open. Only when it is not
    (or another action holds it) is the ledger read and the choice made again, knowing
    all: a draw kept only when it is open is a draw among the open posts.
    """
    keep = {
        "activity": activity_id,
        "agent": agent_id,
        "kind": kind,
        "since": since,
        "cap": cap_per_hour,
        "at": now,
    }
    with autocommit(sessions).connect() as connection:
        guess = choose(set(), {})
        if guess is not None:
            try:
                kept = connection.execute(_KEEP_IF_OPEN, {**keep, "post": guess}).first()
            except IntegrityError:
                kept = None  # another action of this agent holds the post
            if kept is not None:
                return TargetKept(guess, ended=False)
        taken = _TAKEN[connection.dialect.name]
        for _ in range(CHOICE_ATTEMPTS):
            done: set[str] = set()
            recent: dict[str, int] = {}
            if post_ids:
                for post_id, count, mine in connection.execute(
                    taken, {**keep, "posts": list(post_ids)}
                ):
                    if count:
                        recent[post_id] = int(count)
                    if mine:
                        done.add(post_id)
            chosen = choose(done, recent)
            if chosen is not None:
                try:
                    kept = connection.execute(
                        _KEEP, {"activity": activity_id, "post": chosen, "at": now}
                    ).first()
                except IntegrityError:
                    continue  # another action of this agent took the post just now
                if kept is not None:
                    return TargetKept(chosen, ended=False)
            # Nothing left to choose, or no longer free to choose: what does the row say?
            state = connection.execute(_TARGET_OF, {"activity": activity_id}).one()
            if state.status != "pending":
                return TargetKept(None, ended=True)
            return TargetKept(state.target_post_id, ended=False)
    return TargetKept(None, ended=False)


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
    update(_ACTIVITIES)
    .where(_ACTIVITIES.c.id == bindparam("activity"), _ACTIVITIES.c.status == "pending")
    .values(
        status=bindparam("new_status"),
        result=bindparam("outcome"),
        error=bindparam("reason"),
        finished_at=bindparam("at"),
        updated_at=bindparam("at"),
        lease_expires_at=None,
    )
    .returning(_ACTIVITIES.c.agent_id, _ACTIVITIES.c.action)
)
_AGENT_DONE: dict[tuple[str | None, bool], Any] = {}


def _agent_done(action: str | None, thought: bool) -> Any:
    """The agent's update after an activity ended (``action`` None: it did not succeed)."""
    statement = _AGENT_DONE.get((action, thought))
    if statement is None:
        values: dict[Any, Any] = {
            _AGENTS.c.current_action: None,
            _AGENTS.c.updated_at: bindparam("at"),
        }
        if action is not None:
            counter = _AGENTS.c[COUNTERS[action].key]
            values[counter] = counter + 1
            values[_AGENTS.c.last_action] = action
            values[_AGENTS.c.last_action_at] = bindparam("at")
        if thought:
            values[_AGENTS.c.last_thought] = bindparam("thought")
        statement = update(_AGENTS).where(_AGENTS.c.id == bindparam("agent")).values(values)
        _AGENT_DONE[(action, thought)] = statement
    return statement


_FINISH_ON_POSTGRES = text(
    """
    WITH done AS (
        UPDATE agent_activities
        SET status = :new_status, result = :outcome, error = :reason,
            finished_at = :at, updated_at = :at, lease_expires_at = NULL
        WHERE id = :activity AND status = 'pending'
        RETURNING agent_id, action
    ), counted AS (
        UPDATE agents
        SET current_action = NULL,
            updated_at = :at,
            posts_count = posts_count + CASE WHEN :succeeded AND done.action = 'post' THEN 1 ELSE 0 END,
            comments_count = comments_count
                + CASE WHEN :succeeded AND done.action = 'comment' THEN 1 ELSE 0 END,
            likes_count = likes_count + CASE WHEN :succeeded AND done.action = 'like' THEN 1 ELSE 0 END,
            browses_count = browses_count
                + CASE WHEN :succeeded AND done.action = 'browse' THEN 1 ELSE 0 END,
            last_action = CASE WHEN :succeeded THEN done.action ELSE agents.last_action END,
            last_action_at = CASE WHEN :succeeded THEN :at ELSE agents.last_action_at END,
            last_thought = COALESCE(:thought, agents.last_thought)
        FROM done
        WHERE agents.id = done.agent_id
    ), ledger AS (
        INSERT INTO engagements (agent_id, post_id, kind, activity_id, created_at)
        SELECT done.agent_id, :post, :kind, :activity, :at FROM done WHERE :post IS NOT NULL
        ON CONFLICT (agent_id, post_id, kind) DO NOTHING
    )
    SELECT count(*) FROM done
    """
).bindparams(
    bindparam("new_status", type_=String()),
    bindparam("outcome", type_=AgentActivity.result.type),
    bindparam("reason", type_=Text()),
    bindparam("at", type_=AgentActivity.finished_at.type),
    bindparam("activity", type_=BigInteger()),
    bindparam("succeeded", type_=Boolean()),
    bindparam("thought", type_=Text()),
    bindparam("post", type_=String()),
    bindparam("kind", type_=String()),
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

    The winner moves the agent's counters and, for a like or comment, writes the ledger:
    on Postgres all of it is one statement, on SQLite one transaction.
    """
    if status not in ("succeeded", "skipped"):
        raise ValueError(f"finish() takes succeeded or skipped, not {status!r}")
    succeeded = status == "succeeded"
    post_id, kind = engagement if succeeded and engagement is not None else (None, None)
    params = {
        "activity": activity_id,
        "new_status": status,
        "outcome": result,
        "reason": reason,
        "at": now,
    }
    engine = autocommit(sessions)
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            ended = connection.scalar(
                _FINISH_ON_POSTGRES,
                {
                    **params,
                    "succeeded": succeeded,
                    "thought": thought if succeeded else None,
                    "post": post_id,
                    "kind": kind,
                },
            )
        return bool(ended)
    with sessions.begin() as session:
        row = session.execute(_FINISH, params).first()
        if row is None:
            return False
        agent_id, action = row
        with_thought = succeeded and thought is not None
        agent: dict[str, Any] = {"agent": agent_id, "at": now}
        if with_thought:
            agent["thought"] = thought
        session.execute(_agent_done(action if succeeded else None, with_thought), agent)
        if post_id is not None and kind is not None:
            record_engagement(session, agent_id, activity_id, (post_id, kind), now)
        return True


def _engagement_insert(insert_of: Any) -> Any:
    return (
        insert_of(_ENGAGEMENTS)
        .values(
            agent_id=bindparam("agent"),
            post_id=bindparam("post"),
            kind=bindparam("kind"),
            activity_id=bindparam("activity"),
            created_at=bindparam("at"),
        )
        .on_conflict_do_nothing(index_elements=["agent_id", "post_id", "kind"])
    )


_RECORD_ENGAGEMENT = {
    "postgresql": _engagement_insert(postgresql.insert),
    "sqlite": _engagement_insert(sqlite.insert),
}


def record_engagement(
    session: Session, agent_id: int, activity_id: int, engagement: tuple[str, str], now: datetime
) -> None:
    """Add (agent, post, kind) to the engagement ledger; an existing row stays as it is."""
    post_id, kind = engagement
    session.execute(
        _RECORD_ENGAGEMENT[session.get_bind().dialect.name],
        {"agent": agent_id, "post": post_id, "kind": kind, "activity": activity_id, "at": now},
    )


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
