"""The ``fleet`` command: the admin's hand. Thin: parse, call the context, print.

Everything it prints, whatever its source (an upstream's error echoing a key, a row
written by an older version), goes out with the configured secrets masked.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from fleet.cli.activity import activity, dlq
from fleet.cli.agents import agents
from fleet.cli.console import console
from fleet.cli.db import db
from fleet.cli.demo import demo
from fleet.cli.hold import hold
from fleet.cli.personas import personas
from fleet.cli.reconcile import reconcile
from fleet.cli.report import report
from fleet.cli.sandbox import sandbox
from fleet.cli.schedule import schedule
from fleet.cli.status import status
from fleet.errors import ConfigError, ConflictError, FleetError, InputError
from fleet.infra.redaction import redacted_output


class FleetGroup(click.Group):
    """The root group: every failure becomes one line on stderr and an exit code."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        with redacted_output(_secrets(kwargs.get("obj"))):
            return self._main(*args, standalone_mode=standalone_mode, **kwargs)

    def _main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
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
        except _unreachable() as exc:
            # A server that is down or refuses: one line that names it, not a traceback.
            click.echo(f"fleet: {_server_of(exc)}: {_first_line(exc)}", err=True)
            sys.exit(1)
        except _database_error() as exc:
            if type(exc) is not _database_error():
                raise  # integrity and programming errors are bugs: keep their traceback
            # A SQLite URL that names some other file ("file is not a database").
            click.echo(f"fleet: database error: {_first_line(exc)}", err=True)
            sys.exit(1)
        if not standalone_mode:
            return result
        sys.exit(result if isinstance(result, int) else 0)


def _secrets(obj: object) -> tuple[str, ...]:
    """The secrets of the Fleet given (tests), else of the environment's settings."""
    from fleet.service.root import Fleet
    from fleet.settings import load_settings

    if isinstance(obj, Fleet):
        return obj.secrets
    try:
        return load_settings().secrets()
    except ConfigError:
        # A bad setting is reported by the command; its secrets are masked meanwhile.
        names = ("ANTHROPIC_API_KEY", "FLEET_GALLERY__TOKEN")
        return tuple(value for name in names if (value := os.environ.get(name, "").strip()))


def _unreachable() -> tuple[type[BaseException], ...]:
    """The errors of a database, Redis or broker out of reach (imported only when needed)."""
    import kombu.exceptions
    import redis.exceptions
    import sqlalchemy.exc

    return (
        sqlalchemy.exc.OperationalError,
        redis.exceptions.ConnectionError,
        redis.exceptions.TimeoutError,
        kombu.exceptions.OperationalError,
    )


def _database_error() -> type[BaseException]:
    import sqlalchemy.exc

    return sqlalchemy.exc.DatabaseError


def _server_of(exc: BaseException) -> str:
    module = type(exc).__module__
    if module.startswith("sqlalchemy"):
        return "database error"
    if module.startswith("redis"):
        return "Redis error"
    return "broker error"


def _first_line(exc: BaseException) -> str:
    """The driver's own words, without SQLAlchemy's wrapping and background link."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


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
cli.add_command(hold)
cli.add_command(console)
cli.add_command(report)


def main() -> None:
    """Console-script entry point."""
    cli.main(prog_name="fleet")
