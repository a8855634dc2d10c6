"""The composition root: builds engine, sessions and the persona catalogue from settings.

The CLI, the Celery worker and the tests all start here; nothing is built at import.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from fleet.db.engine import build_engine, session_factory
from fleet.personas import BUNDLED_DIR, PersonaCatalogue
from fleet.settings import Settings, load_settings


@dataclass
class Fleet:
    """Everything a process needs to act, built lazily from one Settings."""

    settings: Settings
    _engine: Engine | None = field(default=None, repr=False)

    @cached_property
    def engine(self) -> Engine:
        return self._engine or build_engine(self.settings.database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return session_factory(self.engine)

    @cached_property
    def personas(self) -> PersonaCatalogue:
        return PersonaCatalogue.from_directory(self.settings.personas_dir or BUNDLED_DIR)

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()


def bootstrap(settings: Settings | None = None, engine: Engine | None = None) -> Fleet:
    """A Fleet from explicit settings, or from the environment."""
    return Fleet(settings or load_settings(), engine)


def engine_from_environment() -> Engine:
    """The engine the environment's FLEET_DATABASE_URL names."""
    return build_engine(load_settings().database_url)
