"""pending targets: two likes (or comments) of one agent in flight never hold one post

A fleet that ran before this revision may already hold such a pair (the race the index
closes). The oldest keeps the post; the others end ``skipped`` with a reason saying so,
so that the index can be built. Should a skipped comment have reached the gallery, its
answer lost, ``fleet reconcile`` reports it.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        sa.text(
            """
            UPDATE agent_activities
            SET status = 'skipped',
                error = 'migration 0003: an older pending action of this agent holds the post',
                finished_at = CURRENT_TIMESTAMP,
                updated_at = CURRENT_TIMESTAMP,
                lease_expires_at = NULL
            WHERE status = 'pending' AND target_post_id IS NOT NULL
              AND EXISTS (
                SELECT 1 FROM agent_activities AS older
                WHERE older.agent_id = agent_activities.agent_id
                  AND older.action = agent_activities.action
                  AND older.target_post_id = agent_activities.target_post_id
                  AND older.status = 'pending'
                  AND older.id < agent_activities.id
              )
            """
        )
    )
    op.create_index(
        "uq_agent_activities_pending_target",
        "agent_activities",
        ["agent_id", "action", "target_post_id"],
        unique=True,
        postgresql_where=sa.text("status = 'pending' AND target_post_id IS NOT NULL"),
        sqlite_where=sa.text("status = 'pending' AND target_post_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_agent_activities_pending_target", table_name="agent_activities")
