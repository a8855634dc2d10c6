"""sessions: agents act in sessions, at an activity level of their own, under daily quotas

Each agent keeps where its next tick stands in its session (``session_opened_at``,
``session_index``; NULL opens a session), its activity level when set by hand
(``activity``; NULL draws it from the seed) and what it decided on its current local
day (``day_counts``). A redelivered tick finds its decision by (agent, due time).

Existing agents need no rewrite: their next tick, already in ``next_tick_at``, opens a
session under the retuned persona files, and from then on they follow sessions.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("activity", sa.Float(), nullable=True))
        batch.add_column(sa.Column("session_opened_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("session_index", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("day_counts", _JSON, nullable=True))
        batch.create_check_constraint(
            op.f("ck_agents_activity"), "activity IS NULL OR activity > 0"
        )
    op.create_index(
        "ix_agent_activities_agent_id_due_at", "agent_activities", ["agent_id", "due_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_agent_activities_agent_id_due_at", table_name="agent_activities")
    with op.batch_alter_table("agents") as batch:
        batch.drop_constraint("ck_agents_activity", type_="check")
        batch.drop_column("day_counts")
        batch.drop_column("session_index")
        batch.drop_column("session_opened_at")
        batch.drop_column("activity")
