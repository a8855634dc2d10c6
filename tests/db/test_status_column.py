"""A status column reads back its enum's members, on SQLite and on Postgres."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, bindparam, text
from sqlalchemy.exc import StatementError

from fleet.core.statuses import ActivityStatus, AgentStatus, DraftStatus
from fleet.db.engine import build_engine
from fleet.db.models import Status


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    if request.param == "sqlite":
        built = build_engine("sqlite://")
    else:
        built = build_engine(request.getfixturevalue("postgres_database"))
    yield built
    built.dispose()


def _read(engine: Engine, statuses: type, value: object) -> object:
    statement = (
        text("SELECT CAST(:value AS VARCHAR(16)) AS status")
        .bindparams(bindparam("value", type_=Status(statuses)))
        .columns(status=Status(statuses))
    )
    with engine.connect() as connection:
        return connection.scalar(statement, {"value": value})


@pytest.mark.parametrize("statuses", [ActivityStatus, AgentStatus, DraftStatus])
def test_every_member_reads_back_as_itself(engine: Engine, statuses: type) -> None:
    for member in statuses:
        assert _read(engine, statuses, member) is member
        assert _read(engine, statuses, member.value) is member  # its value, as a string


def test_null_reads_back_as_none(engine: Engine) -> None:
    assert _read(engine, ActivityStatus, None) is None


def test_a_value_that_is_no_member_is_refused_by_name_as_it_is_read(engine: Engine) -> None:
    statement = text("SELECT 'pendng' AS status").columns(status=Status(ActivityStatus))
    with engine.connect() as connection, pytest.raises(KeyError, match="pendng"):
        connection.scalar(statement)


def test_a_string_that_is_no_member_is_refused_before_it_is_written(engine: Engine) -> None:
    with pytest.raises(StatementError, match="pendng"):
        _read(engine, ActivityStatus, "pendng")
