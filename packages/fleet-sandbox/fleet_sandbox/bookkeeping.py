"""The sandbox's bookkeeping: budget units spent per day and agent, and the answers
remembered per Idempotency-Key (read alone, or with the account of the agent calling)."""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import Connection, and_, bindparam, insert, select, update

from fleet_sandbox.config import Spent
from fleet_sandbox.tables import Remembered, User, idempotency, spend, users

_SPENT_ON = select(spend.c.username, spend.c.units).where(spend.c.day == bindparam("day"))
_SPEND_MORE = (
    update(spend)
    .where(spend.c.day == bindparam("on_day"), spend.c.username == bindparam("spender"))
    .values(units=spend.c.units + 1)
)
_SPEND_FIRST = insert(spend)
_RECALL = select(idempotency.c.route, idempotency.c.status, idempotency.c.body).where(
    idempotency.c.actor == bindparam("actor"), idempotency.c.key == bindparam("key")
)
_REMEMBER = insert(idempotency)
# An agent's call reads its account and the answer remembered for its key in one
# statement (no key: none is remembered, the join finds nothing).
_AGENT_AND_ANSWER = (
    select(
        users.c.id,
        users.c.username,
        users.c.name,
        users.c.is_agent,
        users.c.persona,
        users.c.agent_id,
        idempotency.c.route,
        idempotency.c.status,
        idempotency.c.body,
    )
    .select_from(
        users.outerjoin(
            idempotency,
            and_(idempotency.c.actor == users.c.username, idempotency.c.key == bindparam("key")),
        )
    )
    .where(users.c.username == bindparam("username"))
)


def spent(conn: Connection, *, day: date, username: str) -> Spent:
    """Units spent on ``day`` by the whole fleet and by one agent."""
    rows = conn.execute(_SPENT_ON, {"day": day}).all()
    return Spent(
        fleet=sum(units for _, units in rows),
        agent=sum(units for name, units in rows if name == username),
    )


def spend_unit(conn: Connection, *, day: date, username: str) -> None:
    """Spend one unit of ``day``'s budget for ``username``."""
    if not conn.execute(_SPEND_MORE, {"on_day": day, "spender": username}).rowcount:
        conn.execute(_SPEND_FIRST, {"day": day, "username": username, "units": 1})


def spent_by_agent(conn: Connection, *, day: date) -> dict[str, int]:
    """Units spent on ``day``, per agent."""
    rows = conn.execute(_SPENT_ON, {"day": day})
    return {name: int(units) for name, units in rows}


def recall(conn: Connection, *, actor: str, key: str) -> Remembered | None:
    """The answer remembered for (actor, Idempotency-Key), if any."""
    row = conn.execute(_RECALL, {"actor": actor, "key": key}).first()
    return None if row is None else Remembered(row.route, row.status, json.loads(row.body))


def agent_and_answer(
    conn: Connection, *, username: str, key: str | None
) -> tuple[User | None, Remembered | None]:
    """The account named ``username`` (if any) and the answer remembered for its calls
    with Idempotency-Key ``key`` (if any; None: no key to look for)."""
    row = conn.execute(_AGENT_AND_ANSWER, {"username": username, "key": key}).first()
    if row is None:
        return None, None
    id_, name_, name, is_agent, persona, agent_id, route, status, body = row
    user = User(id_, name_, name, bool(is_agent), persona, agent_id)
    return user, None if route is None else Remembered(route, status, json.loads(body))


def remember(
    conn: Connection,
    *,
    actor: str,
    key: str,
    route: str,
    status: int,
    body: str,
    now: datetime,
) -> None:
    """Remember an answer (``body``: its JSON, as it was sent); raises IntegrityError when
    the key is already taken."""
    conn.execute(
        _REMEMBER,
        {
            "actor": actor,
            "key": key,
            "route": route,
            "status": status,
            "body": body,
            "created_at": now,
        },
    )
