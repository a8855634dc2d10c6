"""The sandbox's database: SQLite by default (a file, or ``sqlite://`` in memory),
Postgres with a ``postgresql+psycopg://`` URL; tables created when missing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, delete, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

from fleet_sandbox.tables import metadata


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # Foreign keys are off by default on SQLite; WAL lets readers and the writer overlap.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    # A sandbox, not a ledger: WAL with synchronous=NORMAL survives a crash of the
    # process and skips an fsync on every commit.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def build_engine(url: str, **options: Any) -> Engine:
    """An engine for ``url``; a SQLite file's directory is created if missing."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **options)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **options)
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


class Storage:
    """The sandbox's database: an engine of its own and its tables."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
            # One shared connection: an in-memory database lives as long as its connection.
            self.engine: Engine = build_engine(
                url, poolclass=StaticPool, connect_args={"check_same_thread": False}
            )
        else:
            self.engine = build_engine(url)

    def create(self) -> None:
        """Create the tables that are missing (and the reply column of an older file)."""
        metadata.create_all(self.engine)
        with self.engine.begin() as connection:
            known = {c["name"] for c in inspect(connection).get_columns("sandbox_comments")}
            if "parent_id" not in known:
                connection.execute(
                    text("ALTER TABLE sandbox_comments ADD COLUMN parent_id INTEGER")
                )

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection in a transaction, committed on success and rolled back on error."""
        with self.engine.begin() as connection:
            yield connection

    def reset(self) -> None:
        """Delete every row."""
        with self.engine.begin() as connection:
            for table in reversed(metadata.sorted_tables):
                connection.execute(delete(table))

    def drop(self) -> None:
        """Drop the sandbox's tables (tests on a shared database)."""
        metadata.drop_all(self.engine)

    def dispose(self) -> None:
        """Close the pooled connections."""
        self.engine.dispose()
