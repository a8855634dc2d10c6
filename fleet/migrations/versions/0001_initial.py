"""agents, activities, dead letters and the engagement ledger

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Integer on SQLite so that an INTEGER PRIMARY KEY is the rowid and autoincrements.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("handle", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("persona", sa.String(length=48), nullable=False),
        sa.Column("persona_index", sa.Integer(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("weights", JSON, nullable=True),
        sa.Column("interval_min", sa.Float(), nullable=True),
        sa.Column("interval_max", sa.Float(), nullable=True),
        sa.Column("platform_user_id", sa.String(length=64), nullable=True),
        sa.Column("next_tick_at", TIMESTAMP, nullable=True),
        sa.Column("last_tick_at", TIMESTAMP, nullable=True),
        sa.Column("current_action", sa.String(length=16), nullable=True),
        sa.Column("last_action", sa.String(length=16), nullable=True),
        sa.Column("last_action_at", TIMESTAMP, nullable=True),
        sa.Column("last_thought", sa.Text(), nullable=True),
        sa.Column("ticks_count", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("posts_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("comments_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("likes_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("browses_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("deleted_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint(
            "status IN ('created', 'active', 'paused', 'stopped')", name=op.f("ck_agents_status")
        ),
        sa.CheckConstraint(
            "interval_min IS NULL OR (interval_min > 0 AND interval_max >= interval_min)",
            name=op.f("ck_agents_interval"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agents")),
        sa.UniqueConstraint("handle", name=op.f("uq_agents_handle")),
        sa.UniqueConstraint(
            "persona", "persona_index", name=op.f("uq_agents_persona_persona_index")
        ),
    )
    op.create_index(
        "ix_agents_due",
        "agents",
        ["next_tick_at"],
        unique=False,
        postgresql_where=sa.text("status = 'active' AND deleted_at IS NULL"),
        sqlite_where=sa.text("status = 'active' AND deleted_at IS NULL"),
    )
    op.create_index("ix_agents_persona_status", "agents", ["persona", "status"], unique=False)
    op.create_table(
        "agent_activities",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("agent_id", ID, nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("idempotency_key", sa.String(length=96), nullable=False),
        sa.Column("due_at", TIMESTAMP, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("lease_expires_at", TIMESTAMP, nullable=True),
        sa.Column("target_post_id", sa.String(length=64), nullable=True),
        sa.Column("content", JSON, nullable=True),
        sa.Column("result", JSON, nullable=True),
        sa.Column("usage", JSON, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint(
            "action IN ('post', 'comment', 'like', 'browse')",
            name=op.f("ck_agent_activities_action"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'succeeded', 'skipped', 'dead')",
            name=op.f("ck_agent_activities_status"),
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_agent_activities_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_activities")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_agent_activities_idempotency_key")),
    )
    op.create_index(
        "ix_agent_activities_agent_id_created_at",
        "agent_activities",
        ["agent_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_agent_activities_created_at", "agent_activities", ["created_at"], unique=False
    )
    op.create_index(
        "ix_agent_activities_pending_lease",
        "agent_activities",
        ["lease_expires_at"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
        sqlite_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "dead_letters",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("activity_id", ID, nullable=True),
        sa.Column("task", sa.String(length=64), nullable=False),
        sa.Column("arguments", JSON, nullable=False),
        sa.Column("error_type", sa.String(length=120), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("replayed_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["agent_activities.id"],
            name=op.f("fk_dead_letters_activity_id_agent_activities"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letters")),
    )
    op.create_index("ix_dead_letters_created_at", "dead_letters", ["created_at"], unique=False)
    op.create_table(
        "engagements",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("agent_id", ID, nullable=False),
        sa.Column("post_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("activity_id", ID, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("kind IN ('like', 'comment')", name=op.f("ck_engagements_kind")),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["agent_activities.id"],
            name=op.f("fk_engagements_activity_id_agent_activities"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_engagements_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engagements")),
        sa.UniqueConstraint(
            "agent_id", "post_id", "kind", name=op.f("uq_engagements_agent_id_post_id_kind")
        ),
    )
    op.create_index(
        "ix_engagements_post_id_created_at", "engagements", ["post_id", "created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_engagements_post_id_created_at", table_name="engagements")
    op.drop_table("engagements")
    op.drop_index("ix_dead_letters_created_at", table_name="dead_letters")
    op.drop_table("dead_letters")
    op.drop_index(
        "ix_agent_activities_pending_lease",
        table_name="agent_activities",
        postgresql_where=sa.text("status = 'pending'"),
        sqlite_where=sa.text("status = 'pending'"),
    )
    op.drop_index("ix_agent_activities_created_at", table_name="agent_activities")
    op.drop_index("ix_agent_activities_agent_id_created_at", table_name="agent_activities")
    op.drop_table("agent_activities")
    op.drop_index("ix_agents_persona_status", table_name="agents")
    op.drop_index(
        "ix_agents_due",
        table_name="agents",
        postgresql_where=sa.text("status = 'active' AND deleted_at IS NULL"),
        sqlite_where=sa.text("status = 'active' AND deleted_at IS NULL"),
    )
    op.drop_table("agents")
