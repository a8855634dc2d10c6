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
    # Plain ADD COLUMN, not a batch: on SQLite a batch copies and drops the agents table,
    # and the drop would cascade to every activity of every agent.
    op.add_column("agents", sa.Column("activity", sa.Float(), nullable=True))
    op.add_column(
        "agents", sa.Column("session_opened_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "agents", sa.Column("session_index", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column("agents", sa.Column("day_counts", _JSON, nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        # SQLite cannot add a constraint to a table in place; the commands check it there.
        op.create_check_constraint(
            op.f("ck_agents_activity"), "agents", "activity IS NULL OR activity > 0"
        )
    op.create_index(
        "ix_agent_activities_agent_id_due_at", "agent_activities", ["agent_id", "due_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_agent_activities_agent_id_due_at", table_name="agent_activities")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f("ck_agents_activity"), "agents", type_="check")
    for column in ("day_counts", "session_index", "session_opened_at", "activity"):
        op.drop_column("agents", column)  # SQLite 3.35+ drops a column in place
