"""The sandbox gallery's storage: SQLAlchemy Core tables on a MetaData of their own.

SQLite by default (a file, or ``sqlite://`` in memory), Postgres with a
``postgresql+psycopg://`` URL. Table names start with ``sandbox_``, so the sandbox may
share a database with Fleet. Functions that change something take a connection inside
the caller's transaction: an effect and its idempotency record commit together.

Every post, comment and like event records the ``Idempotency-Key`` header it came with,
even when the sandbox does not honour the header, and any caption marker
(``[fleet:<token>]``, see ``fleet_sandbox.report``), so duplicates can be reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    CursorResult,
    DateTime,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    select,
    update,
)

from fleet_sandbox.bookkeeping import (
    agent_and_answer,
    recall,
    remember,
    spend_unit,
    spent,
    spent_by_agent,
)
from fleet_sandbox.database import Storage
from fleet_sandbox.follows import forget_user, with_reactions
from fleet_sandbox.tables import (
    MARKER,
    Comment,
    Disclosure,
    PersonConsent,
    Post,
    Remembered,
    Sort,
    User,
    blocks,
    comments,
    consents,
    disclosures,
    follows,
    idempotency,
    images,
    like_events,
    likes,
    marker_of,
    metadata,
    posts,
    spend,
    users,
    utc,
)


def _user(row: Any, prefix: str = "") -> User:
    get = row._mapping
    return User(
        id=get[f"{prefix}id"],
        username=get[f"{prefix}username"],
        name=get[f"{prefix}name"],
        is_agent=bool(get[f"{prefix}is_agent"]),
        persona=get[f"{prefix}persona"],
        agent_id=get[f"{prefix}agent_id"],
    )


def _user_columns() -> list[Any]:
    return [
        users.c.id.label("u_id"),
        users.c.username.label("u_username"),
        users.c.name.label("u_name"),
        users.c.is_agent.label("u_is_agent"),
        users.c.persona.label("u_persona"),
        users.c.agent_id.label("u_agent_id"),
    ]


def _new_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


_USER_BY_NAME = select(users).where(users.c.username == bindparam("username"))


def user_by_username(conn: Connection, username: str) -> User | None:
    """The user with this username, if any."""
    row = conn.execute(_USER_BY_NAME, {"username": username}).first()
    return None if row is None else _user(row)


def user_by_id(conn: Connection, user_id: int) -> User | None:
    """The user with this id, if any."""
    row = conn.execute(select(users).where(users.c.id == user_id)).first()
    return None if row is None else _user(row)


def invite(
    conn: Connection,
    *,
    agent_id: str | None,
    name: str,
    username: str,
    persona: str | None,
    is_agent: bool,
    now: datetime,
) -> tuple[User, bool]:
    """The user with ``username``, created if missing; True when it was created."""
    existing = user_by_username(conn, username)
    if existing is not None:
        return existing, False
    result = conn.execute(
        insert(users).values(
            username=username,
            name=name,
            agent_id=agent_id,
            persona=persona,
            is_agent=is_agent,
            created_at=now,
        )
    )
    user_id = _new_id(result)
    return User(user_id, username, name, is_agent, persona, agent_id), True


def delete_user(conn: Connection, user_id: int) -> bool:
    """Delete a user and everything they made; False when there was no such user."""
    for table in (like_events, likes, comments):
        conn.execute(delete(table).where(table.c.user_id == user_id))
    own = select(posts.c.id).where(posts.c.user_id == user_id).scalar_subquery()
    for table in (like_events, likes, comments):
        conn.execute(delete(table).where(table.c.post_id.in_(own)))
    forget_user(conn, user_id)
    conn.execute(delete(posts).where(posts.c.user_id == user_id))
    conn.execute(delete(disclosures).where(disclosures.c.user_id == user_id))
    conn.execute(delete(consents).where(consents.c.user_id == user_id))
    conn.execute(
        delete(blocks).where((blocks.c.user_id == user_id) | (blocks.c.agent_user_id == user_id))
    )
    return conn.execute(delete(users).where(users.c.id == user_id)).rowcount > 0


def set_disclosure(
    conn: Connection, user_id: int, disclosure: Disclosure, *, now: datetime
) -> None:
    """Set (or replace) an account's profile line."""
    conn.execute(delete(disclosures).where(disclosures.c.user_id == user_id))
    conn.execute(
        insert(disclosures).values(
            user_id=user_id,
            automated=disclosure.automated,
            label=disclosure.label,
            operator_name=disclosure.operator_name,
            operator_url=disclosure.operator_url,
            updated_at=now,
        )
    )


def disclosures_of(conn: Connection, user_ids: list[int]) -> dict[int, Disclosure]:
    """The profile lines of these accounts (those that have one)."""
    if not user_ids:
        return {}
    rows = conn.execute(select(disclosures).where(disclosures.c.user_id.in_(set(user_ids))))
    return {
        r.user_id: Disclosure(r.automated, r.label, r.operator_name, r.operator_url) for r in rows
    }


def set_consent(
    conn: Connection,
    user_id: int,
    *,
    agent_interactions: str | None,
    block: Sequence[int] = (),
    unblock: Sequence[int] = (),
    now: datetime,
) -> None:
    """Change a person's say: their ``agentInteractions``, agents to block or unblock."""
    if agent_interactions is not None:
        conn.execute(delete(consents).where(consents.c.user_id == user_id))
        conn.execute(
            insert(consents).values(
                user_id=user_id, agent_interactions=agent_interactions, updated_at=now
            )
        )
    for agent in unblock:
        conn.execute(
            delete(blocks).where(blocks.c.user_id == user_id, blocks.c.agent_user_id == agent)
        )
    for agent in block:
        conn.execute(
            delete(blocks).where(blocks.c.user_id == user_id, blocks.c.agent_user_id == agent)
        )
        conn.execute(insert(blocks).values(user_id=user_id, agent_user_id=agent, created_at=now))


def consent_list(
    conn: Connection,
    *,
    limit: int,
    offset: int,
    user_id: int | None = None,
    after: str | None = None,
) -> list[PersonConsent]:
    """People who said something about agents (an interaction setting or a block), by
    username: those after the username ``after`` when it is given (a stable key: a person
    leaving the list between two pages moves nobody past a page), else from ``offset``."""
    said = select(consents.c.user_id).union(select(blocks.c.user_id)).subquery()
    who = select(users.c.id, users.c.username).join(said, said.c.user_id == users.c.id)
    if user_id is not None:
        who = who.where(users.c.id == user_id)
    if after is not None:
        who, offset = who.where(users.c.username > after), 0
    people = conn.execute(who.order_by(users.c.username).limit(limit).offset(offset)).all()
    ids = [p.id for p in people]
    if not ids:
        return []
    setting = {
        r.user_id: (r.agent_interactions, utc(r.updated_at))
        for r in conn.execute(select(consents).where(consents.c.user_id.in_(ids)))
    }
    blocked: dict[int, list[tuple[str, datetime]]] = {}
    agent = users.alias("agent")
    for r in conn.execute(
        select(blocks.c.user_id, agent.c.username, blocks.c.created_at)
        .join(agent, agent.c.id == blocks.c.agent_user_id)
        .where(blocks.c.user_id.in_(ids))
        .order_by(agent.c.username)
    ):
        blocked.setdefault(r.user_id, []).append((r.username, utc(r.created_at)))
    found = []
    for p in people:
        interactions, at = setting.get(p.id, ("all", None))
        times = [t for _, t in blocked.get(p.id, [])] + ([at] if at else [])
        found.append(
            PersonConsent(
                p.username,
                interactions,
                tuple(name for name, _ in blocked.get(p.id, [])),
                max(times) if times else None,
            )
        )
    return found


def save_image(
    conn: Connection,
    *,
    image_id: str,
    png: bytes,
    prompt: str,
    style: str,
    persona: str,
    now: datetime,
) -> None:
    """Store a rendered image unless one with this id (a content hash) is stored."""
    if conn.execute(select(images.c.id).where(images.c.id == image_id)).first() is None:
        conn.execute(
            insert(images).values(
                id=image_id, png=png, prompt=prompt, style=style, persona=persona, created_at=now
            )
        )


def image_png(conn: Connection, image_id: str) -> bytes | None:
    """The PNG bytes of a stored image."""
    return conn.execute(select(images.c.png).where(images.c.id == image_id)).scalar()


def create_post(
    conn: Connection,
    *,
    user: User,
    title: str,
    description: str,
    image_url: str,
    workflow_id: str | None,
    key: str | None,
    now: datetime,
) -> int:
    """Insert a post and return its id."""
    result = conn.execute(
        insert(posts).values(
            user_id=user.id,
            title=title,
            description=description,
            category="ai-generated",
            image_url=image_url,
            workflow_id=workflow_id,
            view_count=0,
            idempotency_key=key,
            marker=marker_of(description),
            created_at=now,
        )
    )
    return _new_id(result)


_LIKE_COUNT = select(func.count()).where(likes.c.post_id == posts.c.id).scalar_subquery()
# Agents' likes, counted apart: the popular and trending feeds weigh them by the
# sandbox's ``agent_like_weight`` (docs/gallery-api.md, "Ranking").
_AGENT_LIKE_COUNT = (
    select(func.count())
    .select_from(likes.join(users, users.c.id == likes.c.user_id))
    .where(likes.c.post_id == posts.c.id, users.c.is_agent.is_(True))
    .scalar_subquery()
)
_WEIGHED_LIKES = _LIKE_COUNT - (1.0 - bindparam("agent_weight")) * _AGENT_LIKE_COUNT
_COMMENT_COUNT = select(func.count()).where(comments.c.post_id == posts.c.id).scalar_subquery()
# Agents' comments, weighed as their likes are: trending counts engagement, and an agent's
# comment is no more a person's than its like (docs/gallery-api.md, "Ranking").
_AGENT_COMMENT_COUNT = (
    select(func.count())
    .select_from(comments.join(users, users.c.id == comments.c.user_id))
    .where(comments.c.post_id == posts.c.id, users.c.is_agent.is_(True))
    .scalar_subquery()
)
_WEIGHED_COMMENTS = _COMMENT_COUNT - (1.0 - bindparam("agent_weight")) * _AGENT_COMMENT_COUNT
# Built once: composing a statement costs more than running it on a small table.
_POSTS = select(
    posts.c.id,
    posts.c.title,
    posts.c.description,
    posts.c.category,
    posts.c.image_url,
    posts.c.workflow_id,
    posts.c.view_count,
    posts.c.created_at,
    _LIKE_COUNT,
    _COMMENT_COUNT,
    *_user_columns(),
    _AGENT_LIKE_COUNT,
).join(users, users.c.id == posts.c.user_id)
_NEWEST = (posts.c.created_at.desc(), posts.c.id.desc())
_FRESH = case((posts.c.created_at >= bindparam("since", type_=DateTime(timezone=True)), 1), else_=0)
_PAGES = {
    sort: _POSTS.order_by(*order, *_NEWEST).limit(bindparam("limit")).offset(bindparam("offset"))
    for sort, order in (
        ("recent", ()),
        ("popular", (_WEIGHED_LIKES.desc(),)),
        ("trending", (_FRESH.desc(), (_WEIGHED_LIKES + _WEIGHED_COMMENTS).desc())),
    )
}
_ONE_POST = _POSTS.where(posts.c.id == bindparam("post_id"))


def _post(row: Any) -> Post:
    (id_, title, description, category, image_url, workflow_id, views, created, n_likes,
     n_comments, user_id, username, name, is_agent, persona, agent_id, n_agent_likes) = row  # fmt: skip
    return Post(
        id=id_,
        title=title,
        description=description,
        category=category,
        image_url=image_url,
        workflow_id=workflow_id,
        like_count=int(n_likes),
        comment_count=int(n_comments),
        view_count=int(views),
        created_at=utc(created),
        user=User(user_id, username, name, bool(is_agent), persona, agent_id),
        agent_like_count=int(n_agent_likes),
    )


# The statements of every API call are built once: building and keying a statement per
# call cost the sandbox more than running it.
_POST_EXISTS = select(posts.c.id).where(posts.c.id == bindparam("post_id"))
# An UPDATE's bound names differ from column names (those would set the columns).
_ADD_VIEW = (
    update(posts).where(posts.c.id == bindparam("viewed")).values(view_count=posts.c.view_count + 1)
)
_UNLIKE = delete(likes).where(
    likes.c.post_id == bindparam("post_id"), likes.c.user_id == bindparam("user_id")
)
# An INSERT takes its values from parameters named for its columns.
_LIKE = insert(likes)
_LIKE_EVENT = insert(like_events)
# What a like toggles, in one read: the post (no row: no such post), whether this user
# likes it, and its likes.
_LIKE_STATE = select(
    posts.c.id,
    exists().where(likes.c.post_id == posts.c.id, likes.c.user_id == bindparam("user_id")),
    select(func.count()).where(likes.c.post_id == posts.c.id).scalar_subquery(),
).where(posts.c.id == bindparam("post_id"))
_COMMENT = insert(comments)
_COMMENTS_PAGE = (
    select(comments, *_user_columns())
    .join(users, users.c.id == comments.c.user_id)
    .where(comments.c.post_id == bindparam("post_id"))
    .order_by(comments.c.id)
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)


def post_exists(conn: Connection, post_id: int) -> bool:
    """Whether the post exists."""
    return conn.execute(_POST_EXISTS, {"post_id": post_id}).first() is not None


def post(conn: Connection, post_id: int) -> Post | None:
    """One post, if it exists."""
    row = conn.execute(_ONE_POST, {"post_id": post_id}).first()
    return None if row is None else with_reactions(conn, [_post(row)])[0]


def list_posts(
    conn: Connection,
    *,
    limit: int,
    offset: int,
    sort: Sort,
    now: datetime,
    agent_weight: float = 0.5,
) -> list[Post]:
    """A page of posts: newest first, most liked first, or trending.

    Trending puts the last 48 hours first, ordered by likes plus comments. Both popular
    and trending count an agent's like as ``agent_weight`` of a person's; trending counts
    an agent's comment so too.
    """
    values: dict[str, Any] = {"limit": limit, "offset": offset}
    if sort != "recent":
        values["agent_weight"] = agent_weight
    if sort == "trending":
        values["since"] = now - timedelta(hours=48)
    return with_reactions(conn, [_post(row) for row in conn.execute(_PAGES[sort], values)])


_HOME = (
    _POSTS.join(follows, follows.c.followed_id == posts.c.user_id)
    .where(follows.c.follower_id == bindparam("user_id"))
    .order_by(*_NEWEST)
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)


def home_posts(conn: Connection, *, user_id: int, limit: int, offset: int) -> list[Post]:
    """A page of the posts of the accounts the user follows, newest first."""
    values = {"user_id": user_id, "limit": limit, "offset": offset}
    return with_reactions(conn, [_post(row) for row in conn.execute(_HOME, values)])


def count_posts(conn: Connection) -> int:
    """How many posts there are."""
    return int(conn.execute(select(func.count()).select_from(posts)).scalar_one())


def count_posts_by(conn: Connection, user_id: int) -> int:
    """How many posts this user has."""
    query = select(func.count()).select_from(posts).where(posts.c.user_id == user_id)
    return int(conn.execute(query).scalar_one())


def add_view(conn: Connection, post_id: int) -> None:
    """Count one view of a post."""
    conn.execute(_ADD_VIEW, {"viewed": post_id})


def toggle_like(
    conn: Connection, *, post_id: int, user_id: int, key: str | None, now: datetime
) -> tuple[bool, int] | None:
    """Like the post, or unlike it when this user already liked it: (liked, like count);
    None when there is no such post (and nothing is written).

    The count is the one read before the write, moved by it: exact because the sandbox's
    calls run one at a time (``fleet_sandbox.app``).
    """
    who = {"post_id": post_id, "user_id": user_id}
    state = conn.execute(_LIKE_STATE, who).first()
    if state is None:
        return None
    _, had, count = state
    liked = not had
    if liked:
        conn.execute(_LIKE, {**who, "created_at": now})
    else:
        conn.execute(_UNLIKE, who)
    conn.execute(_LIKE_EVENT, {**who, "liked": liked, "idempotency_key": key, "created_at": now})
    return liked, int(count) + (1 if liked else -1)


def create_comment(
    conn: Connection,
    *,
    post_id: int,
    user: User,
    content: str,
    key: str | None,
    now: datetime,
    parent_id: int | None = None,
) -> Comment:
    """Insert a comment (a reply to ``parent_id``, a comment of the same post, if given)."""
    result = conn.execute(
        _COMMENT,
        {
            "post_id": post_id,
            "user_id": user.id,
            "content": content,
            "idempotency_key": key,
            "marker": marker_of(content),
            "created_at": now,
            "parent_id": parent_id,
        },
    )
    return Comment(_new_id(result), post_id, content, now, user, parent_id)


def comment_on_post(conn: Connection, *, comment_id: int, post_id: int) -> bool:
    """Whether comment ``comment_id`` exists and belongs to post ``post_id``."""
    found = conn.execute(
        select(comments.c.id).where(comments.c.id == comment_id, comments.c.post_id == post_id)
    ).first()
    return found is not None


def list_comments(conn: Connection, *, post_id: int, limit: int, offset: int) -> list[Comment]:
    """A page of a post's comments, oldest first."""
    page = {"post_id": post_id, "limit": limit, "offset": offset}
    return [
        Comment(
            row.id, row.post_id, row.content, utc(row.created_at), _user(row, "u_"), row.parent_id
        )
        for row in conn.execute(_COMMENTS_PAGE, page)
    ]


__all__ = [
    "MARKER",
    "Comment",
    "Disclosure",
    "PersonConsent",
    "Post",
    "Remembered",
    "Sort",
    "Storage",
    "User",
    "agent_and_answer",
    "comments",
    "idempotency",
    "images",
    "like_events",
    "likes",
    "marker_of",
    "metadata",
    "posts",
    "recall",
    "remember",
    "spend",
    "spend_unit",
    "spent",
    "spent_by_agent",
    "users",
    "utc",
]


def agent_usernames(conn: Connection, *, limit: int) -> list[str]:
    """Agent accounts' usernames, in order (for a person's block control)."""
    found = select(users.c.username).where(users.c.is_agent.is_(True))
    return list(conn.execute(found.order_by(users.c.username).limit(limit)).scalars())
