"""Secrets stay secret: a full action path with a known API key and gallery token leaves
neither in any log line, dead-letter row or CLI output."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx2
import pytest
from celery import Celery
from click.testing import CliRunner
from pydantic import SecretStr
from sqlalchemy import Engine, select

from fleet import activities, agents
from fleet.agents import Selection
from fleet.cli import cli
from fleet.content.llm.anthropic import AnthropicWriter
from fleet.core.kinds import KINDS, Action
from fleet.db.models import DeadLetter
from fleet.infra import logs
from fleet.infra.queue import create_app
from fleet.service.root import Fleet, bootstrap
from fleet.settings import LLMSettings, Settings
from fleet_sandbox.config import SandboxConfig
from fleet_sandbox.server import BackgroundSandbox
from tests.content.conftest import FakeAnthropic, message, post_json
from tests.gallery.conftest import Admin

API_KEY = "sk-ant-api03-KNOWNSECRET-7d1c9e"
TOKEN = "gallery-token-KNOWNSECRET-41b2"


@pytest.fixture
def sandbox() -> Iterator[BackgroundSandbox]:
    with BackgroundSandbox(SandboxConfig(service_token=SecretStr(TOKEN), seed=3)) as server:
        yield server


@pytest.fixture
def secret_fleet(
    sandbox: BackgroundSandbox, sqlite_engine: Engine
) -> Iterator[tuple[Fleet, FakeAnthropic, Celery]]:
    settings = Settings(
        database_url=str(sqlite_engine.url),
        redis_url=None,
        seed=3,
        anthropic_api_key=SecretStr(API_KEY),  # type: ignore[call-arg]
        gallery={"url": sandbox.url, "token": TOKEN},  # type: ignore[arg-type]
        llm=LLMSettings(model="claude-haiku-4-5", timeout_seconds=10),
        tasks={"max_retries": 1},  # type: ignore[arg-type]
    )
    api = FakeAnthropic()
    writer = AnthropicWriter(
        SecretStr(API_KEY),
        settings.llm,
        http_client=httpx2.Client(transport=httpx2.MockTransport(api)),
    )
    fleet = bootstrap(settings, sqlite_engine, writer=writer)
    # The tasks below run on a Celery app of the test's own (its broker the settings'
    # in-memory one, where a dead letter's message goes), handed this Fleet: not on
    # whichever app an earlier test in this process left current.
    app = create_app(settings)
    app.conf.fleet = fleet
    yield fleet, api, app
    app.conf.fleet = None
    fleet.close()


def test_no_secret_reaches_a_log_line_a_dead_letter_or_the_cli(
    secret_fleet: tuple[Fleet, FakeAnthropic, Celery], sandbox: BackgroundSandbox
) -> None:
    fleet, api, app = secret_fleet
    from fleet.worker import tasks  # noqa: F401 - registers the tasks on the app

    assert fleet.settings.anthropic_api_key is not None
    stream = io.StringIO()
    logs.configure("DEBUG", secrets=fleet.secrets, stream=stream)
    try:
        now = datetime.now(UTC)
        created = agents.create_agents(
            fleet.sessions,
            fleet.personas,
            agents.NewAgents("indie_game_dev", 2),
            fleet_seed=3,
            now=now,
        )
        agents.change_status(
            fleet.sessions, fleet.personas, "start", Selection(everyone=True), now=now
        )
        lease = timedelta(minutes=5)
        post_key = f"{created.first_id}:{int(now.timestamp())}:post"
        activities.create_activity(
            fleet.sessions, created.first_id, "post", now, post_key, now=now, lease=lease
        )
        api.queue(message(post_json()))
        assert app.tasks[KINDS[Action.POST].task].apply(args=(post_key,)).get() == "succeeded"

        admin = Admin(sandbox.url)
        admin.http.headers["Authorization"] = f"Bearer {TOKEN}"
        admin.faults(errorRates={"like": 1.0})
        like_key = f"{created.last_id}:{int(now.timestamp())}:like"
        activities.create_activity(
            fleet.sessions, created.last_id, "like", now, like_key, now=now, lease=lease
        )
        assert app.tasks[KINDS[Action.LIKE].task].apply(args=(like_key,)).get() == "dead"
        admin.close()

        # A wrong token: the gallery's 401 must not echo what was sent.
        fleet.action_kit.gallery.close()
        wrong = fleet.settings.model_copy(
            update={
                "gallery": fleet.settings.gallery.model_copy(
                    update={"token": SecretStr(TOKEN + "x")}
                )
            }
        )
        from fleet.gallery.client import HttpGallery

        fleet.action_kit.gallery = HttpGallery(wrong.gallery)
        browse_key = f"{created.last_id}:{int(now.timestamp()) + 1}:browse"
        activities.create_activity(
            fleet.sessions, created.last_id, "browse", now, browse_key, now=now, lease=lease
        )
        assert app.tasks[KINDS[Action.BROWSE].task].apply(args=(browse_key,)).get() == "dead"
    finally:
        logging.getLogger().handlers.clear()
    lines = stream.getvalue().splitlines()
    assert lines, "the path logged something"
    assert all(json.loads(line) for line in lines), "every line is JSON"
    with fleet.sessions() as session:
        letters = [
            f"{row.task} {row.arguments} {row.error_type} {row.error}"
            for row in session.scalars(select(DeadLetter))
        ]
    assert len(letters) == 2
    runner = CliRunner()
    outputs = [
        runner.invoke(cli, args, obj=fleet).output
        for args in (
            ["dlq", "list", "--json"],
            ["dlq", "show", "1"],
            ["dlq", "show", "2", "--json"],
            ["activity", "list", "--json"],
            ["status", "--json", "--no-workers"],
            ["agents", "show", str(created.first_id), "--json"],
        )
    ]
    for secret in (API_KEY, TOKEN, TOKEN + "x"):
        for text in (*lines, *letters, *outputs):
            assert secret not in text
    assert any("401" in letter for letter in letters)
