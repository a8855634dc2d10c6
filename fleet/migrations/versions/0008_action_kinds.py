"""action kinds: the registry names the kinds, the activities count them

The kinds of action (``fleet.core.kinds``) are no longer listed in the schema: the CHECK
constraints on ``agent_activities.action`` and ``engagements.kind`` go (every activity
is recorded through the registry), and so do the agent's per-kind counters and its
"last action" columns, which the activities context wrote into the agents table. What
an agent did is read from its activities instead (``fleet.activities.tallies``).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COUNTERS = ("posts_count", "comments_count", "likes_count", "browses_count")
_LAST = ("current_action", "last_action", "last_action_at", "last_thought")
_ACTIONS = "action IN ('post', 'comment', 'like', 'browse')"
_KINDS = "kind IN ('like', 'comment')"


def upgrade() -> None:
    # Batches: SQLite rebuilds a table to drop a constraint or a column (env.py turns its
    # foreign keys off for that, so no activity is lost).
    with op.batch_alter_table("agent_activities") as batch:
        batch.drop_constraint(op.f("ck_agent_activities_action"), type_="check")
    with op.batch_alter_table("engagements") as batch:
        batch.drop_constraint(op.f("ck_engagements_kind"), type_="check")
    with op.batch_alter_table("agents") as batch:
        for column in (*_COUNTERS, *_LAST):
            batch.drop_column(column)


def downgrade() -> None:
    # The older schema knows four kinds: what another kind did is forgotten.
    op.execute("DELETE FROM engagements WHERE kind NOT IN ('like', 'comment')")
    op.execute(
        "DELETE FROM agent_activities WHERE action NOT IN ('post', 'comment', 'like', 'browse')"
    )
    with op.batch_alter_table("agents") as batch:
        for column in _COUNTERS:
            batch.add_column(sa.Column(column, sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("current_action", sa.String(16), nullable=True))
        batch.add_column(sa.Column("last_action", sa.String(16), nullable=True))
        batch.add_column(sa.Column("last_action_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_thought", sa.Text(), nullable=True))
    for column, action in zip(_COUNTERS, ("post", "comment", "like", "browse"), strict=True):
        op.execute(
            f"UPDATE agents SET {column} = (SELECT count(*) FROM agent_activities a "
            f"WHERE a.agent_id = agents.id AND a.action = '{action}' AND a.status = 'succeeded')"
        )
    with op.batch_alter_table("agent_activities") as batch:
        batch.create_check_constraint(op.f("ck_agent_activities_action"), _ACTIONS)
    with op.batch_alter_table("engagements") as batch:
        batch.create_check_constraint(op.f("ck_engagements_kind"), _KINDS)
