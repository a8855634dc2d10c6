"""impact: the newcomer holdout's assignments and the people's actions Fleet saw

``impact_assignments`` keeps each person's arm in each experiment, recorded once, with
the share in force and when Fleet first saw them; ``impact_sightings`` keeps the posts
(and comments) of people Fleet read on the gallery, from which the impact report counts
its outcomes (``fleet.core.impact``).

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "impact_assignments",
        sa.Column("experiment", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("arm", sa.String(16), nullable=False),
        sa.Column("share", sa.Float(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("experiment", "user_id", name=op.f("pk_impact_assignments")),
    )
    op.create_table(
        "impact_sightings",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("item_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "item_id", name=op.f("pk_impact_sightings")),
    )
    op.create_index("ix_impact_sightings_user_id_at", "impact_sightings", ["user_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_impact_sightings_user_id_at", table_name="impact_sightings")
    op.drop_table("impact_sightings")
    op.drop_table("impact_assignments")
