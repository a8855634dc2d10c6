"""Lists of strings reach Postgres as the same arrays through the fleet's direct dumper."""

from __future__ import annotations

import enum
from collections.abc import Iterator

import psycopg
import pytest
from psycopg.adapt import PyFormat
from sqlalchemy import Engine, text

from fleet.db.engine import build_engine
from fleet.db.text_arrays import TextListDumper

# What an array literal must get right: quotes, backslashes, the delimiter, braces,
# white space at either end, the empty string, the word NULL, letters beyond ASCII.
AWKWARD = [
    "plain",
    "two words",
    "",
    "NULL",
    "null",
    'a "quoted" word',
    "back\\slash\\",
    '\\"',
    "{braces},commas",
    "  spaced  ",
    "tab\tnew\nline",
    "é ü 😀 日本",
]


@pytest.fixture
def pg(postgres_database: str) -> Iterator[Engine]:
    engine = build_engine(postgres_database)
    yield engine
    engine.dispose()


def _round_trip(engine: Engine, values: list[object]) -> list[object]:
    with engine.connect() as connection:
        return list(connection.execute(text("SELECT CAST(:v AS text[])"), {"v": values}).scalar())


def test_the_fleets_engines_dump_lists_with_the_direct_dumper(pg: Engine) -> None:
    with pg.connect() as connection:
        adapters = connection.connection.dbapi_connection.adapters  # type: ignore[union-attr]
        assert adapters.get_dumper(list, PyFormat.AUTO) is TextListDumper


@pytest.mark.parametrize("value", AWKWARD)
def test_each_awkward_string_comes_back_as_it_went(pg: Engine, value: str) -> None:
    assert _round_trip(pg, [value]) == [value]
    assert _round_trip(pg, ["before", value, "after"]) == ["before", value, "after"]


def test_a_list_of_them_all_comes_back_in_order(pg: Engine) -> None:
    assert _round_trip(pg, list(AWKWARD)) == AWKWARD


def test_it_writes_what_psycopg_would_and_reads_back_the_same(pg: Engine) -> None:
    # The same arrays by both dumpers: Postgres reads them equal, element for element.
    with pg.connect() as connection:
        raw = connection.connection.dbapi_connection
        plain = psycopg.adapt.Transformer(raw)  # type: ignore[arg-type]
        ours = TextListDumper(list, plain).upgrade(AWKWARD, PyFormat.TEXT)
        theirs = psycopg.types.array.ListDumper(list, plain).upgrade(AWKWARD, PyFormat.TEXT)
        literals = [bytes(ours.dump(AWKWARD) or b""), bytes(theirs.dump(AWKWARD) or b"")]
        assert literals[0] != literals[1]  # spelled differently (ours quotes every element)
        read = [
            connection.execute(text("SELECT CAST(:v AS text[])"), {"v": literal.decode()}).scalar()
            for literal in literals
        ]
    assert read[0] == read[1] == AWKWARD


class Colour(enum.StrEnum):
    RED = "red"


@pytest.mark.parametrize(
    "values",
    [[None, "a b"], ["a", None], [Colour.RED, "blue"], [], [["nested", "x y"], ["a", "b"]]],
    ids=["none-first", "none-last", "enum", "empty", "nested"],
)
def test_what_is_not_a_flat_list_of_str_is_psycopgs_own(pg: Engine, values: list[object]) -> None:
    with pg.connect() as connection:
        got = connection.execute(text("SELECT CAST(:v AS text[])"), {"v": values}).scalar()
    expected = [
        [str(x) for x in item] if isinstance(item, list) else (None if item is None else str(item))
        for item in values
    ]
    assert got == expected


def test_a_nul_in_an_element_is_refused_as_psycopg_refuses_it(pg: Engine) -> None:
    with pytest.raises(Exception, match="NUL"):
        _round_trip(pg, ["fine", "bad\x00byte"])
