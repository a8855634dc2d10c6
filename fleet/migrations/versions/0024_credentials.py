"""credentials: each agent's platform token sealed at rest; what platforms kept of the marks

``agent_credentials``: one row per agent with a token on a per-agent platform (the
Mastodon client API), the token sealed with Fernet under FLEET_CREDENTIALS__KEYS (the
column never holds it in clear), when it was set, checked, refused or revoked.

``image_marks``: for each image Fleet made, marked and uploaded, whether the platform
kept its provenance marks, and whether the post carried a text disclosure instead.

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "agent_credentials",
        sa.Column("agent_id", ID, nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=True),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked", sa.String(300), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failure", sa.String(300), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_agent_credentials_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("agent_id", name=op.f("pk_agent_credentials")),
    )
    op.create_table(
        "image_marks",
        sa.Column("id", ID, nullable=False),
        sa.Column("platform", sa.String(120), nullable=False),
        sa.Column("agent", sa.String(64), nullable=False),
        sa.Column("media_id", sa.String(120), nullable=False),
        sa.Column("kept", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(300), nullable=False),
        sa.Column("disclosed", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_image_marks")),
        sa.UniqueConstraint("platform", "media_id", name=op.f("uq_image_marks_platform_media_id")),
    )
    op.create_index("ix_image_marks_at", "image_marks", ["at"])


def downgrade() -> None:
    op.drop_index("ix_image_marks_at", table_name="image_marks")
    op.drop_table("image_marks")
    op.drop_table("agent_credentials")
