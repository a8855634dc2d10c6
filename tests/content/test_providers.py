"""Providers from the environment, and the fallback chain: real SDKs against local servers
(the Messages API and Chat Completions), each provider behind its own breaker in Redis."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import closing

import pytest
from redis import Redis

from fleet.content.factory import build_writer
from fleet.content.llm.base import ReplyRefused
from fleet.content.llm.fallback import ChainWriter
from fleet.content.llm.limited import LimitedWriter
from fleet.content.offline.writer import OfflineWriter
from fleet.content.port import ContentWriter, spent_on
from fleet.errors import ConfigError, Deferred, PermanentError, TransientError
from fleet.infra.limits import CircuitBreaker, TokenBucket
from fleet.settings import LLMEndpoint, Settings, load_settings
from tests.content.conftest import AUTHOR, POST, persona, post_json
from tests.messages_api import MessagesAPI
from tests.openai_api import ChatCompletionsAPI

GAME_DEV = persona("indie_game_dev")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FLEET_ENV_FILE", "")
    return monkeypatch


@pytest.fixture
def local() -> Iterator[ChatCompletionsAPI]:
    with ChatCompletionsAPI() as api:
        yield api


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"FLEET_LLM__PROVIDER": "ollama"}, "FLEET_LLM__PROVIDER: Input should be"),
        ({"ANTHROPIC_API_KEY": "k", "FLEET_LLM__FALLBACKS": "[{'provider'"}, "FALLBACKS: is not"),
        ({"ANTHROPIC_API_KEY": "k", "FLEET_LLM__FALLBACKS": '{"a": 1}'}, "FALLBACKS: must be"),
        ({"FLEET_LLM__BASE_URL": "file:///tmp/x"}, "FLEET_LLM__BASE_URL: URL scheme"),
        ({"FLEET_LLM__MODEL": "  "}, "FLEET_LLM__MODEL: must name a model"),
        ({"FLEET_LLM__PROVIDER": "openai", "OPENAI_API_KEY": "k"}, "FLEET_LLM__MODEL must"),
        ({"FLEET_LLM__PROVIDER": "openai", "FLEET_LLM__MODEL": "m"}, "neither FLEET_LLM__BASE"),
        ({"FLEET_LLM__PROVIDER": "anthropic"}, "FLEET_LLM__PROVIDER is anthropic but no key"),
        (
            {
                "ANTHROPIC_API_KEY": "k",
                "FLEET_LLM__FALLBACKS": '[{"provider": "openai", "base_url": "ftp://h/v1"}]',
            },
            "FLEET_LLM__FALLBACKS[0].base_url: URL scheme",
        ),
        (
            {
                "ANTHROPIC_API_KEY": "k",
                "FLEET_LLM__FALLBACKS": '[{"provider": "openai", "base_url": "http://h/v1"}]',
            },
            "FLEET_LLM__FALLBACKS[0].model must name the model",
        ),
    ],
)
def test_bad_provider_settings_are_refused_at_start_up_naming_the_variable(
    env: pytest.MonkeyPatch, variables: dict[str, str], named: str
) -> None:
    for name, value in variables.items():
        env.setenv(name, value)
    with pytest.raises(ConfigError, match="bad configuration") as caught:
        load_settings()
    assert named in str(caught.value)


def test_blank_provider_settings_count_as_unset(env: pytest.MonkeyPatch) -> None:
    for name in ("FLEET_LLM__PROVIDER", "FLEET_LLM__API_KEY", "FLEET_LLM__FALLBACKS"):
        env.setenv(name, "")
    env.setenv("ANTHROPIC_API_KEY", "")
    assert [e.label for e in load_settings().llm_chain()] == ["offline"]


def test_the_chain_is_read_from_the_environment_and_its_keys_are_secrets(
    env: pytest.MonkeyPatch,
) -> None:
    env.setenv("ANTHROPIC_API_KEY", "sk-ant-primary")
    env.setenv(
        "FLEET_LLM__FALLBACKS",
        json.dumps(
            [
                {
                    "provider": "openai",
                    "base_url": "http://127.0.0.1:11434/v1",
                    "model": "llama3.2",
                    "api_key": "sk-fallback-key",
                },
                {"provider": "offline"},
            ]
        ),
    )
    settings = load_settings()
    chain = settings.llm_chain()
    assert [e.label for e in chain] == ["anthropic:claude-haiku-4-5", "openai:llama3.2", "offline"]
    assert [e.host for e in chain] == ["api.anthropic.com", "127.0.0.1:11434", ""]
    assert {"sk-ant-primary", "sk-fallback-key"} <= set(settings.secrets())
    assert "sk-fallback-key" not in repr(chain)


def test_an_openai_provider_alone_writes_a_post_through_a_local_server(
    env: pytest.MonkeyPatch, local: ChatCompletionsAPI
) -> None:
    env.setenv("FLEET_LLM__PROVIDER", "openai")
    env.setenv("FLEET_LLM__BASE_URL", f"{local.url}/v1")
    env.setenv("FLEET_LLM__MODEL", "smollm2-135m")
    local.queue(local.text(post_json()))
    with closing(build_writer(load_settings())) as writer:
        draft = writer.write_post(GAME_DEV, AUTHOR, nonce=1)
    assert draft.usage.provider == "openai:smollm2-135m" and draft.usage.cost_usd == 0
    assert local.completions()[0]["model"] == "smollm2-135m"


def _limited(redis: Redis, keys: str, number: int, inner: ContentWriter) -> LimitedWriter:
    return LimitedWriter(
        inner,
        requests=TokenBucket(redis, f"{keys}:req:{number}", rate=100, burst=100),
        tokens=TokenBucket(redis, f"{keys}:tok:{number}", rate=1e6, burst=1e6),
        breaker=CircuitBreaker(redis, f"{keys}:breaker:{number}", threshold=2, open_seconds=60),
        reserve_tokens=100,
    )


def _chain(env: pytest.MonkeyPatch, primary_url: str, fallback_url: str) -> Settings:
    env.setenv("ANTHROPIC_API_KEY", "sk-ant-primary")
    env.setenv("FLEET_LLM__BASE_URL", primary_url)
    env.setenv(
        "FLEET_LLM__FALLBACKS",
        json.dumps([{"provider": "openai", "base_url": f"{fallback_url}/v1", "model": "local"}]),
    )
    return load_settings()


def test_with_the_primary_down_the_fallback_writes_the_post_and_says_so(
    env: pytest.MonkeyPatch, local: ChatCompletionsAPI, real_redis: Redis, redis_keys: str
) -> None:
    with MessagesAPI() as gone:
        down = gone.url  # nothing listens there any more: connection refused
    settings = _chain(env, down, local.url)

    def limit(_endpoint: LLMEndpoint, number: int, writer: ContentWriter) -> ContentWriter:
        return _limited(real_redis, redis_keys, number, writer)

    local.queue(local.text(post_json()), local.text(post_json()), local.text(post_json()))
    writer = build_writer(settings, limit=limit)
    try:
        for nonce in range(3):
            draft = writer.write_post(GAME_DEV, AUTHOR, nonce=nonce)
            assert draft.usage.provider == "openai:local"
    finally:
        writer.close()
    # The primary failed twice, which opened its breaker: the third writing went
    # straight to the fallback, and the fallback's own breaker never counted a failure.
    assert CircuitBreaker(real_redis, f"{redis_keys}:breaker:0").state()["open"] is True
    assert CircuitBreaker(real_redis, f"{redis_keys}:breaker:1").state()["failures"] == 0
    assert len(local.completions()) == 3


def test_a_server_error_of_the_primary_falls_back_but_a_refusal_does_not(
    env: pytest.MonkeyPatch, local: ChatCompletionsAPI
) -> None:
    with MessagesAPI() as primary:
        settings = _chain(env, primary.url, local.url)
        primary.queue(
            primary.error(529, "overloaded_error"),
            primary.error(400, "invalid_request_error", "prompt is too long"),
            primary.text("not json"),
            primary.text("still not json"),
        )
        local.queue(local.text(json.dumps({"comment": "Lovely candlelight."})))
        with closing(build_writer(settings)) as writer:
            draft = writer.write_comment(GAME_DEV, AUTHOR, POST, nonce=1)
            assert draft.usage.provider == "openai:local" and draft.text == "Lovely candlelight."
            with pytest.raises(PermanentError, match="400"):
                writer.write_comment(GAME_DEV, AUTHOR, POST, nonce=2)
            with pytest.raises(ReplyRefused) as caught:
                writer.write_comment(GAME_DEV, AUTHOR, POST, nonce=3)
        usage = spent_on(caught.value)
        assert usage is not None and usage.calls == 2
        assert usage.provider == "anthropic:claude-haiku-4-5"
    assert len(local.completions()) == 1  # neither the 400 nor the refusal fell back


def test_when_every_provider_is_down_the_error_is_transient_and_carries_what_was_billed(
    env: pytest.MonkeyPatch, local: ChatCompletionsAPI
) -> None:
    with MessagesAPI() as primary:
        settings = _chain(env, primary.url, local.url)
        primary.queue(primary.text("not json"), primary.error(503, "api_error"))
        local.queue(local.error(502, "bad gateway"))
        with closing(build_writer(settings)) as writer, pytest.raises(TransientError):
            writer.write_comment(GAME_DEV, AUTHOR, POST, nonce=1)
        # The primary billed one call before its repair failed: still recorded.
        assert primary.billed and len(local.completions()) == 1


def test_a_rate_limit_is_a_wait_not_an_outage(
    env: pytest.MonkeyPatch, local: ChatCompletionsAPI
) -> None:
    with MessagesAPI() as primary:
        settings = _chain(env, primary.url, local.url)
        primary.queue(primary.error(429, "rate_limit_error", headers={"retry-after": "5"}))
        with closing(build_writer(settings)) as writer, pytest.raises(Deferred):
            writer.write_comment(GAME_DEV, AUTHOR, POST, nonce=1)
    assert local.completions() == []


def test_an_offline_last_resort_writes_when_the_hosted_one_is_down(
    env: pytest.MonkeyPatch,
) -> None:
    with MessagesAPI() as gone:
        down = gone.url
    env.setenv("ANTHROPIC_API_KEY", "sk-ant-primary")
    env.setenv("FLEET_LLM__BASE_URL", down)
    env.setenv("FLEET_LLM__FALLBACKS", '[{"provider": "offline"}]')
    writer = build_writer(load_settings())
    assert isinstance(writer, ChainWriter) and not isinstance(writer, OfflineWriter)
    with closing(writer):
        draft = writer.write_post(GAME_DEV, AUTHOR, nonce=4)
    assert draft.title and draft.usage.provider == "offline"
