"""session plans: a speaking session's words, written in one LLM call

One row per (agent, session opening second), kept by the session's opening look before
any of its comments, replies or post uses it (``fleet.activities.plans``): the texts by
target, each bounded as its action's own text is. Old rows are of no use once their
session has ended; ``fleet.activities.plans.forget_before`` deletes them.

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "session_plans",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("agent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "items", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_session_plans_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_plans")),
        sa.UniqueConstraint(
            "agent_id", "opened_at", name=op.f("uq_session_plans_agent_id_opened_at")
        ),
    )
    op.create_index("ix_session_plans_created_at", "session_plans", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_session_plans_created_at", table_name="session_plans")
    op.drop_table("session_plans")
