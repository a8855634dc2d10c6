"""Claiming and finishing many activities at once: the batch path of the cheap kinds.

A batch message carries many keys; its worker claims all of them with one statement and
finishes all that reached a verdict with one statement, the engagement ledger included.
Each activity keeps its own state: the claim is the same conditional update as one
action's (``commands.claim``: exclusive, a lease, a delivery counted) and the finish the
same ``WHERE status = 'pending'`` (of two deliveries, one wins and only it writes the
ledger). SQLite (the demo) takes them one by one.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, or_, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from fleet.activities import commands
from fleet.activities.commands import _ACTOR, _CLAIMED
from fleet.activities.ledger import ACTIVITIES, AGENTS
from fleet.activities.views import Actor, Claim
from fleet.db.engine import autocommit

# The claim of one action (``commands._CLAIM``) for all of a batch's keys at once.
_CLAIM_MANY = (
    update(ACTIVITIES)
    .where(
        ACTIVITIES.c.idempotency_key.in_(bindparam("keys", expanding=True)),
        ACTIVITIES.c.status == "pending",
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
_STATES = select(ACTIVITIES.c.idempotency_key, ACTIVITIES.c.status).where(
    ACTIVITIES.c.idempotency_key.in_(bindparam("keys", expanding=True))
)


@dataclass(frozen=True, slots=True)
class Claimed:
    """What one claim statement for a batch found: the claims, and the keys it could not
    claim with why (``already-finished``, ``held-elsewhere``, ``unknown``)."""

    claims: list[Claim]
    unclaimed: dict[str, str]


def claim_many(
    sessions: sessionmaker[Session], keys: Sequence[str], *, now: datetime, lease: timedelta
) -> Claimed:
    """Hold every pending, unheld activity of ``keys`` under one lease, in one statement."""
    with autocommit(sessions).connect() as connection:
        if connection.dialect.name != "postgresql":
            return _one_by_one(sessions, keys, now=now, lease=lease)
        params = {
            "keys": list(keys),
            "lease_until": now + lease,
            "at": now,
            "token": secrets.token_hex(8),
        }
        rows = connection.execute(_CLAIM_MANY, params).all()
        claims = [_claim_of(row) for row in rows]
        missing = [key for key in keys if key not in {c.key for c in claims}]
        unclaimed: dict[str, str] = {}
        if missing:
            # Rare (a redelivered batch, a replay): one more read says why.
            states = {k: v for k, v in connection.execute(_STATES, {"keys": missing})}
            for key in missing:
                state = states.get(key)
                unclaimed[key] = (
                    "unknown"
                    if state is None
                    else "held-elsewhere"
                    if state == "pending"
                    else "already-finished"
                )
    return Claimed(claims, unclaimed)


def _claim_of(row: Sequence[Any]) -> Claim:
    key = row[0]
    activity_id, action, due_at, attempts, deliveries, content, target = row[1 : 1 + len(_CLAIMED)]
    actor = Actor(*row[1 + len(_CLAIMED) :])
    return Claim(
        activity_id, key, action, due_at, attempts, deliveries, dict(content or {}), target, actor
    )


def _one_by_one(
    sessions: sessionmaker[Session], keys: Sequence[str], *, now: datetime, lease: timedelta
) -> Claimed:
    claims: list[Claim] = []
    unclaimed: dict[str, str] = {}
    for key in keys:
        try:
            claim = commands.claim(sessions, key, now=now, lease=lease)
        except Exception:  # an unknown key: the batch goes on
            unclaimed[key] = "unknown"
            continue
        if isinstance(claim, Claim):
            claims.append(claim)
        else:
            unclaimed[key] = "already-finished" if claim is None else "held-elsewhere"
    return Claimed(claims, unclaimed)


@dataclass(frozen=True, slots=True)
class Ending:
    """How one claimed activity of a batch ends: ``succeeded`` or ``skipped``."""

    activity_id: int
    status: str
    result: dict[str, Any] | None = None
    reason: str | None = None
    engagement: tuple[str, str] | None = None


# One statement: the terminal updates, and the winners' engagements in the ledger.
_FINISH_MANY = text(
    """
    WITH v AS (
        SELECT * FROM unnest(
            CAST(:ids AS bigint[]), CAST(:statuses AS text[]), CAST(:results AS text[]),
            CAST(:reasons AS text[]), CAST(:posts AS text[]), CAST(:kinds AS text[])
        ) AS v(id, status, result, reason, post_id, kind)
    ), done AS (
        UPDATE agent_activities AS a
        SET status = v.status, result = CAST(v.result AS jsonb), error = v.reason,
            finished_at = :at, updated_at = :at, lease_expires_at = NULL
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


def finish_many(
    sessions: sessionmaker[Session], endings: Sequence[Ending], *, now: datetime
) -> set[int]:
    """End these pending activities, each as its verdict says, in one statement; the ids
    that ended here (one already ended by another delivery is left as it is)."""
    if not endings:
        return set()
    for ending in endings:
        if ending.status not in ("succeeded", "skipped"):
            raise ValueError(f"finish_many() takes succeeded or skipped, not {ending.status!r}")
    with autocommit(sessions).connect() as connection:
        if connection.dialect.name != "postgresql":
            return {
                v.activity_id
                for v in endings
                if commands.finish(
                    sessions,
                    v.activity_id,
                    v.status,
                    now=now,
                    result=v.result,
                    reason=v.reason,
                    engagement=v.engagement,
                )
            }
        engaged = [v.engagement if v.status == "succeeded" else None for v in endings]
        params = {
            "ids": [v.activity_id for v in endings],
            "statuses": [v.status for v in endings],
            "results": [None if v.result is None else json.dumps(v.result) for v in endings],
            "reasons": [v.reason for v in endings],
            "posts": [e[0] if e else None for e in engaged],
            "kinds": [e[1] if e else None for e in engaged],
            "at": now,
        }
        return set(connection.execute(_FINISH_MANY, params).scalars())
