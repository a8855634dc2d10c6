"""Introspection for tests and reconciliation: what each user made, and the duplicates.

Every post, comment and like event records the ``Idempotency-Key`` header it came with,
even when the sandbox does not honour the header, so the report can show duplicates:

- posts: two posts of one user with the same key, or the same caption marker;
- comments: likewise, on one post;
- likes: a (user, post) pair liked more than once (a retry or a second action toggled it
  off and on again; with ``liked`` false it was left unliked).

A caption marker is ``[fleet:<token>]`` anywhere in a post's description or a comment's
text, the token being 1-64 of ``A-Z a-z 0-9 _ . : -``: a way for a client that cannot
send headers (or a gallery that drops them) to tag an effect with its key. Fleet's
client sends the header and adds no marker; the HTML page does not show markers.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, Table, case, func, select

from fleet_sandbox.storage import comments, like_events, likes, posts, users


def report(conn: Connection) -> dict[str, Any]:
    """Counts per user and the duplicates (see the module docstring), as camelCase JSON."""
    names = {row.id: row.username for row in conn.execute(select(users.c.id, users.c.username))}

    def per_user(table: Table) -> dict[int, int]:
        query = select(table.c.user_id, func.count()).group_by(table.c.user_id)
        return {int(user_id): int(count) for user_id, count in conn.execute(query)}

    made = {"posts": per_user(posts), "likes": per_user(likes), "comments": per_user(comments)}
    people = [
        {"id": str(user_id), "username": username}
        | {kind: counts.get(user_id, 0) for kind, counts in made.items()}
        for user_id, username in sorted(names.items())
    ]
    totals = {"users": len(names)} | {kind: sum(c.values()) for kind, c in made.items()}

    def duplicates(table: Table, scope: list[str]) -> list[dict[str, Any]]:
        groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
        query = select(
            table.c.id, table.c.idempotency_key, table.c.marker, *[table.c[name] for name in scope]
        ).order_by(table.c.id)
        for row in conn.execute(query):
            where = tuple(row._mapping[name] for name in scope)
            if row.idempotency_key:
                groups[("idempotencyKey", row.idempotency_key, *where)].append(row.id)
            if row.marker:
                groups[("marker", row.marker, *where)].append(row.id)
        found = []
        for (kind, value, *rest), ids in groups.items():
            if len(ids) > 1:
                entry = {"kind": kind, "value": value, "ids": [str(i) for i in ids]}
                entry |= {"username": names.get(rest[0], "?")}
                if len(rest) > 1:
                    entry |= {"postId": str(rest[1])}
                found.append(entry)
        return found

    liked_now = {(row.user_id, row.post_id) for row in conn.execute(select(likes))}
    likes_query = (
        select(
            like_events.c.user_id,
            like_events.c.post_id,
            func.sum(case((like_events.c.liked, 1), else_=0)).label("liked"),
            func.sum(case((like_events.c.liked, 0), else_=1)).label("unliked"),
        )
        .group_by(like_events.c.user_id, like_events.c.post_id)
        .having(func.sum(case((like_events.c.liked, 1), else_=0)) > 1)
    )
    double_likes = [
        {
            "username": names.get(row.user_id, "?"),
            "postId": str(row.post_id),
            "likes": int(row.liked),
            "unlikes": int(row.unliked),
            "liked": (row.user_id, row.post_id) in liked_now,
        }
        for row in conn.execute(likes_query)
    ]
    return {
        "users": people,
        "totals": totals,
        "duplicates": {
            "posts": duplicates(posts, ["user_id"]),
            "comments": duplicates(comments, ["user_id", "post_id"]),
            "likes": double_likes,
        },
    }
