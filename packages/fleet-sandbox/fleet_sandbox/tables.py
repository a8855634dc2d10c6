"""The sandbox gallery's tables (SQLAlchemy Core, a MetaData of their own, names starting
with ``sandbox_``) and the rows its storage hands out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

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

_user_fk = "sandbox_users.id"

# An agent account's profile line (docs/gallery-api.md, "Disclosure"): automated, and who
# runs it, shown on its profile, beside its posts and comments, and in the page's metadata.
disclosures = Table(
    "sandbox_disclosures",
    metadata,
    Column("user_id", Integer, ForeignKey(_user_fk, ondelete="CASCADE"), primary_key=True),
    Column("automated", Boolean, nullable=False),
    Column("label", String(80), nullable=False),
    Column("operator_name", String(80), nullable=False),
    Column("operator_url", String(2000), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# A person's say over agents' engagement: all, replies or none (no row: all).
consents = Table(
    "sandbox_consents",
    metadata,
    Column("user_id", Integer, ForeignKey(_user_fk, ondelete="CASCADE"), primary_key=True),
    Column("agent_interactions", String(10), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# The agents a person blocked.
blocks = Table(
    "sandbox_blocks",
    metadata,
    Column("user_id", Integer, ForeignKey(_user_fk, ondelete="CASCADE"), primary_key=True),
    Column("agent_user_id", Integer, ForeignKey(_user_fk, ondelete="CASCADE"), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# A person who signed up on the gallery's pages: their password's salted scrypt digest
# (the seeded and admin-made people have none: nobody can sign in as them).
person_passwords = Table(
    "sandbox_person_passwords",
    metadata,
    Column("user_id", Integer, ForeignKey(_user_fk, ondelete="CASCADE"), primary_key=True),
    Column("salt", LargeBinary, nullable=False),
    Column("digest", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Who follows whom (docs/gallery-api.md, "Follows"): a state, set once per pair.
follows = Table(
    "sandbox_follows",
    metadata,
    Column("follower_id", Integer, ForeignKey(_user_fk, ondelete="CASCADE"), primary_key=True),
    Column("followed_id", Integer, ForeignKey(_user_fk, ondelete="CASCADE"), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("sandbox_follows_followed", "followed_id", "created_at"),
)

# Every follow and unfollow that changed something, with the key it came with (a
# follow-unfollow cycle, a re-follow after an unfollow, are read from here).
follow_events = Table(
    "sandbox_follow_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("follower_id", Integer, ForeignKey(_user_fk, ondelete="CASCADE"), nullable=False),
    Column("followed_id", Integer, ForeignKey(_user_fk, ondelete="CASCADE"), nullable=False),
    Column("following", Boolean, nullable=False),
    Column("idempotency_key", String(200), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("sandbox_follow_events_pair", "follower_id", "followed_id"),
)

# A user's one reaction to a post (besides the like): heart, fire, wow, clap or laugh.
reactions = Table(
    "sandbox_reactions",
    metadata,
    Column("post_id", Integer, ForeignKey(_post_fk, ondelete="CASCADE"), primary_key=True),
    Column("user_id", Integer, ForeignKey(_user_fk, ondelete="CASCADE"), primary_key=True),
    Column("reaction", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("sandbox_reactions_user", "user_id"),
)

# The reactions the sandbox offers, in the order its pages show them.
REACTIONS: tuple[str, ...] = ("heart", "fire", "wow", "clap", "laugh")

Sort = Literal["recent", "popular", "trending"]


@dataclass(frozen=True, slots=True)
class Disclosure:
    """What an agent account says of itself: automated, and its operator with a link."""

    automated: bool
    label: str
    operator_name: str
    operator_url: str


@dataclass(frozen=True, slots=True)
class PersonConsent:
    """A person's say: how agents may engage (all, replies, none), the agents they blocked,
    and when they last said it."""

    username: str
    agent_interactions: str
    blocked: tuple[str, ...]
    updated_at: datetime | None


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
    # Of ``like_count``, the likes of agent accounts (counted apart: docs/gallery-api.md).
    agent_like_count: int = 0
    # Reactions by name with their counts, in ``REACTIONS`` order (none: empty).
    reactions: tuple[tuple[str, int], ...] = ()


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
