"""review drafts: agents under review, drafts waiting for an owner's decision

``agents.review`` marks an agent whose posts, comments and replies wait as drafts. Such
an activity stops, written, in the new non-terminal status ``awaiting_review``; its
``drafts`` row (one per activity) says where the owner's decision stands: pending,
approved, rejected or expired. A downgrade ends every activity still waiting skipped
("review mode removed"), as the older schema knows no such status.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIMESTAMP = sa.DateTime(timezone=True)
_OLD_STATUSES = "status IN ('pending', 'succeeded', 'skipped', 'dead')"
_NEW_STATUSES = "status IN ('pending', 'succeeded', 'skipped', 'dead', 'awaiting_review')"


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.add_column(
            sa.Column("review", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("agent_activities") as batch:
        batch.drop_constraint(op.f("ck_agent_activities_status"), type_="check")
        batch.create_check_constraint(op.f("ck_agent_activities_status"), _NEW_STATUSES)
    op.create_table(
        "drafts",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("activity_id", _ID, nullable=False),
        sa.Column("agent_id", _ID, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.Column("expires_at", _TIMESTAMP, nullable=False),
        sa.Column("decided_at", _TIMESTAMP, nullable=True),
        sa.Column("publish_at", _TIMESTAMP, nullable=True),
        sa.Column("edited_at", _TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["agent_activities.id"],
            name=op.f("fk_drafts_activity_id_agent_activities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_drafts_agent_id_agents"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drafts")),
        sa.UniqueConstraint("activity_id", name=op.f("uq_drafts_activity_id")),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected', 'expired')",
            name=op.f("ck_drafts_status"),
        ),
    )
    op.create_index("ix_drafts_status_expires_at", "drafts", ["status", "expires_at"])
    op.create_index("ix_drafts_agent_id_created_at", "drafts", ["agent_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_drafts_agent_id_created_at", table_name="drafts")
    op.drop_index("ix_drafts_status_expires_at", table_name="drafts")
    op.drop_table("drafts")
    op.execute(
        "UPDATE agent_activities SET status = 'skipped', error = 'review mode removed', "
        "lease_expires_at = NULL, finished_at = updated_at WHERE status = 'awaiting_review'"
    )
    with op.batch_alter_table("agent_activities") as batch:
        batch.drop_constraint(op.f("ck_agent_activities_status"), type_="check")
        batch.create_check_constraint(op.f("ck_agent_activities_status"), _OLD_STATUSES)
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("review")
