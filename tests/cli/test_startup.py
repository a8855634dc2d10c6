"""The ``fleet`` command starts without importing its commands: help, version and typos
cost no database, Celery or action stack."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner

from fleet.cli import COMMANDS, cli


def test_each_listed_help_is_the_commands_own() -> None:
    """The lazy list's short help cannot drift from the command's docstring."""
    for name, (module_name, text) in COMMANDS.items():
        command = getattr(importlib.import_module(module_name), name)
        assert isinstance(command, click.Command)
        assert command.name == name
        assert command.get_short_help_str(limit=500) == text, name


def _modules_after(
    *runs: list[str], env: dict[str, str] | None = None, succeed: bool = False
) -> list[tuple[set[str], str]]:
    """The modules loaded, and what was printed, after each of ``runs`` of ``fleet`` in
    turn in one fresh interpreter (one start-up, not one per run: modules only accumulate,
    so a later run's set holds the earlier ones' and is checked at least as strictly)."""
    probe = (
        "import sys\n"
        "from fleet.cli import cli\n"
        f"for args in {[list(args) for args in runs]!r}:\n"
        "    try:\n"
        "        cli.main(args, prog_name='fleet')\n"
        "    except SystemExit as exit:\n"
        f"        assert not ({succeed!r} and exit.code), (args, exit.code)\n"
        f"    print({_END!r}, flush=True)\n"
        f"    print('\\n'.join(sorted(sys.modules)), {_END!r}, file=sys.stderr, flush=True)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    printed = done.stdout.split(_END)[: len(runs)]
    loaded = [set(part.split()) for part in done.stderr.split(_END)[: len(runs)]]
    assert len(loaded) == len(runs), done.stderr[-2000:]
    return list(zip(loaded, printed, strict=True))


_END = "<<end of run>>"


def test_help_version_and_a_typo_import_no_command() -> None:
    heavy = {"celery", "sqlalchemy", "alembic", "fleet.service.root", "fleet.actions", "rich"}
    runs = (["--help"], ["--version"], ["agnts"])
    for args, (loaded, printed) in zip(runs, _modules_after(*runs), strict=True):
        assert not heavy & loaded, (args, heavy & loaded)
        assert not {m for m in loaded if m.startswith("fleet.cli.")}, args
        if args == ["--version"]:
            assert printed.lstrip("\n").startswith("fleet ")


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert f"  {name} " in result.output


def test_a_typo_is_one_line_and_exit_2() -> None:
    result = CliRunner().invoke(cli, ["agnts"])
    assert result.exit_code == 2
    assert "No such command 'agnts'" in result.stderr


def test_everyday_reads_load_no_celery_alembic_or_action_stack(
    tmp_path: Path, sqlite_template: Path
) -> None:
    """`agents list` and `status` read the database: Celery (no broker asked), Alembic
    (the schema at head is told from its version row) and the action stack stay out."""
    # A database at head: the run's migrated template (what `fleet db upgrade` makes).
    database = tmp_path / "fleet.db"
    shutil.copyfile(sqlite_template, database)
    env = {**os.environ, "FLEET_DATABASE_URL": f"sqlite:///{database}", "FLEET_REDIS_URL": ""}
    env["FLEET_ENV_FILE"] = ""
    heavy = {"celery", "alembic", "fleet.actions", "fleet.infra.queue", "redis"}
    runs = (["agents", "list"], ["status", "--no-workers"])
    for args, (loaded, _) in zip(runs, _modules_after(*runs, env=env, succeed=True), strict=True):
        assert not heavy & loaded, (args, heavy & loaded)
