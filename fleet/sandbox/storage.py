"""The sandbox gallery's storage: SQLAlchemy Core tables on a MetaData of their own.

SQLite by default (a file, or ``sqlite://`` in memory), Postgres with a
``postgresql+psycopg://`` URL. Table names start with ``sandbox_``, so the sandbox may
share a database with Fleet. Functions that change something take a connection inside
the caller's transaction: an effect and its idempotency record commit together.

Every post, comment and like event records the ``Idempotency-Key`` header it came with,
even when the sandbox does not honour the header, and any caption marker
(``[fleet:<token>]``, see ``fleet.sandbox.report``), so duplicates can be reported.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    CursorResult,
    Date,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    case,
    delete,
    event,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

from fleet.db.engine import build_engine
from fleet.sandbox.config import Spent

MARKER = re.compile(r"\[fleet:([A-Za-z0-9_.:\-]{1,64})\]")

metadata = MetaData()

users = Table(
    "sandbox_users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("agent_id", String(200), nullable=True),
    Column("persona", String(100), nullable=True),
    Column("is_agent", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

images = Table(
    "sandbox_images",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("png", LargeBinary, nullable=False),
    Column("prompt", Text, nullable=False),
    Column("style", String(200), nullable=False),
    Column("persona", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

posts = Table(
    "sandbox_posts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("sandbox_users.id", ondelete="CASCADE"), nullable=False),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("category", String(50), nullable=False),
    Column("image_url", Text, nullable=False),
    Column("workflow_id", String(200), nullable=True),
    Column("view_count", Integer, nullable=False, default=0),
    Column("idempotency_key", String(200), nullable=True),
    Column("marker", String(64), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("sandbox_posts_created", "created_at"),
    Index("sandbox_posts_user", "user_id"),
)

_post_fk = "sandbox_posts.id"

likes = Table(
    "sandbox_likes",
    metadata,
    Column("post_id", Integer, ForeignKey(_post_fk, ondelete="CASCADE"), primary_key=True),
    Column(
        "user_id", Integer, ForeignKey("sandbox_users.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("sandbox_likes_user", "user_id"),
)

like_events = Table(
    "sandbox_like_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("post_id", Integer, ForeignKey(_post_fk, ondelete="CASCADE"), nullable=False),
    Column("user_id", Integer, ForeignKey("sandbox_users.id", ondelete="CASCADE"), nullable=False),
    Column("liked", Boolean, nullable=False),
    Column("idempotency_key", String(200), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("sandbox_like_events_pair", "user_id", "post_id"),
)

comments = Table(
    "sandbox_comments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("post_id", Integer, ForeignKey(_post_fk, ondelete="CASCADE"), nullable=False),
    Column("user_id", Integer, ForeignKey("sandbox_users.id", ondelete="CASCADE"), nullable=False),
    Column("content", Text, nullable=False),
    Column("idempotency_key", String(200), nullable=True),
    Column("marker", String(64), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # The comment this one answers (a reply), on the same post; NULL: it answers the post.
    Column("parent_id", Integer, nullable=True),
    Index("sandbox_comments_post", "post_id", "id"),
)

idempotency = Table(
    "sandbox_idempotency",
    metadata,
    Column("actor", String(64), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("route", String(40), nullable=False),
    Column("status", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

spend = Table(
    "sandbox_spend",
    metadata,
    Column("day", Date, primary_key=True),
    Column("username", String(64), primary_key=True),
    Column("units", Integer, nullable=False),
)

Sort = Literal["recent", "popular", "trending"]


@dataclass(frozen=True, slots=True)
class User:
    """A gallery account."""

    id: int
    username: str
    name: str
    is_agent: bool
    persona: str | None
    agent_id: str | None


@dataclass(frozen=True, slots=True)
class Post:
    """A showcase item with its counts and author."""

    id: int
    title: str
    description: str
    category: str
    image_url: str
    workflow_id: str | None
    like_count: int
    comment_count: int
    view_count: int
    created_at: datetime
    user: User


@dataclass(frozen=True, slots=True)
class Comment:
    """A comment with its author."""

    id: int
    post_id: int
    content: str
    created_at: datetime
    user: User
    parent_id: int | None = None


@dataclass(frozen=True, slots=True)
class Remembered:
    """The answer given to an earlier call with the same Idempotency-Key."""

    route: str
    status: int
    body: dict[str, Any]


def utc(value: datetime) -> datetime:
    """An aware UTC datetime (SQLite gives naive ones back)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def marker_of(text: str) -> str | None:
    """The caption marker in ``text``, if any."""
    found = MARKER.search(text)
    return found.group(1) if found else None


def _relaxed_sync(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class Storage:
    """The sandbox's database: an engine of its own and its tables."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
            # One shared connection: an in-memory database lives as long as its connection.
            self.engine: Engine = build_engine(
                url, poolclass=StaticPool, connect_args={"check_same_thread": False}
            )
        else:
            self.engine = build_engine(url)
        if parsed.get_backend_name() == "sqlite":
            # A sandbox, not a ledger: WAL with synchronous=NORMAL survives a crash of the
            # process and skips an fsync on every commit.
            event.listen(self.engine, "connect", _relaxed_sync)

    def create(self) -> None:
        """Create the tables that are missing (and the reply column of an older file)."""
        metadata.create_all(self.engine)
        with self.engine.begin() as connection:
            known = {c["name"] for c in inspect(connection).get_columns("sandbox_comments")}
            if "parent_id" not in known:
                connection.execute(
                    text("ALTER TABLE sandbox_comments ADD COLUMN parent_id INTEGER")
                )

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection in a transaction, committed on success and rolled back on error."""
        with self.engine.begin() as connection:
            yield connection

    def reset(self) -> None:
        """Delete every row."""
        with self.engine.begin() as connection:
            for table in reversed(metadata.sorted_tables):
                connection.execute(delete(table))

    def drop(self) -> None:
        """Drop the sandbox's tables (tests on a shared database)."""
        metadata.drop_all(self.engine)

    def dispose(self) -> None:
        """Close the pooled connections."""
        self.engine.dispose()


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
    conn.execute(delete(posts).where(posts.c.user_id == user_id))
    return conn.execute(delete(users).where(users.c.id == user_id)).rowcount > 0


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
_COMMENT_COUNT = select(func.count()).where(comments.c.post_id == posts.c.id).scalar_subquery()
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
).join(users, users.c.id == posts.c.user_id)
_NEWEST = (posts.c.created_at.desc(), posts.c.id.desc())
_FRESH = case((posts.c.created_at >= bindparam("since", type_=DateTime(timezone=True)), 1), else_=0)
_PAGES = {
    sort: _POSTS.order_by(*order, *_NEWEST).limit(bindparam("limit")).offset(bindparam("offset"))
    for sort, order in (
        ("recent", ()),
        ("popular", (_LIKE_COUNT.desc(),)),
        ("trending", (_FRESH.desc(), (_LIKE_COUNT + _COMMENT_COUNT).desc())),
    )
}
_ONE_POST = _POSTS.where(posts.c.id == bindparam("post_id"))


def _post(row: Any) -> Post:
    (id_, title, description, category, image_url, workflow_id, views, created, n_likes,
     n_comments, user_id, username, name, is_agent, persona, agent_id) = row  # fmt: skip
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
_LIKES_OF_POST = select(func.count()).where(likes.c.post_id == bindparam("post_id"))
_COMMENT = insert(comments)
_COMMENTS_PAGE = (
    select(comments, *_user_columns())
    .join(users, users.c.id == comments.c.user_id)
    .where(comments.c.post_id == bindparam("post_id"))
    .order_by(comments.c.id)
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)
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


def post_exists(conn: Connection, post_id: int) -> bool:
    """Whether the post exists."""
    return conn.execute(_POST_EXISTS, {"post_id": post_id}).first() is not None


def post(conn: Connection, post_id: int) -> Post | None:
    """One post, if it exists."""
    row = conn.execute(_ONE_POST, {"post_id": post_id}).first()
    return None if row is None else _post(row)


def list_posts(
    conn: Connection, *, limit: int, offset: int, sort: Sort, now: datetime
) -> list[Post]:
    """A page of posts: newest first, most liked first, or trending.

    Trending puts the last 48 hours first, ordered by likes plus comments.
    """
    values: dict[str, Any] = {"limit": limit, "offset": offset}
    if sort == "trending":
        values["since"] = now - timedelta(hours=48)
    return [_post(row) for row in conn.execute(_PAGES[sort], values)]


def count_posts(conn: Connection) -> int:
    """How many posts there are."""
    return int(conn.execute(select(func.count()).select_from(posts)).scalar_one())


def add_view(conn: Connection, post_id: int) -> None:
    """Count one view of a post."""
    conn.execute(_ADD_VIEW, {"viewed": post_id})


def toggle_like(
    conn: Connection, *, post_id: int, user_id: int, key: str | None, now: datetime
) -> tuple[bool, int]:
    """Like the post, or unlike it when this user already liked it: (liked, like count)."""
    who = {"post_id": post_id, "user_id": user_id}
    liked = conn.execute(_UNLIKE, who).rowcount == 0
    if liked:
        conn.execute(_LIKE, {**who, "created_at": now})
    conn.execute(_LIKE_EVENT, {**who, "liked": liked, "idempotency_key": key, "created_at": now})
    count = conn.execute(_LIKES_OF_POST, {"post_id": post_id}).scalar_one()
    return liked, int(count)


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


def remember(
    conn: Connection,
    *,
    actor: str,
    key: str,
    route: str,
    status: int,
    body: dict[str, Any],
    now: datetime,
) -> None:
    """Remember an answer; raises IntegrityError when the key is already taken."""
    conn.execute(
        _REMEMBER,
        {
            "actor": actor,
            "key": key,
            "route": route,
            "status": status,
            "body": json.dumps(body),
            "created_at": now,
        },
    )
