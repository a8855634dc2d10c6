"""``fleet db``: the schema's migrations."""

from __future__ import annotations

import click

from fleet.cli.context import fleet_as_is
from fleet.cli.options import confirm, yes_option
from fleet.cli.output import as_json, echo, json_option, print_json
from fleet.service import database


@click.group()
def db() -> None:
    """Create, upgrade and downgrade the database schema."""


@db.command()
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@click.pass_context
def upgrade(ctx: click.Context, revision: str) -> None:
    """Apply migrations up to REVISION."""
    fleet = fleet_as_is(ctx)
    reached = database.upgrade(fleet, revision)
    echo(f"database {database.describe_url(fleet.settings.database_url)} at revision {reached}")


@db.command()
@click.option("--revision", default="-1", show_default=True, help="Target revision (base = empty).")
@yes_option
@click.pass_context
def downgrade(ctx: click.Context, revision: str) -> None:
    """Revert migrations down to REVISION; data in dropped tables is lost."""
    fleet = fleet_as_is(ctx)
    confirm(ctx, f"Downgrade the database to {revision}? Dropped tables lose their data")
    reached = database.downgrade(fleet, revision)
    echo(f"database at revision {reached or 'base (empty)'}")


@db.command()
@json_option
@click.pass_context
def current(ctx: click.Context) -> None:
    """Show the database's revision and the newest one."""
    now, head = database.revisions(fleet_as_is(ctx))
    if as_json(ctx):
        print_json({"current": now, "head": head, "up_to_date": now == head})
    else:
        echo(
            f"current {now or 'none'}, head {head}"
            + ("" if now == head else " (run `fleet db upgrade`)")
        )
