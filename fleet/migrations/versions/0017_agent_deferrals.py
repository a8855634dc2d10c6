"""agent deferrals: until when a gallery's 429 moved an agent's next tick

``fleet status --check`` and the console's overview flag agents deferred further than a
threshold (issue 31, item 16); a partial index keeps that read to the deferred agents.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("deferred_until", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_agents_deferred",
        "agents",
        ["deferred_until"],
        postgresql_where=sa.text("deferred_until IS NOT NULL"),
        sqlite_where=sa.text("deferred_until IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_agents_deferred", table_name="agents")
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("deferred_until")
