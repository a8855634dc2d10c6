"""Running the Alembic migrations of ``fleet/migrations/`` from code and from the CLI."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine

from fleet.db.versions import MIGRATIONS_DIR
from fleet.errors import InputError

__all__ = ["MIGRATIONS_DIR", "current_revision", "downgrade", "head_revision", "upgrade"]


def alembic_config(engine: Engine) -> Config:
    """An Alembic config bound to ``engine`` (env.py uses the connection it is given)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` (an unknown one is an InputError)."""
    try:
        command.upgrade(alembic_config(engine), revision)
    except CommandError as error:
        raise InputError(f"revision {revision!r}: {error}") from None


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Take the schema down to ``revision`` (an unknown one is an InputError)."""
    try:
        command.downgrade(alembic_config(engine), revision)
    except CommandError as error:
        raise InputError(f"revision {revision!r}: {error}") from None


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    """The newest revision in ``fleet/migrations/``."""
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
