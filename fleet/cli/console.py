"""``fleet console serve``: the web console (overview, live feed, agents, controls)."""

from __future__ import annotations

import click

from fleet.cli.context import fleet_of
from fleet.cli.output import echo


@click.group()
def console() -> None:
    """The web console: the fleet seen and steered in a browser."""


@console.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8800, show_default=True, type=click.IntRange(0, 65535))
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Serve the console (without FLEET_CONSOLE__PASSWORD: on loopback only)."""
    from fleet.console.serve import guard_for
    from fleet.console.serve import serve as run

    fleet = fleet_of(ctx)
    guard_for(fleet, host)  # refused before anything binds
    run(fleet, host=host, port=port, on_ready=lambda line: echo(line, err=True))
