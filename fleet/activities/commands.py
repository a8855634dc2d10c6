"""Commands of an activity's life: record, claim, finish exactly once, one or many.

Here: the decided rows a batch of ticks records (``record_decided``), the claim and the
finish of one action and of a batch (``claim_many``, ``finish_many``), and ``Outcome``,
how one delivery of an action ended. Dead letters are in ``dead_letters``, waits and
fleet holds in ``holds``, the choice of a like's or comment's post in ``kept_targets``.

Every terminal transition is a conditional update ``WHERE status = 'pending'``: of two
workers finishing the same activity (a redelivered message), exactly one wins, and only
the winner writes the engagement ledger.
"""

from __future__ import annotations

import json
import math
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Literal

from sqlalchemy import (
    ARRAY,
    String,
    and_,
    bindparam,
    case,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from fleet.activities.kept_targets import ACTIVITIES, AGENTS, ENGAGEMENTS, open_to
from fleet.activities.views import Actor, Claim, FirstChoice, Held
from fleet.core.kinds import idempotency_key, target_kind
from fleet.core.leases import resend_lease
from fleet.core.statuses import ActivityStatus
from fleet.db.engine import autocommit, insert_ignoring
from fleet.db.models import AgentActivity
from fleet.errors import InputError

__all__ = [
    "AlreadyFinished",
    "CarriedOut",
    "Claimed",
    "Dead",
    "Drafted",
    "HeldElsewhere",
    "Outcome",
    "Performed",
    "Retry",
    "Settled",
    "Skipped",
    "Succeeded",
    "Unclaimed",
    "Unknown",
    "claim",
    "claim_many",
    "claim_of",
    "create_activity",
    "decided_before",
    "expired_leases",
    "finish",
    "finish_many",
    "record_decided",
    "record_engagement",
    "record_failure",
    "release",
    "save_progress",
    "spoke_since",
]

# How one delivery of an action ended: one sum type, ``Outcome``, the only one.
#
# A delivery either carried the action out (``fleet.actions.perform``: succeeded, skipped,
# drafted), found it not its to do (already finished, held by another delivery, an unknown
# key: what a claim could not take, ``claim_many``), or failed and had its failure settled
# (``fleet.actions.failures.settle``: a retry, a dead letter, a skip, or already finished).
# Each case is a frozen class of its own with what that case knows, and ``status`` names it
# as the logs, the tallies and the faces spell it. Callers ``match`` on the class; mypy
# checks that every case is handled.
#
# The same values end the activities: ``finish_many`` writes a ``Succeeded`` or a
# ``Skipped`` as it is (with the engagement a success adds to the ledger and what the
# delivery's LLM calls billed), and the listeners of an action's end
# (``fleet.actions.perform.end``) read them. They live with the activities, which write
# every terminal state, so that both layers share them.


@dataclass(frozen=True, slots=True)
class Succeeded:
    """The action's effect is made and its activity ended succeeded, with its result."""

    status: ClassVar[Literal[ActivityStatus.SUCCEEDED]] = ActivityStatus.SUCCEEDED
    activity_id: int
    result: dict[str, Any] | None = None
    # The (target, kind) the success adds to the engagement ledger (None: no engagement).
    engagement: tuple[str, str] | None = None
    # What its LLM calls billed in this delivery, added to the activity's usage.
    usage: dict[str, Any] | None = None

    @property
    def detail(self) -> dict[str, Any] | None:
        return self.result


@dataclass(frozen=True, slots=True)
class Skipped:
    """The activity ended skipped (nothing to do, a refusal, a wait too long), with why."""

    status: ClassVar[Literal[ActivityStatus.SKIPPED]] = ActivityStatus.SKIPPED
    activity_id: int
    reason: str
    usage: dict[str, Any] | None = None  # what its LLM calls billed in this delivery

    @property
    def detail(self) -> dict[str, Any] | None:
        return {"reason": self.reason}


@dataclass(frozen=True, slots=True)
class Drafted:
    """Under review: the action stopped at its draft, which waits for an owner."""

    status: ClassVar[Literal["drafted"]] = "drafted"
    activity_id: int
    draft_id: int

    @property
    def reason(self) -> str:
        return f"draft {self.draft_id} waits for review"

    @property
    def detail(self) -> dict[str, Any] | None:
        return {"draft_id": self.draft_id, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class AlreadyFinished:
    """Another delivery ended the activity first (or it was unknown): nothing done here.

    ``detail`` is what this delivery's own attempt came to, when it got that far."""

    status: ClassVar[Literal["already-finished"]] = "already-finished"
    activity_id: int | None = None
    detail: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class HeldElsewhere:
    """Another delivery holds the activity's claim: it carries the action out."""

    status: ClassVar[Literal["held-elsewhere"]] = "held-elsewhere"

    @property
    def detail(self) -> dict[str, Any] | None:
        return None


@dataclass(frozen=True, slots=True)
class Unknown:
    """No activity has the key (a batch's; one action's delivery raises instead)."""

    status: ClassVar[Literal["unknown"]] = "unknown"

    @property
    def detail(self) -> dict[str, Any] | None:
        return None


@dataclass(frozen=True, slots=True)
class Retry:
    """The failure is worth another attempt, after ``countdown`` seconds."""

    status: ClassVar[Literal["retry"]] = "retry"
    countdown: float
    reason: str
    attempts: int = 0  # failed attempts so far (this one included; 0 for a wait)


@dataclass(frozen=True, slots=True)
class Dead:
    """The activity ended dead: its dead letter keeps the error for a replay."""

    status: ClassVar[Literal[ActivityStatus.DEAD]] = ActivityStatus.DEAD
    dead_letter_id: int
    reason: str


# What carrying out a claimed action came to, as the finish statement writes it
# (``finish_many``): succeeded or skipped.
CarriedOut = Succeeded | Skipped
# What a claim could not take, by why (``claim_many``).
Unclaimed = AlreadyFinished | HeldElsewhere | Unknown
# What one delivery's carrying out came to (``fleet.actions.perform``).
Performed = Succeeded | Skipped | Drafted | AlreadyFinished | HeldElsewhere | Unknown
# What settling a failure came to (``fleet.actions.failures.settle``).
Settled = Retry | Dead | Skipped | AlreadyFinished
# How one delivery of an action ended, whichever way.
Outcome = Performed | Settled


# Decided actions recorded once: the rows a batch of ticks adds to the activities.
#
# A tick delivered twice finds the decision it made before by (agent, due time) and adds
# nothing: the activities' unique key refuses the second row.


def decided_before(
    session: Session, ticks: Iterable[tuple[int, int]]
) -> dict[tuple[int, int], tuple[str, str, int]]:
    """Activities already recorded for these (agent, due second) ticks: (action, key, id)."""
    wanted = set(ticks)
    if not wanted:
        return {}
    rows = session.execute(
        select(
            AgentActivity.agent_id,
            AgentActivity.due_at,
            AgentActivity.action,
            AgentActivity.idempotency_key,
            AgentActivity.id,
        ).where(
            AgentActivity.agent_id.in_({agent_id for agent_id, _ in wanted}),
            AgentActivity.due_at.in_({datetime.fromtimestamp(due, UTC) for _, due in wanted}),
        )
    )
    found: dict[tuple[int, int], tuple[str, str, int]] = {}
    for agent_id, due_at, action, key, activity_id in rows:
        pair = (agent_id, math.floor(due_at.timestamp()))
        if pair in wanted and key == idempotency_key(pair[0], pair[1], action):
            found[pair] = (action, key, activity_id)
    return found


def record_decided(
    session: Session, rows: list[dict[str, Any]], keys: Sequence[str]
) -> tuple[set[str], dict[str, int]]:
    """Insert the decided activities ``rows`` (a key already recorded adds nothing), in the
    caller's transaction; returns the keys that were new and the ids of all ``keys``."""
    new: set[str] = set()
    if rows:
        statement = (
            insert_ignoring(session, AgentActivity, "idempotency_key")
            .values(rows)
            .returning(AgentActivity.idempotency_key)
        )
        new = set(session.scalars(statement))
    ids: dict[str, int] = {}
    if keys:
        found = select(AgentActivity.idempotency_key, AgentActivity.id).where(
            AgentActivity.idempotency_key.in_(keys)
        )
        ids = {key: activity_id for key, activity_id in session.execute(found)}
    return new, ids


def spoke_since(session: Session, agent_ids: Iterable[int], *, since: datetime) -> set[int]:
    """Those of these agents with a post or comment published since ``since``: others may
    have answered them, so their sessions open by answering (``fleet.core.answering``)."""
    wanted = set(agent_ids)
    if not wanted:
        return set()
    rows = session.execute(
        select(AgentActivity.agent_id)
        .where(
            AgentActivity.agent_id.in_(wanted),
            AgentActivity.created_at >= since,
            AgentActivity.action.in_(("post", "comment")),
            AgentActivity.status == ActivityStatus.SUCCEEDED,
        )
        .distinct()
    )
    return {agent_id for (agent_id,) in rows}


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


# By whether a first choice comes with the claim. The claim returns the activity's own
# columns (SQLite's RETURNING cannot return another table's), and the agent is read next.
_CLAIMS = {False: _CLAIM_ALONE, True: _choosing(_CLAIM_ALONE)}


def claim(
    sessions: sessionmaker[Session],
    key: str,
    *,
    now: datetime,
    lease: timedelta,
    first_choice: FirstChoice | None = None,
) -> Claim | Held | None:
    """Hold the pending activity ``key`` under a lease; None if it is already terminal,
    Held if another delivery holds it (this one does no work). The actions claim through
    ``claim_many`` (one action is a batch of one), which claims with this, key by key, on
    SQLite, and with one statement for every key on Postgres.

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
    row = connection.execute(_CLAIMS[choosing], params).first()
    if row is None:
        return None
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


# Claiming and finishing many activities at once: the batch path of the cheap kinds.
#
# A batch message carries many keys; its worker claims all of them with one statement and
# finishes all that reached a verdict with one statement, the engagement ledger included.
# Each activity keeps its own state: the claim is the same conditional update as one
# action's (``claim``: exclusive, a lease, a delivery counted) and the finish the
# same ``WHERE status = 'pending'`` (of two deliveries, one wins and only it writes the
# ledger). SQLite (the demo) takes them one by one, first choices included.

# The claim of one action (``_CLAIM``) for all of a batch's keys at once.
_CLAIM_MANY = (
    update(ACTIVITIES)
    .where(
        ACTIVITIES.c.idempotency_key.in_(bindparam("keys", expanding=True)),
        ACTIVITIES.c.status == ActivityStatus.PENDING,
        or_(
            ACTIVITIES.c.claimed_by.is_(None),
            ACTIVITIES.c.lease_expires_at.is_(None),
            ACTIVITIES.c.lease_expires_at <= bindparam("at"),
        ),
        AGENTS.c.id == ACTIVITIES.c.agent_id,
    )
    .values(
        lease_expires_at=bindparam("lease_until"),
        claimed_by=bindparam("token"),
        updated_at=bindparam("at"),
        deliveries=ACTIVITIES.c.deliveries + 1,
    )
    .returning(ACTIVITIES.c.idempotency_key, *_CLAIMED, *_ACTOR)
)
# The same claim keeping, for each like without a target yet, the post chosen for it before
# the claim (``FirstChoice``: ``claim`` keeps one the same way), if that post is not
# the agent's own and is open to it. The choices come as arrays: key, post, its author.
_FIRST = (
    func.unnest(
        bindparam("choice_keys", type_=ARRAY(String())),
        bindparam("posts", type_=ARRAY(String())),
        bindparam("authors", type_=ARRAY(String())),
    )
    .table_valued("key", "post", "author")
    .render_derived(name="chosen")
)
_CLAIM_CHOOSING = _CLAIM_MANY.where(ACTIVITIES.c.idempotency_key == _FIRST.c.key).values(
    target_post_id=case(
        (
            and_(
                ACTIVITIES.c.target_post_id.is_(None),
                _FIRST.c.post.is_not(None),
                ACTIVITIES.c.action == bindparam("kind"),
                AGENTS.c.handle != _FIRST.c.author,
                open_to(ACTIVITIES.c.agent_id, _FIRST.c.post),
            ),
            _FIRST.c.post,
        ),
        else_=ACTIVITIES.c.target_post_id,
    )
)
_CLAIM_CHOOSING = _CLAIM_CHOOSING.returning(_FIRST.c.post.is_not(None))
_STATES = select(ACTIVITIES.c.idempotency_key, ACTIVITIES.c.status).where(
    ACTIVITIES.c.idempotency_key.in_(bindparam("keys", expanding=True))
)


@dataclass(frozen=True, slots=True)
class Claimed:
    """What one claim statement for a batch found: the claims, and the keys it could not
    claim with the outcome that says why (already finished, held elsewhere, unknown)."""

    claims: list[Claim]
    unclaimed: dict[str, Unclaimed]


def claim_many(
    sessions: sessionmaker[Session],
    keys: Sequence[str],
    *,
    now: datetime,
    lease: timedelta,
    first_choices: dict[str, FirstChoice] | None = None,
) -> Claimed:
    """Hold every pending, unheld activity of ``keys`` under one lease, in one statement;
    with ``first_choices`` (by key, all of one kind, cap and hour) the statement also keeps
    each chosen post as its like's target if open (``Claim.first_choice_refused``)."""
    with autocommit(sessions).connect() as connection:
        if connection.dialect.name != "postgresql":
            return _one_by_one(sessions, keys, now=now, lease=lease, first_choices=first_choices)
        params: dict[str, Any] = {
            "keys": list(keys),
            "lease_until": now + lease,
            "at": now,
            "token": secrets.token_hex(8),
        }
        rows: Sequence[Any] = []
        choosing = bool(first_choices)
        if first_choices:
            some = next(iter(first_choices.values()))
            chosen = [first_choices.get(key) for key in keys]
            params |= {
                "choice_keys": list(keys),
                "posts": [c.post_id if c else None for c in chosen],
                "authors": [c.author if c else None for c in chosen],
                "kind": some.kind,
                "cap": some.cap_per_hour,
                "since": some.since,
            }
            try:
                rows = connection.execute(_CLAIM_CHOOSING, params).all()
            except IntegrityError:
                # Another action of one of these agents in flight holds its post (or two
                # of the batch chose the same): claim without the choices.
                choosing = False
        if not choosing:
            rows = [(*row, False) for row in connection.execute(_CLAIM_MANY, params).all()]
        claims = [_claim_of(row) for row in rows]
        missing = [key for key in keys if key not in {c.key for c in claims}]
        unclaimed: dict[str, Unclaimed] = {}
        if missing:
            # Rare (a redelivered batch, a replay): one more read says why.
            states = {k: v for k, v in connection.execute(_STATES, {"keys": missing})}
            for key in missing:
                state = states.get(key)
                unclaimed[key] = (
                    Unknown()
                    if state is None
                    else HeldElsewhere()
                    if state == ActivityStatus.PENDING
                    else AlreadyFinished()
                )
    return Claimed(claims, unclaimed)


def _claim_of(row: Sequence[Any]) -> Claim:
    """A claim from (key, the activity's columns, the agent's, whether a choice came)."""
    width = len(_CLAIMED)
    return claim_of(row[0], row[1 : 1 + width], row[1 + width : -1], chose=bool(row[-1]))


def _one_by_one(
    sessions: sessionmaker[Session],
    keys: Sequence[str],
    *,
    now: datetime,
    lease: timedelta,
    first_choices: dict[str, FirstChoice] | None,
) -> Claimed:
    """SQLite's ``claim_many``: each key's claim (and its first choice) on its own."""
    claims: list[Claim] = []
    unclaimed: dict[str, Unclaimed] = {}
    for key in keys:
        first = None if first_choices is None else first_choices.get(key)
        try:
            taken = claim(sessions, key, now=now, lease=lease, first_choice=first)
        except Exception:  # an unknown key: the batch goes on
            unclaimed[key] = Unknown()
            continue
        if isinstance(taken, Claim):
            claims.append(taken)
        else:
            unclaimed[key] = AlreadyFinished() if taken is None else HeldElsewhere()
    return Claimed(claims, unclaimed)


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
        engaged = [_engagement(v) for v in endings]
        params = {
            "ids": [v.activity_id for v in endings],
            "statuses": [v.status.value for v in endings],
            "results": [None if _result(v) is None else json.dumps(_result(v)) for v in endings],
            "reasons": [_reason(v) for v in endings],
            "posts": [e[0] if e else None for e in engaged],
            "kinds": [e[1] if e else None for e in engaged],
            "targets": [target_kind(e[1]) if e else None for e in engaged],
            "usages": [None if v.usage is None else json.dumps(v.usage) for v in endings],
            "at": now,
            "pending_status": ActivityStatus.PENDING.value,
            "succeeded_status": ActivityStatus.SUCCEEDED.value,
        }
        return set(connection.execute(_FINISH_MANY, params).scalars())
