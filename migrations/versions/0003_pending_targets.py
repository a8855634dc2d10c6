"""pending targets: two likes (or comments) of one agent in flight never hold one post

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
