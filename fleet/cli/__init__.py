"""The ``fleet`` command: the admin's hand. Thin: parse, call the context, print.

Everything it prints, whatever its source (an upstream's error echoing a key, a row
written by an older version), goes out with the configured secrets masked.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from fleet.core.terminal import clean
from fleet.errors import ConfigError, ConflictError, FleetError, InputError
from fleet.infra.redaction import redacted_output

# The commands, imported when one runs (``fleet --help`` and a typo import none of
# them: a command's module brings the database, Celery and the action stack). Each
# entry: the command's module and its short help, which a test holds equal to the
# command's own.
COMMANDS: dict[str, tuple[str, str]] = {
    "activity": ("fleet.cli.activity", "The activity ledger: one row per decided action."),
    "agents": ("fleet.cli.agents", "Create, list and drive agents."),
    "audit": (
        "fleet.cli.audit",
        "Check the honesty rules against the gallery and the ledger; exit 1 when any falls "
        "short, 3 when none does but one could not run (the gallery down or unreadable).",
    ),
    "console": ("fleet.cli.console", "The web console: the fleet seen and steered in a browser."),
    "db": ("fleet.cli.db", "Create, upgrade and downgrade the database schema."),
    "demo": (
        "fleet.cli.demo",
        "Run a small fleet on SQLite, an in-memory broker and the sandbox gallery (or a "
        "local Takahē, --platform takahe).",
    ),
    "drafts": (
        "fleet.cli.drafts",
        "Drafts of agents under review: list, show, approve, reject, edit, expire.",
    ),
    "dlq": ("fleet.cli.activity", "The dead-letter queue: actions that failed for good."),
    "hold": (
        "fleet.cli.hold",
        "Hold the fleet (no agent is dispatched while a hold is in force), or lift holds.",
    ),
    "impact": (
        "fleet.cli.impact",
        "Per experiment: people per arm, each outcome per arm, the difference with its 95 % CI.",
    ),
    "personas": ("fleet.cli.personas", "List, show and validate persona files."),
    "reconcile": (
        "fleet.cli.reconcile",
        "Compare the ledger with the gallery; exit 1 while differences remain (a "
        "like_excess, perhaps a person's like, is reported but does not count).",
    ),
    "report": (
        "fleet.cli.report",
        "Per persona: actions by kind, LLM tokens and cost, dead letters and their reasons.",
    ),
    "review": (
        "fleet.cli.drafts",
        "Put agents under review mode (their posts, comments and replies wait as drafts for "
        "`fleet drafts approve`), or take them out of it.",
    ),
    "run": (
        "fleet.cli.run",
        "Run your fleet on the embedded configuration: worker and beat in this process.",
    ),
    "sandbox": (
        "fleet.cli.sandbox",
        "The sandbox gallery: the gallery API, pictures and a page, with fault injection.",
    ),
    "schedule": (
        "fleet.cli.schedule",
        "Inspect the personas' activity clocks and an agent's simulated day.",
    ),
    "status": (
        "fleet.cli.status",
        "The fleet's health at a glance; with --check, an exit code for alerts (0 well, 1 a "
        "threshold broken, 3 a check could not run: docs/cli.md).",
    ),
}


class FleetGroup(click.Group):
    """The root group: every failure becomes one line on stderr and an exit code.

    Its commands load lazily from ``COMMANDS``: listing them costs no import.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        if cmd_name not in COMMANDS:
            return None
        import importlib

        module = importlib.import_module(COMMANDS[cmd_name][0])
        command = getattr(module, cmd_name)
        assert isinstance(command, click.Command)
        self.commands[cmd_name] = command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from ``COMMANDS``' short help, without importing a command."""
        rows = []
        for name in self.list_commands(ctx):
            if name in COMMANDS:
                text = COMMANDS[name][1]
            else:
                text = self.commands[name].get_short_help_str()
            rows.append((name, text))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        with redacted_output(_secrets(kwargs.get("obj"))):
            result = self._main(*args, **kwargs)
        if not standalone_mode:
            return result
        sys.exit(result if isinstance(result, int) else 0)

    def _main(self, *args: Any, **kwargs: Any) -> Any:
        """The command's result; a failure is one line on stderr and an exit."""
        try:
            return super().main(*args, standalone_mode=False, **kwargs)  # type: ignore[call-overload]
        except click.exceptions.Abort:
            _echo("fleet: aborted", err=True)
            sys.exit(1)
        except click.ClickException as exc:
            _echo(f"fleet: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except (InputError, ConflictError) as exc:
            _echo(f"fleet: {exc}", err=True)
            sys.exit(2)
        except FleetError as exc:
            _echo(f"fleet: {exc}", err=True)
            sys.exit(1)
        except _unreachable() as exc:
            # A server that is down or refuses: one line that names it, not a traceback.
            _echo(f"fleet: {_server_of(exc)}: {_first_line(exc)}", err=True)
            sys.exit(1)
        except _database_error() as exc:
            if type(exc) is not _database_error():
                raise  # integrity and programming errors are bugs: keep their traceback
            # A SQLite URL that names some other file ("file is not a database").
            _echo(f"fleet: database error: {_first_line(exc)}", err=True)
            sys.exit(1)


def _secrets(obj: object) -> tuple[str, ...]:
    """The secrets of the Fleet given (tests), else of the environment's settings."""
    from fleet.settings import load_settings

    secrets = getattr(obj, "secrets", None)  # a Fleet (not imported: it costs ~0.5 s)
    if isinstance(secrets, tuple):
        return secrets
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
@click.version_option(package_name="fleet", prog_name="fleet", message="%(prog)s %(version)s")
def cli() -> None:
    """Fleet: persona-driven simulated users for a young image gallery."""


def main() -> None:
    """Console-script entry point."""
    cli.main(prog_name="fleet")


def _echo(message: str, **options: Any) -> None:
    """``fleet.cli.output.echo`` without loading it (``--help`` and a typo load no
    command module): a line cleaned of terminal controls."""
    click.echo(clean(message), **options)
