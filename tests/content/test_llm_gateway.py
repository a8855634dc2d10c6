"""The Anthropic writer as operators run it: the real SDK through a real socket to a local
Messages API (``tests.messages_api``): where requests go, how long a call may last,
what a failure carries."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from pydantic import SecretStr

from fleet.content.factory import build_writer
from fleet.content.llm.anthropic import AnthropicWriter
from fleet.content.llm.base import ReplyRefused
from fleet.content.port import ContentWriter, spent_on
from fleet.errors import ConfigError, PermanentError, TransientError
from fleet.settings import LLMSettings, load_settings
from tests.content.conftest import API_KEY, AUTHOR, POST, persona, post_json
from tests.messages_api import MessagesAPI

GAME_DEV = persona("indie_game_dev")
CLOSED = "http://127.0.0.1:9"  # the discard port: nothing listens there


@contextmanager
def writer_from_environment() -> Iterator[ContentWriter]:
    writer = build_writer(load_settings())
    try:
        yield writer
    finally:
        writer.close()


def test_fleet_llm_base_url_sends_the_calls_to_the_gateway_with_its_path(
    monkeypatch: pytest.MonkeyPatch, local_api: MessagesAPI
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY)
    monkeypatch.setenv("FLEET_LLM__BASE_URL", f"{local_api.url}/gateway/anthropic")
    local_api.queue(local_api.text(post_json()))
    with writer_from_environment() as writer:
        assert writer.write_post(GAME_DEV, AUTHOR, nonce=1).title == "Frog bard, finally animated"
    (seen,) = local_api.requests
    assert (seen.method, seen.path) == ("POST", "/gateway/anthropic/v1/messages")
    assert seen.api_key == API_KEY


def test_anthropic_base_url_is_honoured_as_the_sdk_honours_it(
    monkeypatch: pytest.MonkeyPatch, local_api: MessagesAPI
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", local_api.url)
    local_api.queue(local_api.text(post_json()), local_api.text(post_json()))
    with writer_from_environment() as writer:
        writer.write_post(GAME_DEV, AUTHOR, nonce=1)
    # A writer built without the settings leaves the choice to the SDK: the same place.
    with AnthropicWriter(SecretStr(API_KEY), LLMSettings()) as direct:
        assert direct.base_url.startswith(local_api.url)
        direct.write_post(GAME_DEV, AUTHOR, nonce=2)
    assert [seen.path for seen in local_api.requests] == ["/v1/messages", "/v1/messages"]


def test_fleet_llm_base_url_wins_over_anthropic_base_url(
    monkeypatch: pytest.MonkeyPatch, local_api: MessagesAPI
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", CLOSED)
    monkeypatch.setenv("FLEET_LLM__BASE_URL", local_api.url)
    local_api.queue(local_api.text(post_json()))
    with writer_from_environment() as writer:
        writer.write_post(GAME_DEV, AUTHOR, nonce=1)
    assert len(local_api.requests) == 1


@pytest.mark.parametrize("variable", ["FLEET_LLM__BASE_URL", "ANTHROPIC_BASE_URL"])
@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("ftp://gateway.example/anthropic", "URL scheme should be 'http' or 'https'"),
        ("gateway.example:8443", "URL scheme should be 'http' or 'https'"),
        ("https://", "valid URL"),
    ],
)
def test_a_base_url_that_is_no_http_url_stops_start_up_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, why: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=f"{variable}: .*{why}"):
        load_settings()


def test_a_trickling_answer_is_cut_at_the_call_s_deadline(local_api: MessagesAPI) -> None:
    # Eight bytes every 0.25 s: no read waits anywhere near the 1 s timeout, and the
    # whole answer (some 700 bytes) would take 20 s.
    local_api.queue(local_api.trickled_text(post_json(), every=0.25, size=8))
    settings = LLMSettings(model="claude-haiku-4-5", timeout_seconds=1.0)
    with AnthropicWriter(SecretStr(API_KEY), settings, base_url=local_api.url) as writer:
        started = time.monotonic()
        with pytest.raises(TransientError, match=r"timed out.*deadline is 1 s"):
            writer.write_post(GAME_DEV, AUTHOR, nonce=1)
        took = time.monotonic() - started
    # Cut near 1 s; the bound leaves a loaded machine room and is far below the 20 s the
    # whole answer takes.
    assert 1.0 <= took < 5.0, f"the call lasted {took:.2f} s"


@pytest.mark.long
def test_the_deadline_holds_for_each_call_not_for_the_writer(local_api: MessagesAPI) -> None:
    local_api.queue(
        local_api.trickled_text("not json", every=0.75, size=64),
        local_api.trickled_text(post_json(), every=0.75, size=64),
    )
    # Two calls of about 4.5 s each: 9 s in all, past a deadline of 8 s that each keeps
    # with 3.5 s to spare on a loaded machine.
    settings = LLMSettings(model="claude-haiku-4-5", timeout_seconds=8.0)
    with AnthropicWriter(SecretStr(API_KEY), settings, base_url=local_api.url) as writer:
        started = time.monotonic()
        draft = writer.write_post(GAME_DEV, AUTHOR, nonce=1)
        took = time.monotonic() - started
    assert draft.usage.calls == 2
    assert took > 8.0, f"the two calls took {took:.2f} s: not more than one deadline"


def test_an_upstream_that_echoes_the_key_does_not_put_it_in_the_error(
    local_api: MessagesAPI,
) -> None:
    key = "gateway-key-ECHOED-4d1f"  # not shaped like an Anthropic key
    local_api.queue(
        local_api.error(401, "authentication_error", "invalid x-api-key {api_key} for gateway")
    )
    with (
        AnthropicWriter(SecretStr(key), LLMSettings(), base_url=local_api.url) as writer,
        pytest.raises(PermanentError) as raised,
    ):
        writer.write_comment(GAME_DEV, AUTHOR, POST, nonce=1)
    assert local_api.requests[0].api_key == key
    assert key not in str(raised.value) and "invalid x-api-key [redacted]" in str(raised.value)


def test_an_answer_refused_after_its_repair_carries_both_calls_as_the_api_billed_them(
    local_api: MessagesAPI,
) -> None:
    local_api.queue(local_api.text("Sure! A caption: frogs."), local_api.text("{still not"))
    with (
        AnthropicWriter(SecretStr(API_KEY), LLMSettings(), base_url=local_api.url) as writer,
        pytest.raises(ReplyRefused) as refused,
    ):
        writer.write_post(GAME_DEV, AUTHOR, nonce=1)
    billed = local_api.billed_total()
    usage = refused.value.usage
    assert usage.calls == 2
    assert (
        usage.input_tokens == billed["input_tokens"]
        and usage.output_tokens == (billed["output_tokens"])
    )


def test_a_repair_that_fails_carries_the_usage_of_the_first_call(
    local_api: MessagesAPI,
) -> None:
    local_api.queue(local_api.text("no json here"), local_api.error(529, "overloaded_error"))
    with (
        AnthropicWriter(SecretStr(API_KEY), LLMSettings(), base_url=local_api.url) as writer,
        pytest.raises(TransientError) as failed,
    ):
        writer.write_post(GAME_DEV, AUTHOR, nonce=1)
    spent = spent_on(failed.value)
    assert spent is not None and spent.calls == 1
    assert spent.input_tokens == local_api.billed_total()["input_tokens"] > 0
    assert spent.cost_usd > 0


def test_a_model_s_refusal_in_the_repair_carries_both_calls(local_api: MessagesAPI) -> None:
    local_api.queue(local_api.text("[]"), local_api.text("", stop_reason="refusal"))
    with (
        AnthropicWriter(SecretStr(API_KEY), LLMSettings(), base_url=local_api.url) as writer,
        pytest.raises(ReplyRefused, match="declined") as refused,
    ):
        writer.write_comment(GAME_DEV, AUTHOR, POST, nonce=1)
    assert refused.value.usage.calls == 2


def test_the_local_api_writes_the_prompt_cache_once_and_reads_it_after(
    local_api: MessagesAPI,
) -> None:
    """Above the model's minimum the system prompt is written once, then read; below it
    (the persona prompts on Haiku 4.5, under 4,096 tokens) nothing is cached."""
    local_api.cache_min_tokens = 500
    local_api.queue(*(local_api.text(post_json()) for _ in range(2)))
    with AnthropicWriter(SecretStr(API_KEY), LLMSettings(), base_url=local_api.url) as writer:
        cold = writer.write_post(GAME_DEV, AUTHOR, nonce=1).usage
        warm = writer.write_post(GAME_DEV, AUTHOR, nonce=2).usage
        assert cold.cache_write_tokens > 0 and cold.cached_tokens == 0
        assert warm.cache_write_tokens == 0 and warm.cached_tokens == cold.cache_write_tokens
        assert warm.cost_usd < cold.cost_usd
        local_api.cache_min_tokens = None  # Haiku 4.5's own minimum
        local_api.clear_cache()
        local_api.queue(local_api.text(post_json()))
        uncached = writer.write_post(GAME_DEV, AUTHOR, nonce=3).usage
    assert (uncached.cache_write_tokens, uncached.cached_tokens) == (0, 0)
    system = json.dumps(local_api.messages()[0]["system"])
    assert '"cache_control": {"type": "ephemeral"}' in system
