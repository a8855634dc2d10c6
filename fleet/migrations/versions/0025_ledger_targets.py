"""ledger targets: the engagement ledger's target typed by kind; identity questions' askers

``engagements.post_id`` held a post's id for a like or a comment and a comment's id for
a reply: the holdout's check compared the two as one (issue 67). The column becomes
``target_id`` with ``target_kind`` beside it (post, comment or person); today's rows move:
a reply's target is the comment it answered, every other row's a post.

``identity_questions`` learns who asked (``asker``) and when and why a question was closed
without an answer owed (``closed_at``, ``closed_reason``: the asker opted out, asked the
agent before, or the agent's questions of the day were many).

Revision ID: 0025
Revises: 0024
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_engagements_post_id_created_at", table_name="engagements")
    with op.batch_alter_table("engagements") as batch:
        batch.drop_constraint("uq_engagements_agent_id_post_id_kind", type_="unique")
        batch.alter_column("post_id", new_column_name="target_id")
        batch.add_column(
            sa.Column("target_kind", sa.String(16), nullable=False, server_default="post")
        )
    op.execute("UPDATE engagements SET target_kind = 'comment' WHERE kind = 'reply'")
    with op.batch_alter_table("engagements") as batch:
        batch.alter_column("target_kind", server_default=None)
        batch.create_unique_constraint(
            "uq_engagements_agent_id_target_id_kind", ["agent_id", "target_id", "kind"]
        )
    op.create_index(
        "ix_engagements_target_id_created_at", "engagements", ["target_id", "created_at"]
    )
    with op.batch_alter_table("identity_questions") as batch:
        batch.add_column(sa.Column("asker", sa.String(64), nullable=False, server_default=""))
        batch.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("closed_reason", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("identity_questions") as batch:
        batch.drop_column("closed_reason")
        batch.drop_column("closed_at")
        batch.drop_column("asker")
    op.drop_index("ix_engagements_target_id_created_at", table_name="engagements")
    with op.batch_alter_table("engagements") as batch:
        batch.drop_constraint("uq_engagements_agent_id_target_id_kind", type_="unique")
        batch.drop_column("target_kind")
        batch.alter_column("target_id", new_column_name="post_id")
        batch.create_unique_constraint(
            "uq_engagements_agent_id_post_id_kind", ["agent_id", "post_id", "kind"]
        )
    op.create_index("ix_engagements_post_id_created_at", "engagements", ["post_id", "created_at"])
