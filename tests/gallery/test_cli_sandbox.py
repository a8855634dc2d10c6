"""``fleet sandbox serve``: options, bad input, and a real server process that stops cleanly."""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from fleet.cli import cli
from fleet_sandbox.cli import database_url
from fleet_sandbox.people import PEOPLE
from tests.gallery.conftest import TOKEN


def test_the_database_option_takes_files_memory_and_urls(tmp_path: Path) -> None:
    assert database_url(":memory:") == "sqlite://"
    assert database_url(str(tmp_path / "s.db")) == f"sqlite:///{tmp_path / 's.db'}"
    assert database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database_url("sqlite:///x.db") == "sqlite:///x.db"
    assert database_url(None).endswith("sandbox.db")


def test_a_directory_with_dot_fleet_keeps_its_own_gallery_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert ".fleet" not in database_url(None)  # the user's data directory
    (tmp_path / ".fleet").mkdir()
    assert database_url(None) == f"sqlite:///{(tmp_path / '.fleet' / 'sandbox.db').resolve()}"


def test_bad_fault_options_are_refused_with_exit_code_2() -> None:
    for args in (
        ["--error-rate", "nowhere=0.5"],
        ["--error-rate", "like=1.5"],
        ["--error-rate", "like"],
        ["--lose-answers", "2"],
        ["--agent-daily-budget", "-1"],
    ):
        result = CliRunner().invoke(cli, ["sandbox", "serve", *args])
        assert result.exit_code == 2, args
        assert len(result.stderr.strip().splitlines()) == 1


# Fleet's `fleet sandbox serve` and the package's own `fleet-sandbox serve`: one command.
FLEET_SANDBOX = ("from fleet.cli import main; main()", "sandbox")
OWN_SCRIPT = ("from fleet_sandbox.cli import main; main()",)


@pytest.mark.long
@pytest.mark.parametrize("entry", [FLEET_SANDBOX, OWN_SCRIPT], ids=["fleet", "fleet-sandbox"])
def test_serve_prints_its_url_applies_its_options_and_stops_on_interrupt(
    tmp_path: Path, entry: tuple[str, ...]
) -> None:
    command = [
        sys.executable,
        "-c",
        *entry,
        "serve",
        "--port=0",
        f"--database={tmp_path / 'sandbox.db'}",
        "--agent-daily-budget=3",
        "--error-rate=like=0.25",
        "--lose-answers=0.1",
        "--no-idempotency",
        "--paused",
    ]
    env = os.environ | {"FLEET_GALLERY__TOKEN": TOKEN}
    with (
        (tmp_path / "stderr.log").open("w") as log,
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True, env=env) as server,
    ):
        try:
            assert server.stdout is not None
            with selectors.DefaultSelector() as selector:
                selector.register(server.stdout, selectors.EVENT_READ)
                assert selector.select(timeout=30), "no line from the server in 30 s"
            line = server.stdout.readline()
            found = re.search(r"on (http://127\.0\.0\.1:\d+) \(database sqlite:///", line)
            assert found, line
            with httpx.Client(
                base_url=found.group(1), headers={"Authorization": f"Bearer {TOKEN}"}
            ) as http:
                assert http.get("/").status_code == 200
                state = http.get("/admin/state").json()
            assert state["paused"] is True and state["idempotency"] is False
            assert state["budgets"]["agentDaily"] == 3
            assert state["faults"]["errorRates"] == {"like": 0.25}
            assert state["faults"]["loseAnswerRates"] == {"*": 0.1}
            server.send_signal(signal.SIGINT)
            assert server.wait(timeout=20) == 0, (tmp_path / "stderr.log").read_text()
            assert server.stdout.read().strip().endswith("sandbox gallery stopped")
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
    assert (tmp_path / "sandbox.db").exists()


def test_without_the_sandbox_package_fleet_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "fleet_sandbox", None)  # as if not installed
    result = CliRunner().invoke(cli, ["demo", "--duration", "1"])
    assert result.exit_code == 1
    assert "pip install 'fleet[demo]'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_starting_agents_provisions_their_gallery_accounts_once(
    sandbox: object, admin: object, sqlite_engine: object
) -> None:
    """`fleet agents start` creates each agent's gallery user and keeps its id; again, nothing new."""
    import json as _json

    from click.testing import CliRunner

    from fleet.cli import cli
    from fleet.service.root import bootstrap
    from fleet.settings import Settings
    from tests.gallery.conftest import TOKEN

    url = sandbox.url  # type: ignore[attr-defined]
    fleet = bootstrap(
        Settings(
            database_url=str(sqlite_engine.url),
            redis_url=None,
            gallery={"url": url, "token": TOKEN},
        ),  # type: ignore[arg-type, attr-defined]
        sqlite_engine,  # type: ignore[arg-type]
    )
    runner = CliRunner()
    runner.invoke(
        cli, ["agents", "create", "--persona", "ux_ui_designer", "--count", "3"], obj=fleet
    )
    first = _json.loads(
        runner.invoke(cli, ["agents", "start", "--all", "--json"], obj=fleet).stdout
    )
    assert first["accounts"] == {"created": 3, "existing": 0, "failed": 0}
    listed = _json.loads(runner.invoke(cli, ["agents", "list", "--json"], obj=fleet).stdout)
    assert all(agent["platform_user_id"] for agent in listed)
    runner.invoke(cli, ["agents", "stop", "--all"], obj=fleet)
    again = _json.loads(
        runner.invoke(cli, ["agents", "start", "--all", "--json"], obj=fleet).stdout
    )
    assert again["accounts"] == {"created": 0, "existing": 0, "failed": 0}
    users = admin.report()["users"]  # type: ignore[attr-defined]
    handles = {agent["handle"] for agent in listed}
    assert len([u for u in users if u["username"] in handles]) == 3
    fleet.close()


def test_serve_with_people_seeds_them_once_it_listens(tmp_path: Path) -> None:
    """`make run`'s sandbox starts with people on it, as the demo's does: the fleet's
    first likes and comments find someone."""
    command = [
        sys.executable,
        "-c",
        "from fleet.cli import main; main()",
        "sandbox",
        "serve",
        "--port=0",
        f"--database={tmp_path / 'sandbox.db'}",
        "--people=3",
        "--no-access-log",
    ]
    env = os.environ | {"FLEET_GALLERY__TOKEN": TOKEN}
    with (
        (tmp_path / "stderr.log").open("w") as log,
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True, env=env) as server,
    ):
        try:
            assert server.stdout is not None
            lines: list[str] = []
            with selectors.DefaultSelector() as selector:
                selector.register(server.stdout, selectors.EVENT_READ)
                while not any("people on the gallery" in line for line in lines):
                    assert selector.select(timeout=60), f"no line in 60 s after {lines}"
                    lines.append(server.stdout.readline())
            found = re.search(r"on (http://127\.0\.0\.1:\d+) ", lines[0])
            assert found, lines
            assert "3 people on the gallery" in lines[-1]
            page = httpx.get(found.group(1) + "/", timeout=10).text
            for username, _, _, title, _ in PEOPLE[:3]:
                assert username in page and title in page
            assert PEOPLE[3][0] not in page
            server.send_signal(signal.SIGINT)
            assert server.wait(timeout=20) == 0
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
