"""The Anthropic writer as operators run it: the real SDK through a real socket to a local
Messages API (``tests.messages_api``): where requests go, how long a call may last,
what a failure carries."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from pydantic import SecretStr

from fleet.content.anthropic_writer import AnthropicWriter
from fleet.content.factory import build_writer
from fleet.content.port import ContentWriter
from fleet.errors import ConfigError, TransientError
from fleet.settings import LLMSettings, load_settings
from tests.content.conftest import API_KEY, AUTHOR, persona, post_json
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
    assert 1.0 <= took < 2.5, f"the call lasted {took:.2f} s"


def test_the_deadline_holds_for_each_call_not_for_the_writer(local_api: MessagesAPI) -> None:
    local_api.queue(
        local_api.trickled_text("not json", every=0.25, size=64),
        local_api.trickled_text(post_json(), every=0.25, size=64),
    )
    settings = LLMSettings(model="claude-haiku-4-5", timeout_seconds=2.5)
    with AnthropicWriter(SecretStr(API_KEY), settings, base_url=local_api.url) as writer:
        draft = writer.write_post(GAME_DEV, AUTHOR, nonce=1)
    assert draft.usage.calls == 2  # two calls of about 1.5 s each: more than 2.5 s in all
