"""identity questions: a person asked an agent what it is, or who runs it

One row per (agent, comment) a scan or a reply found asking
(``fleet.content.guard.identity_intent``): when it was asked and first seen. Whether and when it was answered
is the engagement ledger's (the agent's reply to that comment); the audit counts both.
The question's text is not kept: it is the gallery's, and a person's.

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "identity_questions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("agent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("comment_id", sa.String(64), nullable=False),
        sa.Column("post_id", sa.String(64), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_identity_questions_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_questions")),
        sa.UniqueConstraint(
            "agent_id", "comment_id", name=op.f("uq_identity_questions_agent_id_comment_id")
        ),
    )
    op.create_index("ix_identity_questions_asked_at", "identity_questions", ["asked_at"])


def downgrade() -> None:
    op.drop_index("ix_identity_questions_asked_at", table_name="identity_questions")
    op.drop_table("identity_questions")
