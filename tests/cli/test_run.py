"""``fleet run``: the embedded fleet acts in one process on the real clock; a quiet fleet
says when it acts next and why; the database's path is printed where it is written."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner
from pydantic import AnyUrl, SecretStr
from sqlalchemy import Engine, update

from fleet.cli import cli
from fleet.db.models import Agent
from fleet.demo.embedded import serve
from fleet.infra import logs
from fleet.service.outlook import outlook
from fleet.service.root import Fleet, bootstrap
from fleet.service.status import Thresholds, check, gather
from fleet.settings import GallerySettings, Settings
from fleet_sandbox.server import BackgroundSandbox
from tests.conftest import REDIS_URL, active_agents
from tests.gallery.conftest import TOKEN

FLEET = str(Path(sys.executable).with_name("fleet"))
DEAD_REDIS = "redis://127.0.0.1:1/0"
# 03:30 UTC on a Wednesday: the night-owl AI art enthusiast (UTC) is awake, the
# data-visualization agent (London, 03:30) asleep: see each persona's dormant windows.
AT = datetime(2026, 11, 25, 3, 30, tzinfo=UTC)


@pytest.fixture
def sqlite_fleet(sqlite_engine: Engine) -> Iterator[Fleet]:
    url = sqlite_engine.url.render_as_string(hide_password=False)
    instance = bootstrap(Settings(database_url=url, redis_url=None, seed=7), sqlite_engine)
    yield instance


def _due(fleet: Fleet, agent_id: int, at: datetime) -> None:
    with fleet.sessions.begin() as session:
        session.execute(update(Agent).where(Agent.id == agent_id).values(next_tick_at=at))


def _acts_within_a_deadline(
    fleet: Fleet, sandbox: BackgroundSandbox, **changes: object
) -> list[str]:
    """The lines `fleet run` (``serve``) prints until its first action, at most 60 s."""
    (agent,) = active_agents(fleet, 1, "ai_art_enthusiast")
    _due(fleet, agent, datetime.now(UTC) - timedelta(seconds=1))
    settings = fleet.settings.model_copy(
        update={
            "gallery": GallerySettings(url=AnyUrl(sandbox.url), token=SecretStr(TOKEN)),
            **changes,
        }
    )
    lines: list[str] = []
    acted = threading.Event()

    def say(line: str) -> None:
        lines.append(line)
        if line[9:10] == "@":  # "HH:MM:SS @handle what it did"
            acted.set()

    stop = threading.Event()
    runner = threading.Thread(target=serve, args=(settings, say, stop), daemon=True)
    runner.start()
    try:
        assert acted.wait(timeout=60), lines
    finally:
        stop.set()
        runner.join(timeout=60)
    assert not runner.is_alive()
    return lines


@pytest.mark.long
def test_fleet_run_acts_on_the_real_clock_within_a_deadline(
    sqlite_fleet: Fleet, sandbox: BackgroundSandbox
) -> None:
    lines = _acts_within_a_deadline(sqlite_fleet, sandbox)
    action = next(line for line in lines if line[9:10] == "@")
    assert action.split(" ", 2)[2], action  # the agent's handle, then what it did


def test_fleet_run_puts_its_actions_on_the_redis_channel_when_there_is_one(
    sqlite_fleet: Fleet,
    sandbox: BackgroundSandbox,
    real_redis: redis.Redis,
    redis_keys: str,
) -> None:
    listener = real_redis.pubsub()
    listener.subscribe(f"{redis_keys}:fleet:activity")
    try:
        _acts_within_a_deadline(
            sqlite_fleet,
            sandbox,
            redis_url=AnyUrl(REDIS_URL),
            broker_key_prefix=f"{redis_keys}:",
        )
        deadline = time.monotonic() + 30
        message = None
        while time.monotonic() < deadline and message is None:
            message = listener.get_message(ignore_subscribe_messages=True, timeout=1)
        assert message is not None
        assert json.loads(message["data"])["status"]
    finally:
        listener.close()


def test_fleet_run_refuses_a_real_broker_and_says_what_to_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLEET_BROKER_URL", "redis://127.0.0.1:6379/0")
    result = CliRunner().invoke(cli, ["run"])
    assert result.exit_code == 2
    assert "start Celery's workers and beat" in result.output


def test_the_outlook_names_the_next_agent_and_the_sleepers(sqlite_fleet: Fleet) -> None:
    awake = active_agents(sqlite_fleet, 2, "ai_art_enthusiast", now=AT)
    asleep = active_agents(sqlite_fleet, 3, "data_visualization", now=AT)
    for n, agent in enumerate([*awake, *asleep]):
        _due(sqlite_fleet, agent, AT + timedelta(minutes=4 + n))
    seen = outlook(sqlite_fleet, AT)
    assert (seen.active, seen.due, seen.asleep) == (5, 0, 3)
    assert seen.next_handle is not None
    assert seen.line() == (
        f"next agent due at 03:34 UTC (in 4 min): @{seen.next_handle} "
        "(ai_art_enthusiast, 03:34 local); 3 of 5 active agents asleep in their timezones"
    )
    _due(sqlite_fleet, awake[0], AT)
    assert outlook(sqlite_fleet, AT).line().startswith("1 agent(s) due now; ")


def test_an_empty_fleet_says_nothing_will_act(sqlite_fleet: Fleet) -> None:
    assert outlook(sqlite_fleet, AT).line().startswith("no active agent: nothing will act")


def test_status_on_the_embedded_configuration_needs_no_redis(sqlite_fleet: Fleet) -> None:
    settings = sqlite_fleet.settings.model_copy(update={"redis_url": AnyUrl(DEAD_REDIS)})
    embedded = bootstrap(settings, sqlite_fleet.engine)
    try:
        report = gather(embedded)
        assert not [line for line in check(report, Thresholds()) if "redis" in line]
        assert any("not needed on the embedded configuration" in n for n in report.notes)
        assert report.outlook["line"].startswith("no active agent")
    finally:
        embedded.close()


def test_the_dispatcher_says_when_the_next_agent_is_due_while_none_is(
    sqlite_fleet: Fleet,
) -> None:
    from fleet.worker import tasks

    (agent,) = active_agents(sqlite_fleet, 1, "ai_art_enthusiast")
    _due(sqlite_fleet, agent, datetime.now(UTC) + timedelta(minutes=9))
    out = io.StringIO()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    tasks._last.clear()
    try:
        logs.configure("INFO", stream=out, log_format=logs.LogFormat.CONSOLE)
        tasks._note_outlook(sqlite_fleet)
        tasks._note_outlook(sqlite_fleet)  # within the minute: no second note
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        tasks._last.clear()
    lines = out.getvalue().splitlines()
    assert len(lines) == 1, lines
    assert "next agent due at" in lines[0] and "(in 9 min)" in lines[0]
    assert not lines[0].lstrip().startswith("{")  # a readable line, not JSON


def test_log_lines_are_json_for_machines_and_readable_when_asked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        for chosen, is_json in (("json", True), ("console", False)):
            monkeypatch.setenv("FLEET_LOG_FORMAT", chosen)
            out = io.StringIO()
            logs.configure("INFO", stream=out)
            logging.getLogger("fleet.test").info("done")
            line = out.getvalue().strip()
            assert line.startswith("{") is is_json, line
            if is_json:
                assert json.loads(line)["event"] == "done"
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def _fleet_cli(cwd: Path, *args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [FLEET, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.long
def test_a_project_directory_with_dot_fleet_has_its_own_fleet_and_run_says_when(
    tmp_path: Path,
) -> None:
    """As a new user: db upgrade and agents create name this directory's .fleet/ file,
    and `fleet run` prints when the next agent is due within seconds (a dead Redis is
    left out, said once)."""
    (tmp_path / ".fleet").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLEET_", "ANTHROPIC_"))}
    env |= {"FLEET_REDIS_URL": DEAD_REDIS, "FLEET_MEMORY__ECHO_SIMILARITY": "1"}
    where = str((tmp_path / ".fleet" / "fleet.db").resolve())
    assert where in _fleet_cli(tmp_path, "db", "upgrade", env=env)
    created = _fleet_cli(
        tmp_path, "agents", "create", "--persona", "indie_game_dev", "--count", "2", env=env
    )
    assert where in created and "this directory's .fleet/" in created
    # Not started: nothing is due, and `fleet run` says so rather than stay silent.
    with subprocess.Popen(
        [FLEET, "run", "--note-every", "1"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as run:
        assert run.stdout is not None
        seen: list[str] = []
        deadline = time.monotonic() + 60
        try:
            while time.monotonic() < deadline:
                line = run.stdout.readline()
                seen.append(line)
                if "no active agent: nothing will act" in line or not line:
                    break
        finally:
            run.terminate()
            run.wait(timeout=30)
    text = "".join(seen)
    assert "no active agent: nothing will act" in text, text
    assert where in text and "does not answer: running without it" in text, text
    assert "No hostname was supplied" not in text and '{"' not in text, text


def test_act_here_on_the_embedded_configuration_needs_no_redis(
    sqlite_engine: Engine, sandbox: BackgroundSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLEET_DATABASE_URL", sqlite_engine.url.render_as_string())
    monkeypatch.setenv("FLEET_REDIS_URL", DEAD_REDIS)
    monkeypatch.setenv("FLEET_GALLERY__URL", sandbox.url)
    monkeypatch.setenv("FLEET_GALLERY__TOKEN", TOKEN)
    runner = CliRunner()
    made = runner.invoke(cli, ["agents", "create", "--persona", "indie_game_dev", "--start"])
    assert made.exit_code == 0, made.output
    acted = runner.invoke(cli, ["agents", "act", "1", "browse", "--here"])
    assert acted.exit_code == 0, (acted.output, made.output, acted.exception)
    assert "browse: succeeded" in acted.stdout
    assert "does not answer: running without it" in acted.stderr
