"""Printing for people (aligned rich tables) and for scripts (``--json``)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from fleet.core.terminal import clean

# The exit codes of a check (``fleet audit``, ``fleet status --check``): 2 is bad input.
SHORT = 1
UNCHECKED = 3

F = TypeVar("F", bound=Callable[..., Any])


class Format(Enum):
    """How a command prints: for people, or (``--json``) for scripts."""

    TEXT = "text"
    JSON = "json"


_FORMAT = "fleet.cli.format"


def _keep_format(ctx: click.Context, param: click.Parameter, value: Format) -> Format:
    ctx.meta[_FORMAT] = value
    return value


def json_flag(help: str = "Print JSON for scripts.") -> Callable[[F], F]:
    """``--json``: the command's output format, kept in its context (``as_json``)."""
    return click.option(
        "--json",
        "output_format",
        flag_value=Format.JSON,
        default=Format.TEXT,
        expose_value=False,
        callback=_keep_format,
        help=help,
    )


json_option = json_flag()


def as_json(ctx: click.Context) -> bool:
    """Whether the command was asked for JSON (``--json``)."""
    return ctx.meta.get(_FORMAT, Format.TEXT) is Format.JSON


def echo(message: object = None, **options: Any) -> None:
    """``click.echo`` of a line for people, cleaned of terminal controls: people's and
    the gallery's words print inert (``fleet.core.terminal.clean``)."""
    click.echo(None if message is None else clean(str(message)), **options)


def _default(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "to_json"):
        return value.to_json()
    return str(value)


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=_default))


def print_json_line(data: Any) -> None:
    """One JSON document on one line: a stream's item (``jq -c``, ``grep`` read them)."""
    click.echo(json.dumps(data, default=_default))


def print_table(
    title: str | None,
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    console: Console | None = None,
) -> None:
    """An aligned table: its first column (a slug, a handle, an id) is never broken and
    its title never wrapped; the others wrap at spaces where the terminal is narrow."""
    table = Table(
        title=None if title is None else Text(clean(title)),
        title_justify="left",
        header_style="bold",
        # A title wider than its table would wrap onto several lines.
        min_width=len(title) if title else None,
    )
    for index, column in enumerate(columns):
        table.add_column(column, overflow="fold", no_wrap=index == 0)
    for row in rows:
        # Text, not markup: a person's "[link=...]" is shown as written, never styled.
        table.add_row(*(Text(clean("" if cell is None else str(cell))) for cell in row))
    if console is None:
        console = Console()
        if not console.is_terminal:
            # Piped output is read by people in logs and CI: not squeezed into 80 columns.
            console = Console(width=200)
    console.print(table)


def when(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M:%S")


class Finite(click.FloatRange):
    """A float in a range that is also finite: ``nan`` passes every comparison a range
    makes, and ``inf`` overflows timers and timestamps, so both are refused by name."""

    name = "finite number"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


# Ids and offsets as the databases store them: a 64-bit signed integer at most.
BIGGEST_ROW = 2**63 - 1
ROW_ID = click.IntRange(1, BIGGEST_ROW)
OFFSET = click.IntRange(0, BIGGEST_ROW)
