"""claims: a claim is exclusive, held by one delivery under its lease

``agent_activities.claimed_by`` names the delivery holding a pending activity (a token
of its claim). A second delivery while the lease runs (a copy re-sent while the first was
still queued or running) finds it held and does no work. Existing pending activities
start unheld: their next delivery claims them.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("agent_activities", sa.Column("claimed_by", sa.String(32), nullable=True))


def downgrade() -> None:
    op.drop_column("agent_activities", "claimed_by")  # SQLite 3.35+ drops a column in place
