"""held targets: every action of an agent but a skipped one holds its post

Target choice reads and locks an agent's actions on a post (pending, awaiting review,
succeeded or dead) by (agent, action, post): this index finds them without reading the
agent's whole history.

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_agent_activities_held_target",
        "agent_activities",
        ["agent_id", "action", "target_post_id"],
        postgresql_where=sa.text("target_post_id IS NOT NULL"),
        sqlite_where=sa.text("target_post_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_agent_activities_held_target", table_name="agent_activities")
