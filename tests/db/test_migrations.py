"""Every migration runs up and down on Postgres and SQLite, and matches the models."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Engine, Integer, MetaData, inspect, select, text, update

from fleet import activities
from fleet.db import migrate
from fleet.db.engine import build_engine, session_factory
from fleet.db.models import AgentActivity, Base
from tests.conftest import PG_ADMIN_URL, _pg_url


@pytest.fixture(params=["postgres", "sqlite"])
def empty_engine(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = build_engine(f"sqlite:///{tmp_path}/migrations.db")
        yield engine
        engine.dispose()
        return
    name = f"fleet_migrations_{abs(hash(request.node.nodeid)) % 10**8}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    engine = build_engine(_pg_url(name))
    yield engine
    engine.dispose()
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _revisions(engine: Engine) -> list[str]:
    script = ScriptDirectory.from_config(migrate.alembic_config(engine))
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def _diff(engine: Engine, metadata: MetaData) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def test_every_migration_runs_up_and_down_and_up_again(empty_engine: Engine) -> None:
    revisions = _revisions(empty_engine)
    assert revisions, "there is at least one migration"
    for revision in revisions:
        migrate.upgrade(empty_engine, revision)
        assert migrate.current_revision(empty_engine) == revision
    for previous in [*reversed(revisions[:-1]), None]:
        migrate.downgrade(empty_engine, previous or "base")
        assert migrate.current_revision(empty_engine) == previous
    assert set(inspect(empty_engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(empty_engine)
    assert migrate.current_revision(empty_engine) == migrate.head_revision(empty_engine)


def test_the_models_and_the_migrations_agree(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    assert _diff(empty_engine, Base.metadata) == []


def test_the_agreement_check_notices_a_column_the_migrations_lack(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    drifted = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(drifted)
    drifted.tables["agents"].append_column(Column("mood", Integer, nullable=True))
    diff = _diff(empty_engine, drifted)
    assert any("mood" in str(change) for change in diff)


def test_the_schema_carries_the_design_constraints(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    inspector = inspect(empty_engine)
    unique = {
        table: {tuple(c["column_names"]) for c in inspector.get_unique_constraints(table)}
        for table in ("agents", "agent_activities", "engagements")
    }
    assert ("handle",) in unique["agents"]
    assert ("idempotency_key",) in unique["agent_activities"]
    assert ("agent_id", "target_id", "kind") in unique["engagements"]
    due = next(ix for ix in inspector.get_indexes("agents") if ix["name"] == "ix_agents_due")
    assert due["column_names"] == ["next_tick_at"]
    where = due.get("dialect_options") or {}
    predicate = where.get("postgresql_where") or where.get("sqlite_where")
    assert predicate is not None and "active" in str(predicate)


def test_pending_actions_sharing_a_target_before_0003_leave_the_oldest_pending(
    empty_engine: Engine,
) -> None:
    migrate.upgrade(empty_engine, "0002")
    sessions = session_factory(empty_engine)
    now = datetime.now(UTC)
    # The agent as revision 0002 knew agents (today's commands write later columns).
    with sessions.begin() as session:
        agent = session.execute(
            text(
                "INSERT INTO agents (handle, display_name, persona, persona_index, seed, status, "
                "ticks_count, posts_count, comments_count, likes_count, browses_count, "
                "created_at, updated_at) VALUES ('h', 'H', 'social_media_marketer', 0, 1, "
                "'created', 0, 0, 0, 0, 0, :now, :now) RETURNING id"
            ),
            {"now": now},
        ).scalar_one()
    # Two likes of one post in flight (the race 0003 closes), a like of another post,
    # and a comment on the first post: only the second like is one of a pair.
    for second, action, post in [
        (1, "like", "p1"),
        (2, "like", "p1"),
        (3, "like", "p2"),
        (4, "comment", "p1"),
    ]:
        activity = activities.create_activity(
            sessions,
            agent,
            action,
            now + timedelta(seconds=second),
            f"{agent}:{second}:{action}",
            now=now,
            lease=timedelta(minutes=5),
        )
        with sessions.begin() as session:
            session.execute(
                update(AgentActivity)
                .where(AgentActivity.id == activity)
                .values(target_post_id=post)
            )

    migrate.upgrade(empty_engine)

    with sessions() as session:
        rows = session.execute(
            select(AgentActivity.status, AgentActivity.error).order_by(AgentActivity.id)
        ).all()
    assert [status for status, _ in rows] == ["pending", "skipped", "pending", "pending"]
    assert "older pending action of this agent holds the post" in rows[1].error


def test_0005_adds_the_session_columns_and_keeps_every_activity_both_ways(
    empty_engine: Engine,
) -> None:
    migrate.upgrade(empty_engine, "0004")
    now = datetime.now(UTC)
    with empty_engine.begin() as connection:
        agent = connection.execute(
            text(
                "INSERT INTO agents (handle, display_name, persona, persona_index, seed, status, "
                "ticks_count, posts_count, comments_count, likes_count, browses_count, "
                "created_at, updated_at) VALUES ('h', 'H', 'social_media_marketer', 0, 1, "
                "'active', 0, 0, 0, 0, 0, :now, :now) RETURNING id"
            ),
            {"now": now},
        ).scalar_one()
        connection.execute(
            text(
                "INSERT INTO agent_activities (agent_id, action, idempotency_key, due_at, status, "
                "attempts, deliveries, created_at, updated_at) VALUES "
                "(:agent, 'like', 'k1', :now, 'succeeded', 1, 1, :now, :now)"
            ),
            {"agent": agent, "now": now},
        )
    migrate.upgrade(empty_engine)
    with empty_engine.connect() as connection:
        row = connection.execute(
            text("SELECT activity, session_opened_at, session_index, day_counts FROM agents")
        ).one()
        assert tuple(row) == (None, None, 0, None)  # the next tick opens a session
        assert connection.execute(text("SELECT count(*) FROM agent_activities")).scalar() == 1
    index_names = {i["name"] for i in inspect(empty_engine).get_indexes("agent_activities")}
    assert "ix_agent_activities_agent_id_due_at" in index_names
    migrate.downgrade(empty_engine, "0004")
    columns = {c["name"] for c in inspect(empty_engine).get_columns("agents")}
    assert not columns & {"activity", "session_opened_at", "session_index", "day_counts"}
    with empty_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM agent_activities")).scalar() == 1


def test_0025_types_the_ledgers_targets_and_moves_todays_rows_both_ways(
    empty_engine: Engine,
) -> None:
    migrate.upgrade(empty_engine, "0023")
    now = datetime.now(UTC)
    with empty_engine.begin() as connection:
        agent = connection.execute(
            text(
                "INSERT INTO agents (handle, display_name, persona, persona_index, seed, status, "
                "ticks_count, created_at, updated_at) VALUES ('h', 'H', "
                "'social_media_marketer', 0, 1, 'active', 0, :now, :now) RETURNING id"
            ),
            {"now": now},
        ).scalar_one()
        for target, kind in [("7", "like"), ("7", "reply"), ("8", "comment")]:
            connection.execute(
                text(
                    "INSERT INTO engagements (agent_id, post_id, kind, created_at) "
                    "VALUES (:agent, :target, :kind, :now)"
                ),
                {"agent": agent, "target": target, "kind": kind, "now": now},
            )
    migrate.upgrade(empty_engine)
    with empty_engine.connect() as connection:
        rows = connection.execute(
            text("SELECT target_kind, target_id, kind FROM engagements ORDER BY id")
        ).all()
    assert [tuple(r) for r in rows] == [
        ("post", "7", "like"),
        ("comment", "7", "reply"),
        ("post", "8", "comment"),
    ]
    migrate.downgrade(empty_engine, "0023")
    with empty_engine.connect() as connection:
        back = connection.execute(text("SELECT post_id, kind FROM engagements ORDER BY id")).all()
    assert [tuple(r) for r in back] == [("7", "like"), ("7", "reply"), ("8", "comment")]
