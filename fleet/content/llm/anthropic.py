"""The Anthropic writer: the content port through the official ``anthropic`` SDK.

One retry layer: the SDK gets ``max_retries=0`` and an explicit timeout; Celery owns the
backoff. The timeout is the whole call's deadline, not only each read's: the HTTP
client's sockets keep to ``fleet.infra.bounded``, so an answer trickling in is cut at it.
Every answer keeps the bounded-answer policy (``fleet.infra.bounded``): read at most
``MAX_BODY_BYTES`` raw and inflated (by the transport, for an error's body too, and
again here), its JSON nested at most ``bounded.MAX_DEPTH``; an answer that breaks it, is
not JSON or not a message (an HTML page with a 200) is the provider being down
(``TransientError``, so the fallback is asked), billed at the most the call could cost.
Token counts are not trusted: a usage larger than the call could cost (the prompt's
estimate times ``INPUT_MARGIN``, ``max_tokens`` for output) is clamped to it and logged.
The API is the SDK's choice (``ANTHROPIC_BASE_URL``, else Anthropic's) unless a
``base_url`` is given (``FLEET_LLM__BASE_URL``: a gateway or proxy).

SDK errors become Fleet's: timeouts, connection errors, 408, 429, 5xx and 529 are
``TransientError`` (a 429 with ``Retry-After`` is ``Deferred`` for that call); other
4xx (400, 401, 403, ...) are ``PermanentError``. Their messages never hold the key,
even when the upstream echoes it. An answer that is not the JSON the task asked for
gets one repair call, then ``ReplyRefused``. The persona's system prompt is marked for
prompt caching; usage and cost are measured on every call, and an error raised after
a billed call (a refusal, a failed repair) carries that usage (``spent_on``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx2
from pydantic import SecretStr

from fleet.content.llm import prompts
from fleet.content.llm.base import (
    LLMWriter,
    ReplyRefused,
    SdkErrors,
    clamped,
    deadline_transport,
    price_for,
    prices_from_settings,
    status_error,
)
from fleet.content.port import Usage
from fleet.errors import PermanentError, TransientError
from fleet.infra.clocks import utcnow
from fleet.infra.redaction import redact
from fleet.settings import LLMSettings

# The SDK is imported where a writer is built or a call made: importing it costs about
# two seconds of CPU, which every `fleet` command and worker without an Anthropic key
# (the offline writer, an OpenAI-compatible one) would pay for nothing.
if TYPE_CHECKING:
    import anthropic
    from anthropic.types import ImageBlockParam, Message, MessageParam, TextBlockParam


def translate(error: Exception, now: datetime, *, secrets: tuple[str, ...] = ()) -> Exception:
    """The Fleet error for an SDK error; ``secrets`` (the key) are masked in its message,
    whatever the upstream echoed."""
    import anthropic

    if isinstance(error, anthropic.APITimeoutError):
        return TransientError("the LLM call timed out")
    if isinstance(error, anthropic.APIConnectionError):
        return TransientError(f"cannot reach the LLM API: {redact(error.message, secrets)}")
    if isinstance(error, anthropic.APIStatusError):
        status = error.status_code
        kind = error.type or "error"
        said = redact(error.api_message or "", secrets)[:200]
        detail = f"LLM API answered {status} {kind}: {said}"
        if error.request_id:
            detail += f" (request {error.request_id})"
        return status_error(status, detail, error.response, now)
    return PermanentError(f"LLM client error: {type(error).__name__}")


def deadline_http_client(base_url: str | None = None) -> httpx2.Client:
    """The SDK's default HTTP client (its limits, timeouts and redirects) on a transport
    held to the deadline of ``fleet.infra.bounded.within`` and to ``MAX_BODY_BYTES`` a
    body, through the proxy the environment names for the API's address (``base_url``,
    else ``ANTHROPIC_BASE_URL``, else the SDK's default)."""
    import anthropic

    url = base_url or os.environ.get("ANTHROPIC_BASE_URL") or "https://api.anthropic.com"
    transport = deadline_transport(url, anthropic.DEFAULT_CONNECTION_LIMITS)
    return anthropic.DefaultHttpxClient(transport=transport)


class AnthropicWriter(LLMWriter["MessageParam", "Message", "anthropic.Anthropic"]):
    """A ContentWriter on Anthropic's Messages API."""

    _client: anthropic.Anthropic

    def __init__(
        self,
        api_key: SecretStr,
        settings: LLMSettings,
        http_client: httpx2.Client | None = None,
        *,
        base_url: str | None = None,
        now: Callable[[], datetime] = utcnow,
        image_host: str | None = None,
    ) -> None:
        """``base_url`` None: the SDK's own choice (``ANTHROPIC_BASE_URL``, else its
        default). ``http_client`` None: the SDK's default one, held to the deadline."""
        import anthropic

        price = price_for(
            settings.model, prices_from_settings(settings)
        )  # first: an unpriced model opens no client
        client = anthropic.Anthropic(
            api_key=api_key.get_secret_value(),
            base_url=base_url,
            max_retries=0,
            timeout=settings.timeout_seconds,
            http_client=http_client if http_client is not None else deadline_http_client(base_url),
        )
        super().__init__(
            model=settings.model,
            price=price,
            image_host=image_host if settings.vision else None,
            now=now,
            timeout=settings.timeout_seconds,
            client=client,
            secrets=(api_key.get_secret_value(),),
        )

    def _messages(self, prompt: prompts.Prompt) -> list[MessageParam]:
        content: list[TextBlockParam | ImageBlockParam] = []
        if prompt.image_url:
            content.append({"type": "image", "source": {"type": "url", "url": prompt.image_url}})
        content.append({"type": "text", "text": prompt.user})
        return [{"role": "user", "content": content}]

    def _repair(self, messages: list[MessageParam], text: str, note: str) -> list[MessageParam]:
        content = messages[0]["content"]
        if not text.strip():
            return [{"role": "user", "content": [*content, {"type": "text", "text": note}]}]
        return [
            {"role": "user", "content": content},
            {"role": "assistant", "content": text.strip()[:2000]},
            {"role": "user", "content": note},
        ]

    def _sdk_errors(self) -> SdkErrors:
        import anthropic

        return SdkErrors(
            base=anthropic.AnthropicError, timeout=anthropic.APITimeoutError, translate=translate
        )

    def _send(
        self,
        prompt: prompts.Prompt,
        messages: list[MessageParam],
        schema: dict[str, Any] | None,
    ) -> AbstractContextManager[Any]:
        system: list[TextBlockParam] = [
            {"type": "text", "text": prompt.system, "cache_control": {"type": "ephemeral"}}
        ]
        return self._client.messages.with_streaming_response.create(
            model=self.model,
            max_tokens=prompt.max_tokens,
            system=system,
            messages=messages,
        )

    def _validate(self, data: object) -> Message:
        from anthropic.types import Message

        return Message.model_validate(data)

    def _read(
        self, answer: Message, latency_ms: float, prompt: prompts.Prompt, most: int
    ) -> tuple[str, Usage]:
        usage = self._usage(answer, latency_ms, prompt, most)
        if answer.stop_reason == "refusal":
            raise ReplyRefused("the LLM declined to write this", usage)
        text = "".join(block.text for block in answer.content if block.type == "text")
        return text, usage

    def _usage(
        self, message: Message, latency_ms: float, prompt: prompts.Prompt, most: int
    ) -> Usage:
        counts = message.usage
        held = clamped(
            {
                "fresh": counts.input_tokens,
                "cache_read": counts.cache_read_input_tokens or 0,
                "cache_write": counts.cache_creation_input_tokens or 0,
                "output": counts.output_tokens,
            },
            most_input=most,
            most_output=prompt.max_tokens,
            who=f"the LLM API ({self.model})",
        )
        fresh, cache_read, cache_write = held["fresh"], held["cache_read"], held["cache_write"]
        cost = self._price.cost(
            fresh=fresh, output=held["output"], cache_read=cache_read, cache_write=cache_write
        )
        return Usage(
            model=(message.model or self.model)[:100],
            # All prompt tokens: fresh, written to the cache, and read from it.
            input_tokens=fresh + cache_read + cache_write,
            output_tokens=held["output"],
            cached_tokens=cache_read,
            latency_ms=latency_ms,
            cost_usd=cost,
            cache_write_tokens=cache_write,
        )
