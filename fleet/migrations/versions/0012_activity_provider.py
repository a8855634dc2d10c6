"""activity provider: which writer of the LLM chain wrote an activity's text

``agent_activities.provider`` (``provider:model``, e.g. ``openai:llama3.2``) is set with
the activity's usage when its text is written; NULL for activities that wrote nothing
and for those recorded before this revision. The weekly report counts by it.

Revision ID: 0012
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agent_activities") as batch:
        batch.add_column(sa.Column("provider", sa.String(length=120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agent_activities") as batch:
        batch.drop_column("provider")
