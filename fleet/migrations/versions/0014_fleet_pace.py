"""fleet pace: how far the fleet steps back as people become active

One row (id 1): the pace every agent's session rate is multiplied by, and the day's
activity it was measured from (people's and the fleet's actions). No row: pace 1.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fleet_pace",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pace", sa.Float(), nullable=False),
        sa.Column("people_per_day", sa.Integer(), nullable=False),
        sa.Column("fleet_per_day", sa.Integer(), nullable=False),
        sa.Column("measured_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fleet_pace")),
    )


def downgrade() -> None:
    op.drop_table("fleet_pace")
