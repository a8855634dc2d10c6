"""post vectors: each gallery post's text embedded once for the whole fleet

One row per (post, model): the vector of the post's text (``fleet.core.memory.post_text``)
as float32 bytes, with a digest of that text so an edited post is embedded again. The
engage path reads these; it never embeds (a content action or the post's own writer does).

Revision ID: 0013
Revises: 0010
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "post_vectors",
        sa.Column("post_id", sa.String(64), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("digest", sa.String(32), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("post_id", "model", name=op.f("pk_post_vectors")),
    )
    op.create_index("ix_post_vectors_created_at", "post_vectors", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_post_vectors_created_at", table_name="post_vectors")
    op.drop_table("post_vectors")
