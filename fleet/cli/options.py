"""Options several commands share, and the values they are gathered into.

A command's related options reach it as one value (``gathered``): ``--persona``,
``--all`` and the refs as a ``Selection``, the thresholds of ``fleet status`` as its
``Thresholds``. Flags that only steer how a command talks (``--yes``) are kept in the
click context and read where they matter (``confirm``).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable
from enum import Enum
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

_ASKING = "fleet.cli.asking"


def gathered(
    into: Callable[..., Any], name: str, fields: Iterable[str] | None = None
) -> Callable[[F], F]:
    """Decorate a command so the parameters named as ``into``'s fields (a dataclass, or
    the ``fields`` named) reach it as one ``into(...)`` passed as ``name``; the others
    pass as they are.

    Put it under the options it gathers (click reads them off the function it wraps)."""
    if fields is None:
        fields = [field.name for field in dataclasses.fields(into)]  # type: ignore[arg-type]
    fields = frozenset(fields)

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def command(*args: Any, **kwargs: Any) -> Any:
            values = {key: kwargs.pop(key) for key in fields if key in kwargs}
            return function(*args, **kwargs, **{name: into(**values)})

        return command  # type: ignore[return-value]

    return decorate


def selection_options(function: F) -> F:
    """REFS, ``--persona`` and ``--all``: which agents, as one ``selection: Selection``."""
    from fleet.service.agents import Selection  # the agents' commands load it anyway

    for decorate in (
        gathered(Selection, "selection"),
        click.option("--all", "everyone", is_flag=True, help="Every agent."),
        click.option("--persona", help="Every agent of this persona."),
        click.argument("refs", nargs=-1),
    ):
        function = decorate(function)
    return function


class Asking(Enum):
    """Whether a command that destroys asks first: ``--yes`` answers for the user."""

    ASK = "ask"
    ANSWERED = "answered"


def _keep_asking(ctx: click.Context, param: click.Parameter, value: Asking) -> Asking:
    ctx.meta[_ASKING] = value
    return value


yes_option = click.option(
    "--yes",
    flag_value=Asking.ANSWERED,
    default=Asking.ASK,
    expose_value=False,
    callback=_keep_asking,
    help="Do not ask for confirmation.",
)


def confirm(ctx: click.Context, question: str) -> None:
    """Ask ``question`` (abort on no), unless the command was given ``--yes``."""
    if ctx.meta.get(_ASKING, Asking.ASK) is Asking.ASK:
        click.confirm(question, abort=True)
