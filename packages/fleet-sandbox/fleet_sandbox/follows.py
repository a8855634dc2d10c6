"""The sandbox's follow graph with its reactions to posts, as stored: set, cleared, counted,
listed.

A follow and a reaction are states: setting one that is set already changes nothing
(``changed`` False) and records no event. Functions take a connection inside the
caller's transaction, as ``fleet_sandbox.storage``'s do.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, or_, select

from fleet_sandbox.tables import (
    REACTIONS,
    Post,
    User,
    blocks,
    consents,
    follow_events,
    follows,
    posts,
    reactions,
    users,
)

_PAIR = and_(
    follows.c.follower_id == bindparam("follower_id"),
    follows.c.followed_id == bindparam("followed_id"),
)
_IS_FOLLOWING = select(follows.c.follower_id).where(_PAIR)
_UNFOLLOW = delete(follows).where(_PAIR)
_FOLLOW = insert(follows)
_FOLLOW_EVENT = insert(follow_events)
_FOLLOWERS_OF = select(func.count()).where(follows.c.followed_id == bindparam("user_id"))
_FOLLOWING_OF = select(func.count()).where(follows.c.follower_id == bindparam("user_id"))
_USER = (users.c.id, users.c.username, users.c.name, users.c.is_agent, users.c.persona)


def refusal(conn: Connection, *, person: User, agent: User) -> str | None:
    """Why ``person`` refuses ``agent``'s follow or reaction (opted out of agents, or
    blocked this one); None when they do not. An agent account refuses nothing."""
    if person.is_agent or not agent.is_agent:
        return None
    said = conn.execute(
        select(consents.c.agent_interactions).where(consents.c.user_id == person.id)
    ).scalar()
    if said == "none":
        return f"{person.username} said no to automated accounts"
    blocked = conn.execute(
        select(blocks.c.user_id).where(
            blocks.c.user_id == person.id, blocks.c.agent_user_id == agent.id
        )
    ).first()
    if blocked is not None:
        return f"{person.username} blocked {agent.username}"
    return None


def is_following(conn: Connection, *, follower_id: int, followed_id: int) -> bool:
    """Whether ``follower_id`` follows ``followed_id``."""
    pair = {"follower_id": follower_id, "followed_id": followed_id}
    return conn.execute(_IS_FOLLOWING, pair).first() is not None


def set_follow(
    conn: Connection,
    *,
    follower_id: int,
    followed_id: int,
    following: bool,
    key: str | None,
    now: datetime,
) -> bool:
    """Make ``follower_id``'s follow of ``followed_id`` be ``following``; whether it changed."""
    pair = {"follower_id": follower_id, "followed_id": followed_id}
    if following:
        if conn.execute(_IS_FOLLOWING, pair).first() is not None:
            return False
        conn.execute(_FOLLOW, {**pair, "created_at": now})
    elif conn.execute(_UNFOLLOW, pair).rowcount == 0:
        return False
    conn.execute(
        _FOLLOW_EVENT, {**pair, "following": following, "idempotency_key": key, "created_at": now}
    )
    return True


def counts(conn: Connection, user_id: int) -> tuple[int, int]:
    """(followers, following) of the user."""
    followers = conn.execute(_FOLLOWERS_OF, {"user_id": user_id}).scalar_one()
    following = conn.execute(_FOLLOWING_OF, {"user_id": user_id}).scalar_one()
    return int(followers), int(following)


def listed(conn: Connection, *, user_id: int, which: str, limit: int, offset: int) -> list[User]:
    """A page of the user's followers (``which="followers"``) or of whom they follow,
    newest follow first."""
    if which == "followers":
        mine, theirs = follows.c.followed_id, follows.c.follower_id
    else:
        mine, theirs = follows.c.follower_id, follows.c.followed_id
    query = (
        select(*_USER)
        .select_from(follows.join(users, users.c.id == theirs))
        .where(mine == user_id)
        .order_by(follows.c.created_at.desc(), users.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [
        User(r.id, r.username, r.name, bool(r.is_agent), r.persona, None)
        for r in conn.execute(query)
    ]


def followed_ids(conn: Connection, user_id: int) -> list[int]:
    """The ids of the accounts the user follows."""
    query = select(follows.c.followed_id).where(follows.c.follower_id == user_id)
    return [int(i) for i in conn.execute(query).scalars()]


def forget_user(conn: Connection, user_id: int) -> None:
    """Delete the user's follows (both ways) and reactions (given, and to their posts)."""
    for table in (follow_events, follows):
        conn.execute(
            delete(table).where(or_(table.c.follower_id == user_id, table.c.followed_id == user_id))
        )
    own = select(posts.c.id).where(posts.c.user_id == user_id).scalar_subquery()
    conn.execute(
        delete(reactions).where(or_(reactions.c.user_id == user_id, reactions.c.post_id.in_(own)))
    )


def set_reaction(
    conn: Connection, *, post_id: int, user_id: int, reaction: str | None, now: datetime
) -> bool:
    """Make the user's reaction to the post be ``reaction`` (None: none); whether it changed."""
    mine = and_(reactions.c.post_id == post_id, reactions.c.user_id == user_id)
    had = conn.execute(select(reactions.c.reaction).where(mine)).scalar()
    if had == reaction:
        return False
    if had is not None:
        conn.execute(delete(reactions).where(mine))
    if reaction is not None:
        conn.execute(
            insert(reactions).values(
                post_id=post_id, user_id=user_id, reaction=reaction, created_at=now
            )
        )
    return True


def reaction_counts(
    conn: Connection, post_ids: Iterable[int]
) -> dict[int, tuple[tuple[str, int], ...]]:
    """Each post's reaction counts, in ``REACTIONS`` order (a post with none is left out)."""
    ids = list(post_ids)
    if not ids:
        return {}
    found: dict[int, dict[str, int]] = {}
    for post_id, name, n in conn.execute(_REACTION_COUNTS, {"post_ids": ids}):
        found.setdefault(int(post_id), {})[str(name)] = int(n)
    return {
        pid: tuple(sorted(by.items(), key=lambda c: _ORDER.get(c[0], len(_ORDER))))
        for pid, by in found.items()
    }


# Built once, as ``fleet_sandbox.storage``'s statements: every page of posts asks it (a
# statement built and keyed per call cost a feed page a third of its time).
_REACTION_COUNTS = (
    select(reactions.c.post_id, reactions.c.reaction, func.count())
    .where(reactions.c.post_id.in_(bindparam("post_ids", expanding=True)))
    .group_by(reactions.c.post_id, reactions.c.reaction)
)
_ORDER = {name: k for k, name in enumerate(REACTIONS)}


def with_reactions(conn: Connection, found: list[Post]) -> list[Post]:
    """The posts with their reaction counts."""
    by_post = reaction_counts(conn, (p.id for p in found))
    if not by_post:
        return found
    return [
        dataclasses.replace(p, reactions=by_post[p.id]) if p.id in by_post else p for p in found
    ]


def reactions_json(counts: tuple[tuple[str, int], ...]) -> dict[str, Any]:
    """Reaction counts as the API shows them: every offered reaction with its count."""
    have = dict(counts)
    return {name: have.get(name, 0) for name in REACTIONS}
