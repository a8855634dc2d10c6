"""The OpenAI-compatible writer: the real ``openai`` SDK against a local Chat Completions
server the tests start (``tests.openai_api``), no network."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from fleet.content.llm.base import MAX_BODY_BYTES, Price, ReplyRefused
from fleet.content.llm.openai import ChatServer, OpenAIWriter, is_local
from fleet.content.port import spent_on
from fleet.errors import ConfigError, Deferred, PermanentError, TransientError
from tests.content.conftest import AUTHOR, IMAGE_HOST, POST, persona, post_json
from tests.messages_api import raw, trickled
from tests.openai_api import ChatCompletionsAPI

GAME_DEV = persona("indie_game_dev")
KEY = "sk-local-0123456789-secret"


@pytest.fixture
def server() -> Iterator[ChatCompletionsAPI]:
    with ChatCompletionsAPI() as api:
        yield api
        assert api.unexpected == []


def make(
    server: ChatCompletionsAPI,
    *,
    timeout: float = 5.0,
    prices: dict[str, Price] | None = None,
    key: str | None = KEY,
) -> OpenAIWriter:
    return OpenAIWriter(
        ChatServer(
            model="smollm2",
            api_key=None if key is None else SecretStr(key),
            base_url=f"{server.url}/v1",
            timeout_seconds=timeout,
        ),
        prices=prices or {},
        image_host=IMAGE_HOST,
    )


def test_a_post_asks_for_the_schema_and_comes_back_with_its_tokens_at_0_usd_locally(
    server: ChatCompletionsAPI,
) -> None:
    server.queue(server.text(post_json()))
    with make(server) as writer:
        draft = writer.write_post(GAME_DEV, AUTHOR, nonce=7)
    assert (draft.title, draft.style) == ("Frog bard, finally animated", "pixel-art")
    body = server.completions()[0]
    assert body["model"] == "smollm2"
    assert body["response_format"]["type"] == "json_schema"
    schema = body["response_format"]["json_schema"]["schema"]
    assert schema["required"] == ["image_prompt", "style", "caption"]
    # No long length caps on the wire (llama.cpp cannot compile them); Fleet enforces them.
    # The style is one of the persona's, so a server that decodes by it keeps to them.
    assert schema["properties"]["style"]["enum"] == list(GAME_DEV.workflow_styles)
    assert "maxLength" not in schema["properties"]["caption"]
    assert (
        body["messages"][0]["role"] == "system"
        and "Indie Game Dev" in (body["messages"][0]["content"])
    )
    assert server.requests[0].headers["x-stainless-retry-count"] == "0"
    assert server.requests[0].api_key == KEY
    billed = server.billed[0]
    usage = draft.usage
    assert (usage.input_tokens, usage.output_tokens, usage.calls) == (
        billed["prompt_tokens"],
        billed["completion_tokens"],
        1,
    )
    assert usage.cost_usd == 0.0


def test_a_priced_model_costs_its_price_and_a_hosted_unpriced_one_is_refused(
    server: ChatCompletionsAPI,
) -> None:
    server.queue(server.text(json.dumps({"comment": "Lovely candlelight on that glass."})))
    price = Price(input=1.0, output=5.0, cache_read=0.1, cache_write=1.25)
    with make(server, prices={"smol": price}) as writer:
        draft = writer.write_comment(GAME_DEV, AUTHOR, POST, nonce=3)
    billed = server.billed[0]
    expected = (billed["prompt_tokens"] * 1.0 + billed["completion_tokens"] * 5.0) / 1e6
    assert draft.usage.cost_usd == pytest.approx(expected)
    with pytest.raises(ConfigError, match="no price for LLM model 'gpt-x'"):
        OpenAIWriter(
            ChatServer(
                model="gpt-x",
                api_key=SecretStr(KEY),
                base_url="https://llm.example.com/v1",
                timeout_seconds=5,
            ),
            prices={},
        )
    assert is_local("http://127.0.0.1:8080/v1") and is_local("http://localhost:11434/v1")
    assert not is_local("https://api.openai.com/v1") and not is_local(None)


def test_a_comment_fences_the_post_as_data_and_shows_its_image(
    server: ChatCompletionsAPI,
) -> None:
    server.queue(server.text(json.dumps({"comment": "That perfume bottle glows."})))
    with make(server) as writer:
        draft = writer.write_comment(GAME_DEV, AUTHOR, POST, nonce=3)
    assert draft.text == "That perfume bottle glows."
    image, text = server.completions()[0]["messages"][1]["content"]
    assert image == {"type": "image_url", "image_url": {"url": POST.image_url}}
    assert '<post>{"title": "Glass perfume bottle in candlelight"' in text["text"]


def test_text_where_json_was_asked_gets_one_repair_then_a_refusal_with_the_usage(
    server: ChatCompletionsAPI,
) -> None:
    server.queue(server.text("Sure! Here is a caption: frogs."), server.text("still no json"))
    with make(server) as writer, pytest.raises(ReplyRefused) as caught:
        writer.write_post(GAME_DEV, AUTHOR, nonce=1)
    assert "after one repair" in caught.value.reason
    usage = spent_on(caught.value)
    assert usage is not None and usage.calls == 2
    assert usage.input_tokens == sum(b["prompt_tokens"] for b in server.billed)
    assert usage.output_tokens == sum(b["completion_tokens"] for b in server.billed)
    repair = server.completions()[1]["messages"]
    assert repair[2] == {"role": "assistant", "content": "Sure! Here is a caption: frogs."}
    assert "could not be used" in repair[3]["content"]


def test_a_repair_that_works_is_kept(server: ChatCompletionsAPI) -> None:
    server.queue(server.text("no json"), server.text(post_json()))
    with make(server) as writer:
        draft = writer.write_post(GAME_DEV, AUTHOR, nonce=1)
    assert draft.title == "Frog bard, finally animated" and draft.usage.calls == 2


def test_a_server_without_structured_output_is_asked_again_as_text_and_remembered(
    server: ChatCompletionsAPI,
) -> None:
    server.formats = frozenset()
    server.queue(server.text(post_json()), server.text(post_json()))
    with make(server) as writer:
        writer.write_post(GAME_DEV, AUTHOR, nonce=1)
        writer.write_post(GAME_DEV, AUTHOR, nonce=2)
    sent = [body.get("response_format", {}).get("type") for body in server.completions()]
    assert sent == ["json_schema", "json_object", None, None]


def test_a_llama_cpp_like_server_gets_json_object_with_the_schema(
    server: ChatCompletionsAPI,
) -> None:
    """llama.cpp's server answers 500 to a json_schema and takes json_object + schema: a
    refusal of the format, not an outage (no fallback, no breaker failure)."""
    server.formats, server.refuse_status = frozenset({"json_object"}), 500
    server.queue(server.text(post_json()), server.text(json.dumps({"comment": "Nice glow."})))
    with make(server) as writer:
        writer.write_post(GAME_DEV, AUTHOR, nonce=1)
        writer.write_comment(GAME_DEV, AUTHOR, POST, nonce=1)
    sent = [body.get("response_format") for body in server.completions()]
    assert [f["type"] for f in sent] == ["json_schema", "json_object", "json_object"]
    assert "comment" in sent[2]["schema"]["properties"]
    assert sent[1]["schema"]["properties"]["style"]["enum"] == list(GAME_DEV.workflow_styles)


def test_a_schema_ignoring_answer_is_refused_never_published(server: ChatCompletionsAPI) -> None:
    wrong = json.dumps({"caption": "x" * 50, "style": "oil-painting", "image_prompt": "y"})
    server.queue(server.text(wrong), server.text(json.dumps({"answer": 42})))
    with make(server) as writer, pytest.raises(ReplyRefused) as caught:
        writer.write_post(GAME_DEV, AUTHOR, nonce=1)
    assert "does not fit the task" in caught.value.reason


def test_an_enormous_body_is_cut_unread_as_the_provider_down_with_a_bounded_usage(
    server: ChatCompletionsAPI,
) -> None:
    server.queue(raw(200, {"junk": "z" * (2 * MAX_BODY_BYTES)}))
    with make(server) as writer, pytest.raises(TransientError) as caught:
        writer.write_comment(GAME_DEV, AUTHOR, POST, nonce=1)
    assert f"larger than {MAX_BODY_BYTES:,} bytes" in str(caught.value)
    usage = spent_on(caught.value)
    assert usage is not None and usage.calls == 1 and usage.output_tokens > 0


def test_a_model_refusal_is_a_content_refusal_with_its_usage(server: ChatCompletionsAPI) -> None:
    server.queue(server.text("", refusal="I can't help with that."))
    with make(server) as writer, pytest.raises(ReplyRefused) as caught:
        writer.write_comment(GAME_DEV, AUTHOR, POST, nonce=1)
    usage = spent_on(caught.value)
    assert usage is not None and usage.input_tokens == server.billed[0]["prompt_tokens"]


@pytest.mark.parametrize(
    ("status", "kind"),
    [(500, TransientError), (503, TransientError), (529, TransientError), (400, PermanentError)],
)
def test_status_errors_become_fleets_and_never_hold_the_key(
    server: ChatCompletionsAPI, status: int, kind: type[Exception]
) -> None:
    server.queue(server.error(status, "bad key {api_key} here"))
    with make(server) as writer, pytest.raises(kind) as caught:
        writer.write_comment(GAME_DEV, AUTHOR, POST, nonce=1)
    assert KEY not in str(caught.value) and str(status) in str(caught.value)


def test_a_429_with_retry_after_defers_the_call(server: ChatCompletionsAPI) -> None:
    server.queue(server.error(429, "slow down", {"retry-after": "7"}))
    with make(server) as writer, pytest.raises(Deferred):
        writer.write_comment(GAME_DEV, AUTHOR, POST, nonce=1)


def test_a_trickling_answer_is_cut_at_the_deadline(server: ChatCompletionsAPI) -> None:
    server.queue(trickled(200, {"choices": []}, every=0.3))
    with make(server, timeout=0.5) as writer, pytest.raises(TransientError, match="timed out"):
        writer.write_comment(GAME_DEV, AUTHOR, POST, nonce=1)


def test_a_refused_connection_is_transient() -> None:
    with ChatCompletionsAPI() as api:
        url = api.url
    writer = OpenAIWriter(
        ChatServer(model="m", api_key=None, base_url=f"{url}/v1", timeout_seconds=2), prices={}
    )
    with writer, pytest.raises(TransientError, match="cannot reach"):
        writer.think(GAME_DEV, AUTHOR, [POST], nonce=1)


def test_no_key_sends_a_placeholder_never_an_empty_header(server: ChatCompletionsAPI) -> None:
    server.queue(server.text(json.dumps({"thought": "nice glow"})))
    with make(server, key=None) as writer:
        thought = writer.think(GAME_DEV, AUTHOR, [POST], nonce=1)
    assert thought.text == "nice glow" and server.requests[0].api_key == "no-key"
