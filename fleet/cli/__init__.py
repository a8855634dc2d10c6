"""The ``fleet`` command: the admin's hand. Thin: parse, call the context, print."""

from __future__ import annotations

import sys
from typing import Any

import click

from fleet.cli.activity import activity, dlq
from fleet.cli.agents import agents
from fleet.cli.db import db
from fleet.cli.demo import demo
from fleet.cli.personas import personas
from fleet.cli.reconcile import reconcile
from fleet.cli.sandbox import sandbox
from fleet.cli.schedule import schedule
from fleet.cli.status import status
from fleet.errors import ConflictError, FleetError, InputError


class FleetGroup(click.Group):
    """The root group: every failure becomes one line on stderr and an exit code."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        try:
            result = super().main(*args, standalone_mode=False, **kwargs)  # type: ignore[call-overload]
        except click.exceptions.Abort:
            click.echo("fleet: aborted", err=True)
            sys.exit(1)
        except click.ClickException as exc:
            click.echo(f"fleet: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except (InputError, ConflictError) as exc:
            click.echo(f"fleet: {exc}", err=True)
            sys.exit(2)
        except FleetError as exc:
            click.echo(f"fleet: {exc}", err=True)
            sys.exit(1)
        if not standalone_mode:
            return result
        sys.exit(result if isinstance(result, int) else 0)


@click.group(cls=FleetGroup, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Fleet: persona-driven simulated users for a young image gallery."""


cli.add_command(db)
cli.add_command(demo)
cli.add_command(personas)
cli.add_command(agents)
cli.add_command(activity)
cli.add_command(dlq)
cli.add_command(schedule)
cli.add_command(sandbox)
cli.add_command(status)
cli.add_command(reconcile)


def main() -> None:
    """Console-script entry point."""
    cli.main(prog_name="fleet")
