"""Fleet's tables as SQLAlchemy 2 models; Alembic migrations in ``fleet/migrations/`` match them.

Postgres is the truth. The constraints carry the design: one agent per handle, one
activity per idempotency key, one engagement per (agent, post, kind), and a partial
index on ``next_tick_at`` that holds only active agents, so finding due agents costs
what is due, not the size of the fleet.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from fleet.core.statuses import (
    ACTIVITY_STATUSES,
    AGENT_STATUSES,
    DRAFT_STATUSES,
    ActivityStatus,
    AgentStatus,
    DraftStatus,
)

# Integer on SQLite so an ``INTEGER PRIMARY KEY`` is its rowid and autoincrements.
Id = BigInteger().with_variant(Integer(), "sqlite")
Json = JSON().with_variant(JSONB(), "postgresql")


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        # Postgres through psycopg hands back aware times in the session's zone, which the
        # fleet's engines set to UTC (``fleet.db.engine``): already what
        # ``process_result_value`` makes, so no call is made for each value read.
        if dialect.name == "postgresql" and dialect.driver == "psycopg":
            return None
        return super().result_processor(dialect, coltype)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: Fleet stores aware UTC times only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


S = TypeVar("S", bound=StrEnum)


class Status(TypeDecorator[S]):
    """A status column: ``VARCHAR(16)`` holding the member's value (the check constraint
    lists them), read back as the member of ``statuses`` (``Mapped[ActivityStatus]``)."""

    impl = String(16)
    cache_ok = True

    def __init__(self, statuses: type[S]) -> None:
        super().__init__()
        self.statuses = statuses

    def process_bind_param(self, value: S | str | None, dialect: Dialect) -> str | None:
        # A plain string is checked here, not by the database only: "pendng" is an error.
        return None if value is None else self.statuses(value).value

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        """Each value read turned into its member by one look-up in a table made once
        (NULL stays None), with no Python call for each value; a value that is no member
        (the column's check refuses one) is a ``KeyError`` that names it."""
        members: dict[str | None, S | None] = {None: None}
        members.update((member.value, member) for member in self.statuses)
        return members.__getitem__


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
# The status the partial indexes of open work hold (their SQL quotes it).
_PENDING = ActivityStatus.PENDING.value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UtcDateTime()}


def _now() -> datetime:
    return datetime.now(UTC)


class Agent(Base):
    """A simulated user: who it is (persona, names, seed) and where it stands."""

    __tablename__ = "agents"
    __table_args__ = (
        UniqueConstraint("handle"),
        UniqueConstraint("persona", "persona_index"),
        CheckConstraint(_in("status", AGENT_STATUSES), name="status"),
        CheckConstraint(
            "interval_min IS NULL OR (interval_min > 0 AND interval_max >= interval_min)",
            name="interval",
        ),
        CheckConstraint("activity IS NULL OR activity > 0", name="activity"),
        # Only active agents are in this index: a dispatch cycle's cost follows what is due.
        Index(
            "ix_agents_due",
            "next_tick_at",
            postgresql_where=text("status = 'active' AND deleted_at IS NULL"),
            sqlite_where=text("status = 'active' AND deleted_at IS NULL"),
        ),
        # ``fleet status`` finds agents deferred far ahead from this index alone: it holds
        # only the agents a gallery's 429 ever deferred.
        Index(
            "ix_agents_deferred",
            "deferred_until",
            postgresql_where=text("deferred_until IS NOT NULL"),
            sqlite_where=text("deferred_until IS NOT NULL"),
        ),
        # The overview counts live agents by persona and status from this index alone.
        Index(
            "ix_agents_persona_status",
            "persona",
            "status",
            postgresql_include=["deleted_at"],
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    handle: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(120))
    persona: Mapped[str] = mapped_column(String(48))
    persona_index: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[AgentStatus] = mapped_column(Status(AgentStatus), default=AgentStatus.CREATED)
    # Per-agent overrides of the persona; NULL means "as the persona says".
    weights: Mapped[dict[str, float] | None] = mapped_column(Json, nullable=True)
    interval_min: Mapped[float | None] = mapped_column(Float, nullable=True)
    interval_max: Mapped[float | None] = mapped_column(Float, nullable=True)
    # The agent's activity level when set by hand; NULL means the one its seed draws.
    activity: Mapped[float | None] = mapped_column(Float, nullable=True)
    platform_user_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    next_tick_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # Where the tick at next_tick_at stands in its session: the second the session opened
    # and the tick's index in it. NULL means the tick opens a session.
    session_opened_at: Mapped[datetime | None] = mapped_column(nullable=True)
    session_index: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Actions decided on one local day, for the daily quotas: {"day": "YYYY-MM-DD", "post": 1}.
    day_counts: Mapped[dict[str, Any] | None] = mapped_column(Json, nullable=True)
    last_tick_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # Why the agent was set aside (status "error"): the dispatcher could not advance it.
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    ticks_count: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # Review mode: its posts, comments and replies wait as drafts for an owner's approval.
    review: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Since when a person's comment on its posts was seen unanswered (the notification
    # scan sets and clears it): its next session opens by answering. NULL: none waits.
    people_waiting_since: Mapped[datetime | None] = mapped_column(nullable=True)
    # Until when the gallery's 429 (the agent's own budget spent) moved its next tick, the
    # latest such deferral: in force while next_tick_at has not moved before it. NULL: never.
    deferred_until: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=_now)
    updated_at: Mapped[datetime] = mapped_column(default=_now, onupdate=_now)
    deleted_at: Mapped[datetime | None] = mapped_column(nullable=True)


class AgentActivity(Base):
    """One decided action of one agent, from its claim to exactly one terminal state."""

    __tablename__ = "agent_activities"
    __table_args__ = (
        UniqueConstraint("idempotency_key"),
        CheckConstraint(_in("status", ACTIVITY_STATUSES), name="status"),
        Index("ix_agent_activities_agent_id_created_at", "agent_id", "created_at"),
        # The overview counts a day of activities by kind and status from this index alone.
        Index(
            "ix_agent_activities_created_at",
            "created_at",
            postgresql_include=["action", "status"],
        ),
        # A redelivered tick finds the decision it already made by (agent, due time).
        Index("ix_agent_activities_agent_id_due_at", "agent_id", "due_at"),
        # The lease sweeper looks only at pending rows.
        Index(
            "ix_agent_activities_pending_lease",
            "lease_expires_at",
            postgresql_where=text(f"status = '{_PENDING}'"),
            sqlite_where=text(f"status = '{_PENDING}'"),
        ),
        # Two likes (or comments) of one agent in flight never hold the same post; target
        # choice reads an agent's actions in flight through this index too.
        Index(
            "uq_agent_activities_pending_target",
            "agent_id",
            "action",
            "target_post_id",
            unique=True,
            postgresql_where=text(f"status = '{_PENDING}' AND target_post_id IS NOT NULL"),
            sqlite_where=text(f"status = '{_PENDING}' AND target_post_id IS NOT NULL"),
        ),
        # Every action of an agent but a skipped one holds its post: target choice reads
        # (and locks) an agent's actions on a post through this index.
        Index(
            "ix_agent_activities_held_target",
            "agent_id",
            "action",
            "target_post_id",
            postgresql_where=text("target_post_id IS NOT NULL"),
            sqlite_where=text("target_post_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(16))
    idempotency_key: Mapped[str] = mapped_column(String(96))
    due_at: Mapped[datetime]
    status: Mapped[ActivityStatus] = mapped_column(
        Status(ActivityStatus), default=ActivityStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Claims, counted whether or not the delivery reached a verdict.
    deliveries: Mapped[int] = mapped_column(Integer, server_default="0")
    lease_expires_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # The delivery holding the activity (a token of its claim); NULL: nobody holds it.
    claimed_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    target_post_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    content: Mapped[dict[str, Any] | None] = mapped_column(Json, nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(Json, nullable=True)
    usage: Mapped[dict[str, Any] | None] = mapped_column(Json, nullable=True)
    # The writer of the chain that wrote its text (``provider:model``; usage's provider).
    provider: Mapped[str | None] = mapped_column(String(120), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=_now)
    updated_at: Mapped[datetime] = mapped_column(default=_now, onupdate=_now)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)


class Draft(Base):
    """An action under review, written and not published: waiting for an owner's decision
    (approved, rejected) or its expiry. Its text and image are on its activity's content,
    which is ``awaiting_review`` while the draft is pending."""

    __tablename__ = "drafts"
    __table_args__ = (
        UniqueConstraint("activity_id"),
        CheckConstraint(_in("status", DRAFT_STATUSES), name="status"),
        # The pending drafts, by when they expire (the sweeper's expiry reads these).
        Index("ix_drafts_status_expires_at", "status", "expires_at"),
        Index("ix_drafts_agent_id_created_at", "agent_id", "created_at"),
        # A window's decisions counted by status, their cost summed, from the index alone;
        # the latest decisions (the median time to one) read in its order.
        Index("ix_drafts_status_decided_at", "status", "decided_at", "cost_usd"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("agent_activities.id", ondelete="CASCADE"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    status: Mapped[DraftStatus] = mapped_column(Status(DraftStatus), default=DraftStatus.PENDING)
    # A rejection's reason (at most 500 characters), as the owner gave it.
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=_now)
    expires_at: Mapped[datetime]
    decided_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # When an approved draft is to be published (its agent's next plausible moment).
    publish_at: Mapped[datetime | None] = mapped_column(nullable=True)
    edited_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # What writing it cost (USD, its activity's usage when it was held): the spend on
    # rejected drafts is summed from the drafts alone.
    cost_usd: Mapped[float | None] = mapped_column(Float, nullable=True)


class DeadLetter(Base):
    """A task that could not be done: what it was, why, and how often it was tried."""

    __tablename__ = "dead_letters"
    __table_args__ = (Index("ix_dead_letters_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    activity_id: Mapped[int | None] = mapped_column(
        ForeignKey("agent_activities.id", ondelete="SET NULL"), nullable=True
    )
    task: Mapped[str] = mapped_column(String(64))
    arguments: Mapped[dict[str, Any]] = mapped_column(Json)
    error_type: Mapped[str] = mapped_column(String(120))
    error: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=_now)
    replayed_at: Mapped[datetime | None] = mapped_column(nullable=True)


class Engagement(Base):
    """The engagement ledger: an agent engaged with a target once per kind of action at
    most. The target is typed (``fleet.core.kinds.target_kind``): ``target_kind`` says whether
    ``target_id`` is a post's id (a like, a comment), a comment's (a reply: the comment
    answered) or a person's."""

    __tablename__ = "engagements"
    __table_args__ = (
        UniqueConstraint("agent_id", "target_id", "kind"),
        Index("ix_engagements_target_id_created_at", "target_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    target_kind: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    activity_id: Mapped[int | None] = mapped_column(
        ForeignKey("agent_activities.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(default=_now)


class FleetHold(Base):
    """A fleet-wide wait (the fleet's budget, the platform's pause): the dispatcher holds off."""

    __tablename__ = "fleet_holds"

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    until: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=_now)


MEMORY_KINDS = ("posted", "said", "liked", "thought")


class MemoryRow(Base):
    """One thing an agent remembers: what it posted, said to whom, liked or thought, with
    the vector of its text (the no-echo guard compares drafts with published ones).

    One memory per activity at the most: a retry of a succeeded action writes none.
    """

    __tablename__ = "memories"
    __table_args__ = (
        UniqueConstraint("activity_id"),
        CheckConstraint(_in("kind", MEMORY_KINDS), name="kind"),
        Index("ix_memories_agent_id_created_at", "agent_id", "created_at"),
        # The no-echo guard reads a persona's newest published vectors.
        Index("ix_memories_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    activity_id: Mapped[int | None] = mapped_column(
        ForeignKey("agent_activities.id", ondelete="SET NULL"), nullable=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    # The person spoken to or whose post it was; the post (or comment) it was about.
    other: Mapped[str | None] = mapped_column(String(64), nullable=True)
    about: Mapped[str | None] = mapped_column(String(200), nullable=True)
    post_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Little-endian float32s of ``model``'s embedding; NULL when none was made.
    vector: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    model: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=_now)


class PostVector(Base):
    """A gallery post's text as ``model`` embedded it, once for the whole fleet: the
    engage path ranks by these and never embeds. ``digest`` is of the text embedded, so
    an edited post is embedded again."""

    __tablename__ = "post_vectors"
    __table_args__ = (Index("ix_post_vectors_created_at", "created_at"),)

    post_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    digest: Mapped[str] = mapped_column(String(32))
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=_now)


class FleetPace(Base):
    """The fleet's pace (``fleet.core.pace``): one row, measured now and then from the
    gallery; every agent's session rate is multiplied by it."""

    __tablename__ = "fleet_pace"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pace: Mapped[float] = mapped_column(Float)
    people_per_day: Mapped[int] = mapped_column(Integer)
    fleet_per_day: Mapped[int] = mapped_column(Integer)
    measured_at: Mapped[datetime] = mapped_column(default=_now)


class PostCounts(Base):
    """A gallery post's likes and comments as the pace's last reading that saw it kept
    them, and the fleet's own on it as the ledger had them then
    (``fleet.core.pace.people_between``): the next reading counts what grew since."""

    __tablename__ = "post_counts"
    __table_args__ = (Index("ix_post_counts_read_at", "read_at"),)

    post_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    total: Mapped[int] = mapped_column(Integer)
    fleet_total: Mapped[int] = mapped_column(Integer)
    read_at: Mapped[datetime]


class PaceReading(Base):
    """People's actions between two readings of the gallery, and the pace the fleet ran
    at meanwhile (``fleet.core.pace.Reading``): the pace is measured over a window of
    these."""

    __tablename__ = "pace_readings"
    __table_args__ = (Index("ix_pace_readings_read_at", "read_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime]
    read_at: Mapped[datetime]
    people_posts: Mapped[int] = mapped_column(Integer)
    people_engagement: Mapped[int] = mapped_column(Integer)
    pace: Mapped[float] = mapped_column(Float)


class ImpactAssignment(Base):
    """A person's arm in an experiment of the newcomer holdout, recorded once when Fleet
    first saw them (``fleet.impact.holdout``), with the share in force then."""

    __tablename__ = "impact_assignments"

    experiment: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    arm: Mapped[str] = mapped_column(String(16))
    share: Mapped[float] = mapped_column(Float)
    first_seen: Mapped[datetime]
    assigned_at: Mapped[datetime]


class ImpactSighting(Base):
    """A person's post or comment as Fleet saw it on the gallery: the impact report's
    outcomes are counted from these."""

    __tablename__ = "impact_sightings"
    __table_args__ = (Index("ix_impact_sightings_user_id_at", "user_id", "at"),)

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]


class IdentityQuestion(Base):
    """A person asked an agent what it is, or who runs it (``fleet.honesty.ledger``):
    when it was asked and first seen. Its answer is the agent's reply to the comment, in
    the engagement ledger."""

    __tablename__ = "identity_questions"
    __table_args__ = (
        UniqueConstraint("agent_id", "comment_id"),
        Index("ix_identity_questions_asked_at", "asked_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    comment_id: Mapped[str] = mapped_column(String(64))
    post_id: Mapped[str] = mapped_column(String(64))
    asked_at: Mapped[datetime]
    seen_at: Mapped[datetime]
    # Who asked (the gallery's username; "" for a question kept before 0025).
    asker: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # Closed without an answer owed, and why: the asker opted out of the agent, asked it
    # before, or the agent's questions of the day were many (``fleet.core.answering``).
    closed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    closed_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)


class SessionPlanRow(Base):
    """A speaking session's words, written in one LLM call at its opening look
    (``fleet.activities.plans``): kept once per (agent, session) before any of its
    actions uses it, so a retried action reuses its text and nothing pays twice."""

    __tablename__ = "session_plans"
    __table_args__ = (
        UniqueConstraint("agent_id", "opened_at"),
        Index("ix_session_plans_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    # The session's opening second (its opening look's due time).
    opened_at: Mapped[datetime]
    # The texts by target: {"comments": {post id: text}, "replies": {comment id: text},
    # "post": {...}, "dropped": n}, each bounded as its action's own text is.
    items: Mapped[dict[str, Any]] = mapped_column(Json)
    created_at: Mapped[datetime]


class AgentCredential(Base):
    """An agent's access token on a per-agent platform (the Mastodon client API), sealed
    at rest with Fernet under FLEET_CREDENTIALS__KEYS (``fleet.agents.credentials``): the
    column holds the ciphertext only, never the token. Written by the agents context."""

    __tablename__ = "agent_credentials"

    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    # The Fernet token of the access token; NULL once revoked.
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    set_at: Mapped[datetime]
    # The platform's verify_credentials: when, and the account it named (or why not).
    checked_at: Mapped[datetime | None] = mapped_column(nullable=True)
    checked: Mapped[str | None] = mapped_column(String(300), nullable=True)
    # The platform refused the token (a 401): token_for refuses it until it is set again.
    failed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    failure: Mapped[str | None] = mapped_column(String(300), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)


class ImageMarks(Base):
    """Whether a platform kept the provenance marks of an image Fleet uploaded
    (``fleet.activities.image_marks``): one row per uploaded image, read by ``fleet
    audit`` and ``fleet status`` ("platform X did not keep provenance marks: N of M")."""

    __tablename__ = "image_marks"
    __table_args__ = (
        UniqueConstraint("platform", "media_id"),
        Index("ix_image_marks_at", "at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(120))
    agent: Mapped[str] = mapped_column(String(64))
    # The platform's id of the uploaded media (or the post when it has no media id).
    media_id: Mapped[str] = mapped_column(String(120))
    kept: Mapped[bool] = mapped_column(Boolean)
    # Why not (the verifier's reason), or what the platform kept.
    reason: Mapped[str] = mapped_column(String(300))
    # A text disclosure went with the post (alt text and caption line).
    disclosed: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime]
