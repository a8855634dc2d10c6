"""overview counts: the console's counts read from indexes alone

The overview counts a day of activities by (action, status) and the live agents by
(persona, status). Both indexes it reads carry the columns it groups by, so Postgres
answers from the index (an index-only scan) instead of visiting each row:

- ``ix_agent_activities_created_at`` becomes ``(created_at) INCLUDE (action, status)``;
- ``ix_agents_persona_status`` becomes ``(persona, status) INCLUDE (deleted_at)``.

Each replaces the index of the same name, so a write pays for no extra index. SQLite has
no INCLUDE: there the indexes stay as they were.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_agent_activities_created_at", table_name="agent_activities")
    op.create_index(
        "ix_agent_activities_created_at",
        "agent_activities",
        ["created_at"],
        postgresql_include=["action", "status"],
    )
    op.drop_index("ix_agents_persona_status", table_name="agents")
    op.create_index(
        "ix_agents_persona_status",
        "agents",
        ["persona", "status"],
        postgresql_include=["deleted_at"],
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_agent_activities_created_at", table_name="agent_activities")
    op.create_index("ix_agent_activities_created_at", "agent_activities", ["created_at"])
    op.drop_index("ix_agents_persona_status", table_name="agents")
    op.create_index("ix_agents_persona_status", "agents", ["persona", "status"])
