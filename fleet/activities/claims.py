"""A delivery's hold on its activity: a lease, from its claim until it is let go or runs out.

A claim is exclusive: it takes an activity nobody holds, or one whose holder went silent
past its lease; of two deliveries of one action (a re-sent message, a backlog older than
the lease), the second finds it held and does no work. A batch's keys are claimed in one
statement (``claim_many``), one action's as a batch of one; SQLite (the demo) takes them
one by one. Leases that ran out are leased anew for the sweeper to send again.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Any

from sqlalchemy import (
    ARRAY,
    String,
    and_,
    any_,
    bindparam,
    case,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from fleet.activities.kept_targets import ACTIVITIES, AGENTS, open_to
from fleet.activities.outcomes import AlreadyFinished, HeldElsewhere, Unclaimed, Unknown
from fleet.activities.views import Actor, Claim, FirstChoice, Held
from fleet.core.kinds import Action, ActionKey
from fleet.core.leases import resend_lease
from fleet.core.statuses import ActivityStatus
from fleet.core.tick_notes import NO_NOTES, TickNotes
from fleet.db.engine import autocommit
from fleet.db.models import AgentActivity
from fleet.errors import InputError

__all__ = ["Claimed", "claim", "claim_many", "claim_of", "expired_leases", "release"]

# The hot path of every action (claim, target, finish) runs statements built once:
# building and keying a statement per call cost more than the database round trips.

_CLAIMED = (
    ACTIVITIES.c.id,
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
    key: ActionKey[Action],
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
        "key": key.text,
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
            state = connection.execute(_KEY_STATE, {"key": key.text}).first()
            if state is None:
                raise InputError(f"no activity with key {key.text!r}")
            if state.status == ActivityStatus.PENDING:
                return Held(key, state.lease_expires_at)
            return None
    columns, actor = claimed
    return claim_of(key, columns, actor, chose=first_choice is not None)


def claim_of(
    key: ActionKey[Action], columns: Sequence[Any], actor: Sequence[Any], *, chose: bool
) -> Claim:
    """A claim from the activity's claimed columns (``_CLAIMED``) and its agent's
    (``_ACTOR``); ``chose``: a first choice came with the claim (refused if no target).
    The tick's notes are read here, once, from the content the tick wrote."""
    activity_id, due_at, attempts, deliveries, content, target_post_id = columns
    written = dict(content or {})
    return Claim(
        activity_id,
        key,
        due_at,
        attempts,
        deliveries,
        written,
        target_post_id,
        Actor(*actor),
        first_choice_refused=chose and target_post_id is None,
        # A tick that noted nothing (a like's) wrote no content: no notes to read.
        notes=TickNotes.of(written) if written else NO_NOTES,
    )


def _claim_row(
    connection: Connection, params: dict[str, Any], *, choosing: bool
) -> tuple[Sequence[Any], Sequence[Any]] | None:
    """(the activity's columns, the agent's) of the claimed activity, or None."""
    row = connection.execute(_CLAIMS[choosing], params).first()
    if row is None:
        return None
    return row[: len(_CLAIMED)], tuple(connection.execute(_ACTOR_OF, {"agent": row[-1]}).one())


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


def expired_leases(
    sessions: sessionmaker[Session], *, now: datetime, lease: timedelta, limit: int = 1000
) -> list[ActionKey[Action]]:
    """Pending activities whose lease ran out, leased anew: their keys, to re-send (read
    from the ledger's column once, here).

    One a delivery held (claimed, its worker gone) gets one ``lease``; one nobody took
    may still wait in a long queue, and gets a lease as long as its wait since it was
    due (``fleet.core.leases``): a backlog longer than the lease piles a few copies of
    each action, not one a lease."""
    with sessions.begin() as session:
        statement = (
            select(
                AgentActivity.id,
                AgentActivity.idempotency_key,
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
        return [ActionKey.parse(r.idempotency_key) for r in found]


# Claiming many activities at once: the batch path of the cheap kinds.
#
# A batch message carries many keys; its worker claims all of them with one statement
# (and finishes all that reached a verdict with one, ``finishes.finish_many``). Each
# activity keeps its own state: the claim is the same conditional update as one action's
# (``claim``: exclusive, a lease, a delivery counted). SQLite (the demo) takes them one by
# one, first choices included.

# The claim of one action (``_CLAIM``) for all of a batch's keys at once.
_CLAIM_MANY = (
    update(ACTIVITIES)
    .where(
        # The keys as one array: one statement text whatever the batch's size, which
        # psycopg keeps parsed (an expanding IN of 50 keys was parsed again each batch).
        ACTIVITIES.c.idempotency_key == any_(bindparam("keys", type_=ARRAY(String()))),
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
    ACTIVITIES.c.idempotency_key == any_(bindparam("keys", type_=ARRAY(String())))
)


# What one claim statement for a batch found: the claims, and the keys it could not claim
# with the outcome that says why (already finished, held elsewhere, unknown). A pair its
# one caller takes apart at once (``fleet.actions.perform``): no value built to be unpacked.
Claimed = tuple[list[Claim], dict[ActionKey[Action], Unclaimed]]


def claim_many(
    sessions: sessionmaker[Session],
    keys: Sequence[ActionKey[Action]],
    *,
    now: datetime,
    lease: timedelta,
    first_choices: dict[ActionKey[Action], FirstChoice] | None = None,
) -> Claimed:
    """Hold every pending, unheld activity of ``keys`` under one lease, in one statement;
    with ``first_choices`` (by key, all of one kind, cap and hour) the statement also keeps
    each chosen post as its like's target if open (``Claim.first_choice_refused``). The
    claims, and the keys not claimed with why (``Claimed``: a pair, taken apart at once)."""
    with autocommit(sessions).connect() as connection:
        if connection.dialect.name != "postgresql":
            return _one_by_one(sessions, keys, now=now, lease=lease, first_choices=first_choices)
        # The keys as the ledger holds them, and back: the statement returns the column.
        by_text = {key.text: key for key in keys}
        params: dict[str, Any] = {
            "keys": list(by_text),
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
                "choice_keys": list(by_text),
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
        # Each row: (key, the activity's columns, the agent's, whether a choice came); its
        # key the batch's value that the ledger's text names.
        width = len(_CLAIMED)
        claims = [
            claim_of(by_text[row[0]], row[1 : 1 + width], row[1 + width : -1], chose=bool(row[-1]))
            for row in rows
        ]
        claimed = set(map(attrgetter("key"), claims))
        missing = [key for key in keys if key not in claimed]
        unclaimed: dict[ActionKey[Action], Unclaimed] = {}
        if missing:
            # Rare (a redelivered batch, a replay): one more read says why.
            found = connection.execute(_STATES, {"keys": [key.text for key in missing]})
            states = {by_text[k]: v for k, v in found}
            for key in missing:
                state = states.get(key)
                unclaimed[key] = (
                    Unknown()
                    if state is None
                    else HeldElsewhere()
                    if state == ActivityStatus.PENDING
                    else AlreadyFinished()
                )
    return claims, unclaimed


def _one_by_one(
    sessions: sessionmaker[Session],
    keys: Sequence[ActionKey[Action]],
    *,
    now: datetime,
    lease: timedelta,
    first_choices: dict[ActionKey[Action], FirstChoice] | None,
) -> Claimed:
    """SQLite's ``claim_many``: each key's claim (and its first choice) on its own."""
    claims: list[Claim] = []
    unclaimed: dict[ActionKey[Action], Unclaimed] = {}
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
    return claims, unclaimed
