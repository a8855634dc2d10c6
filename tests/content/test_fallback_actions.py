"""The fallback end to end: a Fleet on Postgres and Redis whose primary writer (the real
Anthropic SDK) is down and whose fallback is an OpenAI-compatible local server; the
sandbox gallery; the CLI."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from fleet.service.root import Fleet
from fleet_sandbox.server import BackgroundSandbox
from tests.conftest import REDIS_URL
from tests.content.conftest import post_json
from tests.content.test_llm_actions import _act, _activity, _fleet, run
from tests.gallery.conftest import TOKEN
from tests.messages_api import MessagesAPI
from tests.openai_api import ChatCompletionsAPI


@pytest.fixture
def fallback_fleet(
    pg_engine: Engine, sandbox: BackgroundSandbox, redis_keys: str
) -> Iterator[tuple[Fleet, ChatCompletionsAPI]]:
    with MessagesAPI() as gone:
        down = gone.url  # connection refused from here on
    with ChatCompletionsAPI() as local:
        fleet = _fleet(
            pg_engine,
            broker_url=REDIS_URL,
            redis_url=REDIS_URL,
            broker_key_prefix=f"{redis_keys}:",
            gallery={"url": sandbox.url, "token": TOKEN},
            llm={
                "base_url": down,
                "timeout_seconds": 1.0,
                "fallbacks": [
                    {"provider": "openai", "base_url": f"{local.url}/v1", "model": "llama3.2"}
                ],
            },
        )
        made = run(fleet, "agents", "create", "--persona", "indie_game_dev", "--start")
        assert made.exit_code == 0, made.output
        yield fleet, local
        fleet.close()


def test_with_the_primary_down_the_fallback_writes_the_post_and_the_activity_says_so(
    fallback_fleet: tuple[Fleet, ChatCompletionsAPI],
) -> None:
    fleet, local = fallback_fleet
    local.queue(local.text(post_json()))
    result, shown = _act(fleet, "1", "post", "--here")
    assert result.exit_code == 0, result.output
    assert shown["status"] == "succeeded"
    row = _activity(fleet, shown["key"])
    assert row.provider == "openai:llama3.2"
    assert row.usage is not None and row.usage["provider"] == "openai:llama3.2"
    assert row.usage["calls"] == 1 and row.usage["cost_usd"] == 0
    assert local.completions()[0]["model"] == "llama3.2"
    # The primary's failure is counted on its own breaker, the fallback's is clean.
    status = run(fleet, "status")
    assert "llm: anthropic claude-haiku-4-5 at 127.0.0.1" in status.stdout
    assert "llm fallback 1: openai:llama3.2 at 127.0.0.1" in status.stdout
    assert "breaker llm: closed (1 failures)" in status.stdout
    assert "breaker llm:1: closed (0 failures)" in status.stdout
