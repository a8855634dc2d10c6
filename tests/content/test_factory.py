"""Choosing the writer from the settings."""

from __future__ import annotations

import fakeredis
import httpx2
import pytest
from pydantic import SecretStr

from fleet.content.factory import build_guard, build_ledger, build_writer
from fleet.content.llm.fallback import ChainWriter
from fleet.content.offline.writer import OfflineWriter
from fleet.content.port import Usage
from fleet.errors import ConfigError
from fleet.settings import LLMSettings, Settings, TaskSettings, load_settings
from tests.content.conftest import AUTHOR, FakeAnthropic, message, persona, post_json


def test_without_a_key_the_offline_writer_is_the_default() -> None:
    writer = build_writer(load_settings())
    assert isinstance(writer, OfflineWriter)
    writer.close()


def test_a_blank_key_counts_as_no_key() -> None:
    assert isinstance(build_writer(Settings(ANTHROPIC_API_KEY=SecretStr("  "))), OfflineWriter)


def test_with_a_key_in_the_environment_the_anthropic_writer_is_chosen(
    monkeypatch: pytest.MonkeyPatch, api: FakeAnthropic
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-env")
    monkeypatch.setenv("FLEET_LLM__MODEL", "claude-haiku-4-5")
    api.queue(message(post_json()))
    writer = build_writer(
        load_settings(), http_client=httpx2.Client(transport=httpx2.MockTransport(api))
    )
    try:
        assert isinstance(writer, ChainWriter)
        assert writer.labels == ["anthropic:claude-haiku-4-5"]
        draft = writer.write_post(persona(), AUTHOR, nonce=1)
        assert draft.title and draft.usage.provider == "anthropic:claude-haiku-4-5"
    finally:
        writer.close()


def test_two_llm_timeouts_must_fit_in_the_task_s_soft_time_limit() -> None:
    settings = Settings(
        ANTHROPIC_API_KEY=SecretStr("sk-ant"),
        llm=LLMSettings(timeout_seconds=30),
        tasks=TaskSettings(soft_time_limit_seconds=60, time_limit_seconds=90),
    )
    with pytest.raises(ConfigError, match="under half of FLEET_TASKS__SOFT_TIME_LIMIT_SECONDS"):
        build_writer(settings)


def test_the_guard_and_the_ledger_follow_the_settings() -> None:
    settings = Settings(broker_key_prefix="staging:", llm=LLMSettings(guard_similarity=0.8))
    assert build_guard(settings).threshold == 0.8
    client = fakeredis.FakeRedis()
    book = build_ledger(settings, client)
    book.record(1, Usage("m", cost_usd=0.5))
    keys = [key.decode() if isinstance(key, bytes) else key for key in client.keys("*")]
    assert keys and all(key.startswith("staging:fleet:llm:spend:") for key in keys)
    client.close()


def test_with_plans_off_the_chain_plans_nothing_and_calls_nothing_for_it(
    monkeypatch: pytest.MonkeyPatch, api: FakeAnthropic
) -> None:
    from fleet.content.factory import PerAction
    from fleet.content.port import PlanAsk, PostSeen

    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-env")
    monkeypatch.setenv("FLEET_LLM__PLANS", "false")
    api.queue(message(post_json()))
    writer = build_writer(
        load_settings(), http_client=httpx2.Client(transport=httpx2.MockTransport(api))
    )
    try:
        assert isinstance(writer, PerAction)
        page = (PostSeen("p-1", "A lantern forest", "", "ana", False),)
        plan = writer.plan(persona(), AUTHOR, PlanAsk({"comment": 1}, page), nonce=1)
        assert plan.items == 0 and plan.usage.calls == 0 and api.requests == []
        assert writer.write_post(persona(), AUTHOR, nonce=1).title, "the actions still write"
    finally:
        writer.close()
