"""One configuration for every shell: a ``.env`` in the working directory, the database
named by every status, and no empty database made behind the operator's back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from fleet.cli import cli
from fleet.errors import ConfigError
from fleet.settings import load_settings


def test_a_dotenv_here_is_read_beneath_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text(
        "FLEET_DATABASE_URL=sqlite:///from-dotenv.db\nFLEET_SEED=42\nOTHER=ignored\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FLEET_ENV_FILE")
    settings = load_settings()
    assert settings.database_url == "sqlite:///from-dotenv.db"
    assert settings.seed == 42
    monkeypatch.setenv("FLEET_SEED", "5")
    assert load_settings().seed == 5  # the environment wins


def test_fleet_env_file_names_another_file_or_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("FLEET_SEED=42\n")
    other = tmp_path / "fleet.env"
    other.write_text("FLEET_SEED=9\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FLEET_ENV_FILE", str(other))
    assert load_settings().seed == 9
    monkeypatch.setenv("FLEET_ENV_FILE", "")
    assert load_settings().seed == 1
    monkeypatch.setenv("FLEET_ENV_FILE", str(tmp_path / "missing.env"))
    with pytest.raises(ConfigError, match=r"FLEET_ENV_FILE: no file at .*missing\.env"):
        load_settings()


def test_status_on_no_fleet_says_so_and_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The embedded default is not created by a read: a second shell that does not see
    the fleet's configuration hears so, instead of an empty table from a new file."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["status", "--no-workers"])
    assert result.exit_code == 2, result.output
    assert "no fleet yet in the embedded database" in result.stderr
    assert "fleet db upgrade" in result.stderr
    assert not (tmp_path / "data" / "fleet" / "fleet.db").exists()


def test_status_names_the_database_it_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    database = tmp_path / "fleet.db"
    (tmp_path / ".env").write_text(f"FLEET_DATABASE_URL=sqlite:///{database}\nFLEET_REDIS_URL=\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FLEET_ENV_FILE")
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    shown = runner.invoke(cli, ["status", "--no-workers"])
    assert shown.exit_code == 0, shown.output
    assert f"database: {database.resolve()} (SQLite)" in shown.output
    as_json = runner.invoke(cli, ["status", "--no-workers", "--json"])
    assert json.loads(as_json.output)["database"] == f"sqlite:///{database}"
