"""``fleet hold``: hold the whole fleet (nothing is dispatched) and lift the hold."""

from __future__ import annotations

import click

from fleet.cli.activity import _window
from fleet.cli.context import fleet_of
from fleet.cli.output import as_json, echo, json_option, print_json, when
from fleet.service import holds


@click.group()
def hold() -> None:
    """Hold the fleet (no agent is dispatched while a hold is in force), or lift holds."""


@hold.command("set")
@click.option("--for", "duration", default="1h", show_default=True, help="30m, 6h, 2d.")
@click.option("--reason", required=True, help="Why, as the status shows it.")
@json_option
@click.pass_context
def set_(ctx: click.Context, duration: str, reason: str) -> None:
    """Hold the whole fleet for a while."""
    held = holds.hold(fleet_of(ctx), reason, _window(duration))
    if as_json(ctx):
        print_json({"kind": held.kind, "reason": held.reason, "until": held.until.isoformat()})
    else:
        echo(f"fleet held until {when(held.until)} UTC: {held.reason}")


@hold.command()
@click.pass_context
def lift(ctx: click.Context) -> None:
    """Lift every fleet hold (the admin's, the budget's, the platform's pause)."""
    echo(f"lifted {holds.lift(fleet_of(ctx))} hold(s)")


@hold.command()
@json_option
@click.pass_context
def show(ctx: click.Context) -> None:
    """The hold in force, if any."""
    held = holds.in_force(fleet_of(ctx))
    if as_json(ctx):
        print_json(
            None
            if held is None
            else {"kind": held.kind, "reason": held.reason, "until": held.until.isoformat()}
        )
    elif held is None:
        echo("no hold in force")
    else:
        echo(f"{held.kind} hold until {when(held.until)} UTC: {held.reason}")
