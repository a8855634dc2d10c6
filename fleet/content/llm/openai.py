"""The OpenAI-compatible writer: the content port through the official ``openai`` SDK.

It speaks Chat Completions to any server that does: OpenAI, OpenRouter, Ollama, vLLM,
llama.cpp's server, LM Studio, TGI. The guarantees are the Anthropic writer's:

- one retry layer: ``max_retries=0``, and the call's whole deadline is kept by the HTTP
  client's sockets (``fleet.infra.bounded``), so an answer trickling in is cut at it;
- SDK errors become Fleet's (``translate``): timeouts, connection errors, 408, 429, 5xx
  are ``TransientError`` (a 429 with ``Retry-After`` is ``Deferred``), other 4xx are
  ``PermanentError``; no message holds the key, even when the upstream echoes it;
- the answer is asked as JSON fitting a schema (``response_format`` ``json_schema``,
  which most servers enforce by constrained decoding). A server that refuses a
  ``response_format`` (a 400, 422, or llama.cpp's 500 naming it) is asked again with
  ``json_object`` and a ``schema`` (llama.cpp's form), then without, and remembered. An
  answer that is not the JSON asked for gets one repair call, then ``ReplyRefused``;
- every answer keeps the bounded-answer policy (``fleet.infra.bounded``): its body is
  read at most ``MAX_BODY_BYTES`` raw and inflated, its JSON nested at most
  ``bounded.MAX_DEPTH``. An answer that breaks it, or is not a chat completion (garbage,
  an HTML page with a 200), is the provider being down (``TransientError``: the
  fallback is asked), its usage taken as the most the call could cost (the prompt's
  estimate with a margin, and ``max_tokens``); a stall mid-body is the call's time-out;
- token counts are not trusted: a usage larger than the call could cost is clamped to
  it and logged (``base.clamped``);
- usage and cost are measured on every call; an error raised after a billed call
  carries that usage (``spent_on``). A model with no price costs $0 on a loopback or
  private host (a local server) and is refused at start-up anywhere else.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx2
from pydantic import BaseModel, SecretStr

from fleet.content.llm import planning, prompts
from fleet.content.llm.base import (
    LLMWriter,
    Price,
    ReplyRefused,
    SdkErrors,
    clamped,
    deadline_transport,
    price_for,
    status_error,
)
from fleet.content.port import Usage
from fleet.core.persona import Persona
from fleet.errors import ConfigError, PermanentError, TransientError
from fleet.infra.clocks import utcnow
from fleet.infra.redaction import redact

# The SDK is imported where a writer is built or a call made (as in fleet.content.llm.anthropic):
# a process that writes offline never pays for it.
if TYPE_CHECKING:
    import openai
    from openai.types.chat import ChatCompletion, ChatCompletionMessageParam

# The longest length cap sent in a schema (a style's 80 is; a caption's 400 is not).
WIRE_MAX_LENGTH = 100
FREE = Price(input=0.0, output=0.0, cache_read=0.0, cache_write=0.0)
# What a server that needs no key is sent (the SDK insists on one).
NO_KEY = "no-key"
SCHEMAS: Mapping[prompts.Kind, type[BaseModel]] = {
    "post": prompts.PostReply,
    "comment": prompts.CommentReply,
    "thought": prompts.ThoughtReply,
    "plan": planning.PlanReply,
}


def is_local(base_url: str | None) -> bool:
    """True for a loopback or private address, or ``localhost``: a server of one's own."""
    if base_url is None:
        return False
    host = urlsplit(base_url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private


def openai_price(model: str, prices: Mapping[str, Price], base_url: str | None) -> Price:
    """The model's price; unpriced, $0 on a local server, else ConfigError."""
    try:
        return price_for(model, prices)
    except ConfigError:
        if is_local(base_url):
            return FREE
        raise


def translate(error: Exception, now: datetime, *, secrets: tuple[str, ...] = ()) -> Exception:
    """The Fleet error for an SDK error, the key masked in its message."""
    import openai

    if isinstance(error, openai.APITimeoutError):
        return TransientError("the LLM call timed out")
    if isinstance(error, openai.APIConnectionError):
        return TransientError(f"cannot reach the LLM API: {redact(str(error), secrets)}")
    if isinstance(error, openai.APIStatusError):
        status = error.status_code
        said = redact(str(error.message or ""), secrets)[:200]
        detail = f"LLM API answered {status}: {said}"
        if error.request_id:
            detail += f" (request {redact(error.request_id, secrets)[:80]})"
        return status_error(status, detail, error.response, now)
    return PermanentError(f"LLM client error: {type(error).__name__}")


def deadline_http_client(base_url: str | None = None) -> httpx2.Client:
    """The SDK's default HTTP client (its limits, timeouts and redirects) on a transport
    held to the deadline of ``fleet.infra.bounded.within``, through the proxy the
    environment names for the API's address (``base_url``, else ``OPENAI_BASE_URL``, else
    the SDK's default)."""
    import openai

    url = base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
    transport = deadline_transport(url, openai.DEFAULT_CONNECTION_LIMITS)
    return openai.DefaultHttpxClient(transport=transport)


def wire_schema(kind: prompts.Kind) -> dict[str, Any]:
    """The JSON schema sent for a kind of answer: its fields and types, without the long
    length caps (llama.cpp compiles a cap into a grammar with one rule per character and
    gives up, or dies, past a few hundred; Fleet enforces every cap after parsing)."""

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: strip(v)
                for k, v in node.items()
                if not (k == "maxLength" and isinstance(v, int) and v > WIRE_MAX_LENGTH)
            }
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    schema: dict[str, Any] = strip(SCHEMAS[kind].model_json_schema())
    return schema


def _lacks_response_format(error: openai.APIStatusError) -> bool:
    """A refusal of the ``response_format`` asked (llama.cpp's server answers 500 to a
    ``json_schema``; others 400 or 422), not of the content."""
    said = f"{error.message} {error.body}".lower()
    return error.status_code in {400, 422, 500} and (
        "response_format" in said or "json_schema" in said
    )


@dataclass(frozen=True)
class ChatServer:
    """An OpenAI-compatible server, the model asked there, and how long an answer may take."""

    model: str
    api_key: SecretStr | None
    base_url: str | None
    timeout_seconds: float


class OpenAIWriter(LLMWriter["ChatCompletionMessageParam", "ChatCompletion", "openai.OpenAI"]):
    """A ContentWriter on an OpenAI-compatible Chat Completions server."""

    OPENING = 2  # the system prompt and the user's
    ANSWER = "a chat completion"

    def __init__(
        self,
        server: ChatServer,
        *,
        prices: Mapping[str, Price],
        http_client: httpx2.Client | None = None,
        now: Callable[[], datetime] = utcnow,
        image_host: str | None = None,
    ) -> None:
        """``image_host``: the gallery's own image host, whose images the model is shown
        (None: the model is shown no image)."""
        import openai

        model, api_key, base_url = server.model, server.api_key, server.base_url
        timeout_seconds = server.timeout_seconds
        key = api_key.get_secret_value() if api_key is not None else NO_KEY
        price = openai_price(model, prices, base_url)  # first: an unpriced model opens no client
        client = openai.OpenAI(
            api_key=key,
            base_url=base_url,
            max_retries=0,
            timeout=timeout_seconds,
            http_client=http_client if http_client is not None else deadline_http_client(base_url),
        )
        super().__init__(
            model=model,
            price=price,
            image_host=image_host,
            now=now,
            timeout=timeout_seconds,
            client=client,
            secrets=(key,) if api_key is not None else (),
        )
        # How the answer's JSON is asked: a json_schema, else the json_object + schema
        # some servers take instead (llama.cpp's), else not at all (plain text).
        self._format = 0

    def _schema(self, kind: prompts.Kind, persona: Persona) -> dict[str, Any] | None:
        """A post's and a plan's schema (a comment's and a thought's: their kind's); a
        post's style is one of the persona's: a server that decodes by it keeps to it."""
        if kind == "post":
            schema = wire_schema("post")
            schema["properties"]["style"] = {
                "type": "string",
                "enum": list(persona.workflow_styles),
            }
            return schema
        if kind == "plan":
            return wire_schema("plan")
        return None

    def _messages(self, prompt: prompts.Prompt) -> list[ChatCompletionMessageParam]:
        user: Any
        if prompt.image_url:
            user = [
                {"type": "image_url", "image_url": {"url": prompt.image_url}},
                {"type": "text", "text": prompt.user},
            ]
        else:
            user = prompt.user
        return [
            {"role": "system", "content": prompt.system},
            {"role": "user", "content": user},
        ]

    def _repair(
        self, messages: list[ChatCompletionMessageParam], text: str, note: str
    ) -> list[ChatCompletionMessageParam]:
        repair: list[ChatCompletionMessageParam] = [*messages]
        if text.strip():
            repair.append({"role": "assistant", "content": text.strip()[:2000]})
        repair.append({"role": "user", "content": note})
        return repair

    def _response_format(self, prompt: prompts.Prompt, schema: dict[str, Any] | None) -> Any:
        import openai

        schema = schema or wire_schema(prompt.kind)
        if self._format == 0:
            return {"type": "json_schema", "json_schema": {"name": prompt.kind, "schema": schema}}
        if self._format == 1:
            return {"type": "json_object", "schema": schema}
        return openai.omit

    def _call(
        self,
        prompt: prompts.Prompt,
        messages: list[ChatCompletionMessageParam],
        schema: dict[str, Any] | None,
    ) -> tuple[str, Usage]:
        import openai

        while True:
            try:
                return super()._call(prompt, messages, schema)
            except openai.APIStatusError as error:
                if self._format < 2 and _lacks_response_format(error):
                    # The server has not this form: ask the next one, now and from now on.
                    self._format += 1
                    continue
                raise translate(error, self._now(), secrets=self._secrets) from error

    def _sdk_errors(self) -> SdkErrors:
        import openai

        return SdkErrors(
            base=openai.OpenAIError,
            timeout=openai.APITimeoutError,
            translate=translate,
            passed=(openai.APIStatusError,),
        )

    def _send(
        self,
        prompt: prompts.Prompt,
        messages: list[ChatCompletionMessageParam],
        schema: dict[str, Any] | None,
    ) -> AbstractContextManager[Any]:
        return self._client.chat.completions.with_streaming_response.create(
            model=self.model,
            max_tokens=prompt.max_tokens,
            messages=messages,
            response_format=self._response_format(prompt, schema),
        )

    def _validate(self, data: object) -> ChatCompletion:
        from openai.types.chat import ChatCompletion

        return ChatCompletion.model_validate(data)

    def _read(
        self, answer: ChatCompletion, latency_ms: float, prompt: prompts.Prompt, most: int
    ) -> tuple[str, Usage]:
        usage = self._usage(answer, latency_ms, prompt, most)
        choice = answer.choices[0] if answer.choices else None
        if choice is None:
            raise ReplyRefused("the LLM server answered no choice", usage)
        if choice.message.refusal or choice.finish_reason == "content_filter":
            raise ReplyRefused("the LLM declined to write this", usage)
        return choice.message.content or "", usage

    def _usage(
        self, completion: ChatCompletion, latency_ms: float, prompt: prompts.Prompt, most: int
    ) -> Usage:
        counts = completion.usage
        details = counts.prompt_tokens_details if counts else None
        claimed_cached = (details.cached_tokens or 0) if details else 0
        claimed_prompt = counts.prompt_tokens if counts else 0
        held = clamped(
            {
                "cached": min(claimed_cached, claimed_prompt),
                "fresh": max(claimed_prompt - claimed_cached, 0),
                "output": counts.completion_tokens if counts else 0,
            },
            most_input=most,
            most_output=prompt.max_tokens,
            who=f"the LLM server ({self.model})",
        )
        cached, fresh = held["cached"], held["fresh"]
        cost = self._price.cost(
            fresh=fresh, output=held["output"], cache_read=cached, cache_write=0
        )
        return Usage(
            model=(completion.model or self.model)[:100],
            input_tokens=fresh + cached,
            output_tokens=held["output"],
            cached_tokens=cached,
            latency_ms=latency_ms,
            cost_usd=cost,
        )
