"""memories: what each agent remembers, with the vectors of its texts

One row per thing an agent did that it remembers (posted, said, liked, thought), bounded
per agent by the application. ``activity_id`` is unique: a retry of a succeeded action
writes no second memory. ``vector`` holds ``model``'s embedding as float32 bytes.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "memories",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("agent_id", _ID, nullable=False),
        sa.Column("activity_id", _ID, nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("other", sa.String(64), nullable=True),
        sa.Column("about", sa.String(200), nullable=True),
        sa.Column("post_id", sa.String(64), nullable=True),
        sa.Column("vector", sa.LargeBinary(), nullable=True),
        sa.Column("model", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_memories_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["agent_activities.id"],
            name=op.f("fk_memories_activity_id_agent_activities"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memories")),
        sa.UniqueConstraint("activity_id", name=op.f("uq_memories_activity_id")),
        sa.CheckConstraint(
            "kind IN ('posted', 'said', 'liked', 'thought')", name=op.f("ck_memories_kind")
        ),
    )
    op.create_index("ix_memories_agent_id_created_at", "memories", ["agent_id", "created_at"])
    op.create_index("ix_memories_created_at", "memories", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_memories_created_at", table_name="memories")
    op.drop_index("ix_memories_agent_id_created_at", table_name="memories")
    op.drop_table("memories")
