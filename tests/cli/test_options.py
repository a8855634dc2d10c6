"""The shared options: ``--json`` and ``--yes`` kept in the context, related options
gathered into one value."""

from __future__ import annotations

from dataclasses import dataclass

import click
from click.testing import CliRunner

from fleet.cli.options import confirm, gathered, selection_options, yes_option
from fleet.cli.output import as_json, json_option
from fleet.service.agents import Selection


@dataclass(frozen=True)
class Window:
    low: int
    high: int


@click.command()
@click.option("--low", type=int, default=1)
@click.option("--high", type=int, default=9)
@click.option("--label", default="w")
@json_option
@yes_option
@click.pass_context
@gathered(Window, "window")
def shown(ctx: click.Context, window: Window, label: str) -> None:
    """Say the window."""
    confirm(ctx, "Show it?")
    click.echo(f"{label} {window.low}-{window.high} json={as_json(ctx)}")


@click.command()
@selection_options
@click.pass_context
def chosen(ctx: click.Context, selection: Selection) -> None:
    click.echo(f"{selection.refs} {selection.persona} {selection.everyone}")


def test_gathered_options_arrive_as_one_value_and_the_others_as_they_are() -> None:
    result = CliRunner().invoke(shown, ["--low", "3", "--label", "x", "--yes"])
    assert result.output == "x 3-9 json=False\n"


def test_json_is_read_from_the_context() -> None:
    result = CliRunner().invoke(shown, ["--json", "--yes"])
    assert result.output == "w 1-9 json=True\n"


def test_without_yes_the_question_is_asked_and_a_no_aborts() -> None:
    result = CliRunner().invoke(shown, [], input="n\n")
    assert result.exit_code == 1
    assert "Show it? [y/N]" in result.output
    assert "1-9" not in result.output
    assert CliRunner().invoke(shown, [], input="y\n").output.endswith("w 1-9 json=False\n")


def test_the_selection_options_make_one_selection() -> None:
    assert CliRunner().invoke(chosen, ["a1", "a2"]).output == "('a1', 'a2') None False\n"
    assert CliRunner().invoke(chosen, ["--all"]).output == "() None True\n"
    assert CliRunner().invoke(chosen, ["--persona", "p"]).output == "() p False\n"
