"""deliveries: how often an action was claimed, so that one that never ends is bounded

A message that kills its worker each time (or is lost each time) never reaches a
verdict, so no attempt is ever counted: Celery's retry on a lost worker and the lease
sweep would send it again for ever. Each claim now counts a delivery, and past the limit
the action ends dead. Activities from before this revision start at 0.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "agent_activities",
        sa.Column("deliveries", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    with op.batch_alter_table("agent_activities") as batch:
        batch.drop_column("deliveries")
