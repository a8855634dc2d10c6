"""Claiming and finishing many activities at once: the batch path of the cheap kinds.

A batch message carries many keys; its worker claims all of them with one statement and
finishes all that reached a verdict with one statement, the engagement ledger included.
Each activity keeps its own state: the claim is the same conditional update as one
action's (``commands.claim``: exclusive, a lease, a delivery counted) and the finish the
same ``WHERE status = 'pending'`` (of two deliveries, one wins and only it writes the
ledger). SQLite (the demo) takes them one by one, first choices included.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ARRAY, String, and_, bindparam, case, func, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from fleet.activities import commands
from fleet.activities.commands import _ACTOR, _CLAIMED
from fleet.activities.kept_targets import ACTIVITIES, AGENTS, open_to
from fleet.activities.outcomes import (
    AlreadyFinished,
    CarriedOut,
    HeldElsewhere,
    Skipped,
    Succeeded,
    Unclaimed,
    Unknown,
)
from fleet.activities.views import Claim, FirstChoice
from fleet.core.statuses import ActivityStatus
from fleet.db.engine import autocommit

# The claim of one action (``commands._CLAIM``) for all of a batch's keys at once.
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
# the claim (``FirstChoice``: ``commands.claim`` keeps one the same way), if that post is not
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
    return commands.claim_of(row[0], row[1 : 1 + width], row[1 + width : -1], chose=bool(row[-1]))


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
            claim = commands.claim(sessions, key, now=now, lease=lease, first_choice=first)
        except Exception:  # an unknown key: the batch goes on
            unclaimed[key] = Unknown()
            continue
        if isinstance(claim, Claim):
            claims.append(claim)
        else:
            unclaimed[key] = AlreadyFinished() if claim is None else HeldElsewhere()
    return Claimed(claims, unclaimed)


# One statement: the terminal updates, and the winners' engagements in the ledger.
_FINISH_MANY = text(
    """
    WITH v AS (
        SELECT * FROM unnest(
            CAST(:ids AS bigint[]), CAST(:statuses AS text[]), CAST(:results AS text[]),
            CAST(:reasons AS text[]), CAST(:posts AS text[]), CAST(:kinds AS text[]),
            CAST(:usages AS text[])
        ) AS v(id, status, result, reason, post_id, kind, usage)
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
        WHERE a.id = v.id AND a.status = 'pending'
        RETURNING a.id, a.agent_id
    ), ledger AS (
        INSERT INTO engagements (agent_id, post_id, kind, activity_id, created_at)
        SELECT done.agent_id, v.post_id, v.kind, done.id, :at
        FROM done JOIN v ON v.id = done.id
        WHERE v.status = 'succeeded' AND v.post_id IS NOT NULL
        ON CONFLICT (agent_id, post_id, kind) DO NOTHING
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
                    commands.save_progress(sessions, v.activity_id, now=now, usage=v.usage)
            return {
                v.activity_id
                for v in endings
                if commands.finish(
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
            "usages": [None if v.usage is None else json.dumps(v.usage) for v in endings],
            "at": now,
        }
        return set(connection.execute(_FINISH_MANY, params).scalars())
