"""Alembic environment: runs against the engine Fleet hands over (see fleet.db.migrate)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from fleet.db.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if not isinstance(engine, Engine):
        from fleet.bootstrap import engine_from_environment

        engine = engine_from_environment()
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run `fleet db upgrade`")
run_migrations_online()
