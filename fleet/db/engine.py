"""Building the database engine and sessions from a URL."""

from __future__ import annotations

import functools
import os
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Float, Integer, Table, bindparam, create_engine, event
from sqlalchemy import text as sql_text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # Foreign keys are off by default on SQLite; WAL lets the demo's reader and writer overlap.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()
    # Postgres's date_trunc at the hour, so a query groups by the hour in one spelling.
    dbapi_connection.create_function("date_trunc", 2, _date_trunc, deterministic=True)


def _date_trunc(unit: str, stamp: str | None) -> str | None:
    """``date_trunc('hour', stamp)`` on SQLite's text timestamps ("2026-11-25 16:42:07.1"):
    the hour's start, in the same spelling (an hour is the only unit asked for)."""
    if unit != "hour":
        raise ValueError(f"date_trunc: only 'hour' on SQLite, not {unit[:20]!r}")
    return None if stamp is None else f"{stamp[:13]}:00:00"


# What each engine built here was asked for (its pool's size and overflow), and its
# autocommit twin once made: kept beside the engines, never on them.
_OPTIONS: weakref.WeakKeyDictionary[Engine, dict[str, Any]] = weakref.WeakKeyDictionary()
_AUTOCOMMIT: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()
# SQLAlchemy's QueuePool default, for an engine built elsewhere (a test's).
_DEFAULT_OVERFLOW = 10


def build_engine(url: str, **options: Any) -> Engine:
    """An engine for ``url``; a SQLite file's directory is created if missing."""
    engine = _built(url, **options)
    _OPTIONS[engine] = dict(options)
    return engine


def _built(url: str, **options: Any) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(url, **options)
    if engine.dialect.driver == "psycopg":
        event.listen(engine, "connect", _psycopg_connected)
    if not options.get("pool_pre_ping"):
        _ping_when_idle(engine)
    return engine


def _psycopg_connected(dbapi_connection: Any, _record: Any) -> None:
    """A new Postgres connection's settings: its session in UTC, so that timestamps come
    back aware in UTC as read (``db.models.UtcDateTime`` converts none of them), and lists
    of strings sent by ``TextListDumper``."""
    # Imported here, where psycopg is loaded already: a process on SQLite (the demo) never
    # loads psycopg (some 20 MiB).
    from fleet.db.text_arrays import use_text_list_dumper

    dbapi_connection.execute("SET TIME ZONE 'UTC'")
    dbapi_connection.commit()  # a setting made in a transaction rolled back would be undone
    use_text_list_dumper(dbapi_connection)


PING_AFTER_IDLE_SECONDS = 2.0


def _ping_when_idle(engine: Engine) -> None:
    """Test a pooled connection before use when it sat idle: it may have outlived its server.

    Like ``pool_pre_ping``, but a connection back in use within ``PING_AFTER_IDLE_SECONDS``
    skips the round trip: a busy worker's connections are proven by their last statement.
    Should the server have restarted within that window, the first statement fails as a
    disconnect, which invalidates the whole pool, and the task retries.
    """

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["fleet_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("fleet_idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool discards this connection and checks out (or opens) another.
            raise DisconnectionError(f"connection idle for too long is gone: {error}") from error


def autocommit(sessions: sessionmaker[Session]) -> Engine:
    """An engine in autocommit mode on the database behind ``sessions``.

    For work that is one statement: it is its own transaction, without the round trips of
    BEGIN and COMMIT. On Postgres it has a pool of its own whose connections stay in
    autocommit (switching a shared connection in and out costs a third of a short
    statement's CPU); it is disposed with the engine, and a pool opened in another
    process is dropped, never closed (its sockets are that process's). On SQLite it shares
    the engine's pool: an in-memory database exists only there. Made once per engine.
    """
    bound: Engine = sessions.kw["bind"]
    engine = _AUTOCOMMIT.get(bound)
    if engine is None:
        with _AUTOCOMMIT_LOCK:
            engine = _AUTOCOMMIT.get(bound)
            if engine is None:
                engine = _AUTOCOMMIT[bound] = _autocommit_engine(bound)
    return engine


_AUTOCOMMIT_LOCK = threading.Lock()


def _autocommit_engine(bound: Engine) -> Engine:
    if bound.dialect.name == "sqlite":
        return bound.execution_options(isolation_level="AUTOCOMMIT")
    options: dict[str, Any] = {"isolation_level": "AUTOCOMMIT"}
    if isinstance(bound.pool, QueuePool):
        asked = _OPTIONS.get(bound, {})
        options.update(
            pool_size=bound.pool.size(),
            max_overflow=asked.get("max_overflow", _DEFAULT_OVERFLOW),
        )
    engine = build_engine(bound.url.render_as_string(hide_password=False), **options)
    born_in = os.getpid()

    @event.listens_for(bound, "engine_disposed")
    def _disposed(_engine: Engine) -> None:
        engine.dispose(close=os.getpid() == born_in)

    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def insert_ignoring(on: str | Session | Connection, table: Any, *conflict: str) -> Any:
    """``INSERT ... ON CONFLICT (conflict) DO NOTHING`` for ``table`` on the database of
    ``on`` (a session, a connection, or a dialect's name); no ``conflict`` columns: any
    unique key's conflict.

    The one dialect branch of the fleet's inserts: SQLAlchemy spells ON CONFLICT with each
    dialect's own insert construct (the SQL is the same on both). Made once per table and
    key: the construct is immutable (``.values``, ``.returning`` make new ones).
    """
    return _insert_ignoring(on if isinstance(on, str) else _dialect(on), table, conflict)


def _dialect(on: Session | Connection) -> str:
    """The name of the database behind ``on``: "postgresql" or "sqlite"."""
    bound = on.get_bind() if isinstance(on, Session) else on
    return bound.dialect.name


@functools.cache
def _insert_ignoring(dialect: str, table: Any, conflict: tuple[str, ...]) -> Any:
    maker = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return maker(table).on_conflict_do_nothing(index_elements=list(conflict) or None)


def update_rows(
    on: Session | Connection,
    table: Table,
    ids: Sequence[int],
    columns: Mapping[str, Sequence[Any]],
    same: Mapping[str, Any] | None = None,
    *,
    epochs: Mapping[str, Sequence[float]] | None = None,
) -> None:
    """Write the rows ``ids`` of ``table`` (by its ``id``): to row ``ids[i]``, each
    column's ``columns[name][i]``, and ``same`` to every row. ``epochs``: columns of
    timestamps given as seconds since the epoch, named by the argument they come in (no
    value wraps them): Postgres gets doubles and turns them into timestamps itself,
    cheaper to send than datetimes.

    The one dialect branch of the fleet's bulk updates: on Postgres one ``UPDATE ... FROM
    unnest(arrays)`` (100,000 rows in one round trip, not 100,000), numbers sent as array
    literals built in one join; elsewhere an executemany.
    """
    if not ids:
        return
    same = same or {}
    epochs = epochs or {}
    dialect = (on.get_bind() if isinstance(on, Session) else on).dialect
    if dialect.name == "postgresql":
        # The statement is the same for the same table and columns: made once for them.
        statement, numbers = _unnest_update(
            dialect, table, tuple(same), tuple(columns), tuple(epochs)
        )
        parameters: dict[str, Any] = {**same, "v_id": _array(ids)}
        for name, values in columns.items():
            parameters[f"v_{name}"] = _array(values) if name in numbers else list(values)
        for name, seconds in epochs.items():
            parameters[f"v_{name}"] = _array(seconds)
        on.execute(statement, parameters)
        return
    rows: list[dict[str, Any]] = [{"row_id": row_id, **same} for row_id in ids]
    for name, values in columns.items():
        for row, value in zip(rows, values, strict=True):
            row[name] = value
    for name, seconds in epochs.items():
        for row, second in zip(rows, seconds, strict=True):
            row[name] = datetime.fromtimestamp(second, UTC)
    on.execute(table.update().where(table.c.id == bindparam("row_id")), rows)


@functools.cache
def _unnest_update(
    dialect: Dialect,
    table: Table,
    same: tuple[str, ...],
    columns: tuple[str, ...],
    epochs: tuple[str, ...],
) -> tuple[Any, frozenset[str]]:
    """``UPDATE table SET ... FROM unnest(arrays) AS v(id, ...)`` for the ``same`` values,
    the ``columns`` and the ``epochs`` columns (seconds since the epoch), and the columns
    whose values are numbers (sent as array literals). Made once per shape."""
    assignments = [f"{name} = :{name}" for name in same]
    arrays = [f"CAST(:v_id AS {table.c.id.type.compile(dialect=dialect)}[])"]
    numbers: set[str] = set()
    for name in columns:
        column_type = table.c[name].type
        assignments.append(f"{name} = v.{name}")
        arrays.append(f"CAST(:v_{name} AS {column_type.compile(dialect=dialect)}[])")
        if isinstance(column_type, Integer | Float):
            numbers.add(name)
    for name in epochs:
        assignments.append(f"{name} = to_timestamp(v.{name})")
        arrays.append(f"CAST(:v_{name} AS double precision[])")
    statement = (
        f"UPDATE {table.name} SET {', '.join(assignments)} FROM unnest({', '.join(arrays)}) "
        f"AS v({', '.join(['id', *columns, *epochs])}) WHERE {table.name}.id = v.id"
    )
    return sql_text(statement), frozenset(numbers)


def _array(values: Sequence[float | None]) -> str:
    """A Postgres array literal of numbers (None: NULL): built in one join, it costs a
    fraction of what binding a list does (the driver inspects every element)."""
    return "{" + ",".join(map(repr, values)).replace("None", "NULL") + "}"
