"""The engine's pooled connections on Postgres: tested before use when they sat idle."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from fleet.db import engine as engine_module
from fleet.db.engine import autocommit, build_engine, session_factory
from tests.conftest import PG_ADMIN_URL


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


def test_autocommit_shares_the_pool_and_commits_each_statement(
    pool_of_one: Engine, postgres_database: str
) -> None:
    sessions = session_factory(pool_of_one)
    fast = autocommit(sessions)
    assert autocommit(sessions) is fast
    assert fast.pool is pool_of_one.pool
    table = f"autocommit_probe_{uuid.uuid4().hex[:8]}"
    plain_url = postgres_database.replace("postgresql+psycopg://", "postgresql://", 1)
    with fast.connect() as connection:
        connection.execute(text(f"CREATE TABLE {table} (n int)"))
        connection.execute(text(f"INSERT INTO {table} VALUES (1)"))
        # Another session sees the row while this connection is still held: it is committed.
        with psycopg.connect(plain_url) as other:
            assert other.execute(f"SELECT count(*) FROM {table}").fetchone() == (1,)
    with pool_of_one.begin() as connection:
        connection.execute(text(f"DROP TABLE {table}"))


def test_the_pool_holds_as_many_connections_as_configured(postgres_database: str) -> None:
    from fleet.bootstrap import bootstrap
    from fleet.settings import Settings

    fleet = bootstrap(Settings(database_url=postgres_database, database_pool_size=3))
    try:
        assert fleet.engine.pool.size() == 3  # type: ignore[attr-defined]
    finally:
        fleet.close()
