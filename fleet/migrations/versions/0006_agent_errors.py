"""agent errors: an agent the dispatcher cannot advance is set aside, not the whole batch

An agent whose persona file is gone or whose interval is absurd made every dispatch
cycle roll back, so no healthy agent ticked either. Such an agent now gets status
``error`` and the reason in ``agents.error``; ``fleet agents start`` puts it back.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WITH_ERROR = "status IN ('created', 'active', 'paused', 'stopped', 'error')"
_WITHOUT = "status IN ('created', 'active', 'paused', 'stopped')"


def upgrade() -> None:
    # A batch: SQLite rebuilds the table to change a constraint (env.py turns its foreign
    # keys off for that, so no activity is lost).
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("error", sa.Text(), nullable=True))
        batch.drop_constraint(op.f("ck_agents_status"), type_="check")
        batch.create_check_constraint(op.f("ck_agents_status"), _WITH_ERROR)


def downgrade() -> None:
    # Agents set aside go back to stopped: the older schema has no error status.
    op.execute("UPDATE agents SET status = 'stopped', next_tick_at = NULL WHERE status = 'error'")
    with op.batch_alter_table("agents") as batch:
        batch.drop_constraint(op.f("ck_agents_status"), type_="check")
        batch.create_check_constraint(op.f("ck_agents_status"), _WITHOUT)
        batch.drop_column("error")
