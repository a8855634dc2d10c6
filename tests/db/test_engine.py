"""The engine's pooled connections on Postgres: tested before use when they sat idle."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import Engine, Table, bindparam, insert, select, text
from sqlalchemy.exc import DBAPIError

from fleet.db import engine as engine_module
from fleet.db.engine import autocommit, build_engine, session_factory, update_rows
from fleet.db.models import Agent, UtcDateTime
from tests.conftest import PG_ADMIN_URL, python_prints


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(text("SELECT pg_backend_pid()")))


def _kill(pid: int) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


@pytest.fixture
def pool_of_one(postgres_database: str) -> Iterator[Engine]:
    engine = build_engine(postgres_database, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


def test_an_idle_connection_whose_server_side_died_is_replaced_before_use(
    pool_of_one: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _backend_pid(pool_of_one)
    _kill(first)
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 0.0)

    # No error reaches the caller: the ping found the dead connection, the pool made another.
    assert _backend_pid(pool_of_one) != first


def test_a_connection_back_in_use_at_once_is_not_pinged(
    pool_of_one: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _backend_pid(pool_of_one)
    _kill(first)
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 3600.0)

    # Without the round trip the first statement finds the dead connection; the pool is
    # invalidated, so the next checkout connects afresh.
    with pytest.raises(DBAPIError) as caught:
        _backend_pid(pool_of_one)
    assert caught.value.connection_invalidated
    assert _backend_pid(pool_of_one) != first


def test_autocommit_keeps_a_pool_of_its_own_and_commits_each_statement(
    pool_of_one: Engine, postgres_database: str
) -> None:
    sessions = session_factory(pool_of_one)
    fast = autocommit(sessions)
    assert autocommit(sessions) is fast
    assert fast.pool is not pool_of_one.pool
    assert fast.pool.size() == 1  # type: ignore[attr-defined]  # sized like the engine's
    table = f"autocommit_probe_{uuid.uuid4().hex[:8]}"
    plain_url = postgres_database.replace("postgresql+psycopg://", "postgresql://", 1)
    with fast.connect() as connection:
        assert connection.connection.driver_connection.autocommit  # type: ignore[union-attr]
        connection.execute(text(f"CREATE TABLE {table} (n int)"))
        connection.execute(text(f"INSERT INTO {table} VALUES (1)"))
        # Another session sees the row while this connection is still held: it is committed.
        with psycopg.connect(plain_url) as other:
            assert other.execute(f"SELECT count(*) FROM {table}").fetchone() == (1,)
    # The engine's own connections still open transactions.
    with pool_of_one.connect() as connection:
        assert not connection.connection.driver_connection.autocommit  # type: ignore[union-attr]
    with pool_of_one.begin() as connection:
        connection.execute(text(f"DROP TABLE {table}"))


def _backends(database_url: str) -> set[int]:
    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchall()
    return {pid for (pid,) in rows}


def test_the_autocommit_pool_is_disposed_with_the_engine(postgres_database: str) -> None:
    engine = build_engine(postgres_database)
    fast = autocommit(session_factory(engine))
    held = _backend_pid(fast)
    assert held in _backends(postgres_database)
    engine.dispose()
    assert held not in _backends(postgres_database)


def test_a_forked_child_drops_the_autocommit_pool_without_closing_its_parents_connections(
    postgres_database: str,
) -> None:
    engine = build_engine(postgres_database)
    fast = autocommit(session_factory(engine))
    held = _backend_pid(fast)
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        engine.dispose(close=False)
        os._exit(0)
    os.waitpid(child, 0)
    try:
        # The parent's pooled connection is alive and is the one used next.
        assert _backend_pid(fast) == held
    finally:
        engine.dispose()


def test_the_pool_holds_as_many_connections_as_configured(postgres_database: str) -> None:
    from fleet.service.root import bootstrap
    from fleet.settings import Settings

    fleet = bootstrap(Settings(database_url=postgres_database, database_pool_size=3))
    try:
        assert fleet.engine.pool.size() == 3  # type: ignore[attr-defined]
    finally:
        fleet.close()


def test_update_rows_writes_each_row_its_own_values_and_every_row_the_same(
    engine: Engine,
) -> None:
    agents = Agent.__table__
    assert isinstance(agents, Table)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(
            insert(agents),
            [
                {"handle": f"a{i}", "display_name": "A", "persona": "p", "persona_index": i}
                | {"seed": i, "status": "active", "created_at": at, "updated_at": at}
                for i in range(3)
            ],
        )
        ids = list(connection.scalars(select(agents.c.id).order_by(agents.c.id)))
        update_rows(connection, agents, [], {"session_index": []})
        update_rows(
            connection,
            agents,
            ids[:2],
            {"session_index": [7, 3], "interval_min": [1.5, None], "error": ["late", None]},
            {"status": "stopped", "updated_at": at},
            epochs={"next_tick_at": [at.timestamp() + 1, at.timestamp() + 2.5]},
        )
        rows = connection.execute(
            select(agents.c.next_tick_at, agents.c.session_index, agents.c.interval_min)
            .add_columns(agents.c.error, agents.c.status)
            .order_by(agents.c.id)
        ).all()

    assert [(row.session_index, row.interval_min, row.error, str(row.status)) for row in rows] == [
        (7, 1.5, "late", "stopped"),
        (3, None, None, "stopped"),
        (0, None, None, "active"),
    ]
    assert [row.next_tick_at and row.next_tick_at.timestamp() for row in rows] == [
        at.timestamp() + 1,
        at.timestamp() + 2.5,
        None,
    ]


def test_timestamps_read_back_in_utc_whatever_the_servers_zone(postgres_database: str) -> None:
    # The database's own default zone is not UTC: a connection that did not set its
    # session's zone would read aware times in Paris's (``UtcDateTime`` converts none).
    name = postgres_database.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"ALTER DATABASE \"{name}\" SET timezone = 'Europe/Paris'")
    engine = build_engine(postgres_database)
    fast = autocommit(session_factory(engine))
    stamp = datetime(2026, 11, 28, 10, 30, tzinfo=UTC)
    read_back = (
        text("SELECT CAST(:at AS timestamptz) AS at")
        .bindparams(bindparam("at", type_=UtcDateTime()))
        .columns(at=UtcDateTime())
    )
    try:
        for each in (engine, fast):
            with each.connect() as connection:
                assert connection.scalar(text("SHOW timezone")) == "UTC"
                read = connection.scalar(read_back, {"at": stamp})
            assert read == stamp
            assert read.tzinfo is UTC
    finally:
        engine.dispose()


def test_an_engine_on_sqlite_loads_no_postgres_driver() -> None:
    """The demo's process (SQLite) never loads psycopg: what a Postgres connection needs
    (``fleet.db.text_arrays``) is imported when one is made."""
    program = (
        "import sys\n"
        "from sqlalchemy import text\n"
        "from fleet.db.engine import build_engine\n"
        "engine = build_engine('sqlite://')\n"
        "with engine.connect() as connection:\n"
        "    connection.execute(text('SELECT 1'))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'psycopg'))\n"
    )
    assert python_prints(program) == "[]"
