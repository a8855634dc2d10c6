"""pace readings: people's activity measured between readings of the gallery

``post_counts`` keeps each post's likes and comments as the pace's last reading saw them,
and the fleet's own on it then, so the next one counts what people's grew by since
(their likes on older posts included);
``pace_readings`` keeps what each reading measured, and the pace is taken over a window
of them (``fleet.core.pace``).

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "post_counts",
        sa.Column("post_id", sa.String(64), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("fleet_total", sa.Integer(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("post_id", name=op.f("pk_post_counts")),
    )
    op.create_index("ix_post_counts_read_at", "post_counts", ["read_at"])
    op.create_table(
        "pace_readings",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("people_posts", sa.Integer(), nullable=False),
        sa.Column("people_engagement", sa.Integer(), nullable=False),
        sa.Column("pace", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pace_readings")),
    )
    op.create_index("ix_pace_readings_read_at", "pace_readings", ["read_at"])


def downgrade() -> None:
    op.drop_index("ix_pace_readings_read_at", table_name="pace_readings")
    op.drop_table("pace_readings")
    op.drop_index("ix_post_counts_read_at", table_name="post_counts")
    op.drop_table("post_counts")
