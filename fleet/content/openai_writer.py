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
  it and logged (``anthropic_writer.clamped``);
- usage and cost are measured on every call; an error raised after a billed call
  carries that usage (``spent_on``). A model with no price costs $0 on a loopback or
  private host (a local server) and is refused at start-up anywhere else.
"""

from __future__ import annotations

import ipaddress
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar
from urllib.parse import urlsplit

import httpx2
from pydantic import BaseModel, SecretStr, ValidationError

from fleet.content import planning, prompts
from fleet.content.anthropic_writer import (
    MAX_BODY_BYTES,
    Price,
    ReplyRefused,
    _retry_after,
    clamped,
    most_input,
    price_for,
    unusable,
)
from fleet.content.port import (
    Author,
    CommentDraft,
    PlanAsk,
    PostDraft,
    PostSeen,
    SessionPlan,
    Thought,
    Usage,
    with_spent,
)
from fleet.core.persona import Persona
from fleet.errors import ConfigError, Deferred, FleetError, PermanentError, TransientError
from fleet.infra import bounded
from fleet.infra.redaction import redact

# The SDK is imported where a writer is built or a call made (as in anthropic_writer):
# a process that writes offline never pays for it.
if TYPE_CHECKING:
    import openai
    from openai.types.chat import ChatCompletion, ChatCompletionMessageParam

T = TypeVar("T")
TRANSIENT_STATUS = frozenset({408, 429})
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


def _utcnow() -> datetime:
    return datetime.now(UTC)


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


def translate(
    error: openai.OpenAIError, now: datetime, *, secrets: tuple[str, ...] = ()
) -> Exception:
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
        if status == 429:
            until = _retry_after(error.response, now)
            if until is not None:
                return Deferred(detail, until, scope="call")
            return TransientError(detail)
        if status >= 500 or status in TRANSIENT_STATUS:
            return TransientError(detail)
        return PermanentError(detail)
    return PermanentError(f"LLM client error: {type(error).__name__}")


def deadline_http_client(base_url: str | None = None) -> httpx2.Client:
    """The SDK's default HTTP client (its limits, timeouts and redirects) on a transport
    held to the deadline of ``fleet.infra.bounded.within``, through the proxy the
    environment names for the API's address (``base_url``, else ``OPENAI_BASE_URL``, else
    the SDK's default)."""
    import openai

    url = base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
    transport = bounded.Transport2(
        verify=None,
        proxy=bounded.proxy_for(url),
        limits=openai.DEFAULT_CONNECTION_LIMITS,
        max_bytes=MAX_BODY_BYTES,
    )
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


class OpenAIWriter:
    """A ContentWriter on an OpenAI-compatible Chat Completions server."""

    def __init__(
        self,
        server: ChatServer,
        *,
        prices: Mapping[str, Price],
        http_client: httpx2.Client | None = None,
        now: Callable[[], datetime] = _utcnow,
        image_host: str | None = None,
    ) -> None:
        """``image_host``: the gallery's own image host, whose images the model is shown
        (None: the model is shown no image)."""
        import openai

        model, api_key, base_url = server.model, server.api_key, server.base_url
        timeout_seconds = server.timeout_seconds
        self.model = model
        self._price = openai_price(model, prices, base_url)
        # Images are shown to the model only from the gallery's own host (else the
        # provider would fetch any address a person put in a post).
        self._image_host = image_host
        self._now = now
        self._timeout = timeout_seconds
        key = api_key.get_secret_value() if api_key is not None else NO_KEY
        self._secrets = (key,) if api_key is not None else ()
        # How the answer's JSON is asked: a json_schema, else the json_object + schema
        # some servers take instead (llama.cpp's), else not at all (plain text).
        self._format = 0
        self._client = openai.OpenAI(
            api_key=key,
            base_url=base_url,
            max_retries=0,
            timeout=timeout_seconds,
            http_client=http_client if http_client is not None else deadline_http_client(base_url),
        )

    @property
    def base_url(self) -> str:
        """The URL the SDK sends requests to."""
        return str(self._client.base_url)

    def write_post(self, persona: Persona, author: Author, *, nonce: int) -> PostDraft:
        """A post in the persona's voice: image prompt, style, caption, description."""
        prompt = prompts.post_prompt(persona, author, nonce=nonce)
        # The style is one of the persona's: a server that decodes by the schema keeps to it.
        schema = wire_schema("post")
        schema["properties"]["style"] = {"type": "string", "enum": list(persona.workflow_styles)}
        reply, usage = self._ask(
            prompt, lambda text: prompts.parse_post(text, persona), schema=schema
        )
        return PostDraft(reply.image_prompt, reply.style, reply.caption, reply.description, usage)

    def write_comment(
        self, persona: Persona, author: Author, post: PostSeen, *, nonce: int
    ) -> CommentDraft:
        """A reply to the post, which is quoted to the model as data."""
        prompt = prompts.comment_prompt(
            persona, author, post, nonce=nonce, image_host=self._image_host
        )
        text, usage = self._ask(prompt, lambda answer: prompts.parse_comment(answer, post))
        return CommentDraft(post.post_id, text, usage)

    def think(
        self, persona: Persona, author: Author, seen: list[PostSeen], *, nonce: int
    ) -> Thought:
        """A one-line thought about the posts seen; no call when nothing was seen."""
        if not seen:
            return Thought(None)
        prompt = prompts.thought_prompt(persona, author, seen)
        text, usage = self._ask(prompt, prompts.parse_thought)
        return Thought(text, usage)

    def plan(self, persona: Persona, author: Author, ask: PlanAsk, *, nonce: int) -> SessionPlan:
        """A session's words in one call (``fleet.content.planning``), asked as JSON
        fitting the plan's schema; no call when the session asks for nothing it can write."""
        if not planning.wanted(ask):
            return SessionPlan()
        prompt = planning.plan_prompt(persona, author, ask)
        schema = wire_schema("plan")
        plan, usage = self._ask(
            prompt, lambda text: planning.parse_plan(text, persona, ask), schema=schema
        )
        return planning.with_usage(plan, usage)

    def close(self) -> None:
        """Close the SDK client and its HTTP connections."""
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def _ask(
        self,
        prompt: prompts.Prompt,
        parse: Callable[[str], T],
        *,
        schema: dict[str, Any] | None = None,
    ) -> tuple[T, Usage]:
        user: Any
        if prompt.image_url:
            user = [
                {"type": "image_url", "image_url": {"url": prompt.image_url}},
                {"type": "text", "text": prompt.user},
            ]
        else:
            user = prompt.user
        messages: list[ChatCompletionMessageParam] = [
            {"role": "system", "content": prompt.system},
            {"role": "user", "content": user},
        ]
        text, usage = self._call(prompt, messages, schema)
        try:
            return parse(text), usage
        except prompts.InvalidReply as invalid:
            note = prompts.repair_note(invalid.reason)
        # One repair: the model's answer (trimmed) and what was wrong with it.
        repair: list[ChatCompletionMessageParam] = [*messages]
        if text.strip():
            repair.append({"role": "assistant", "content": text.strip()[:2000]})
        repair.append({"role": "user", "content": note})
        try:
            text, more = self._call(prompt, repair, schema)
        except FleetError as error:
            with_spent(error, usage)
            raise
        usage = usage + more
        try:
            return parse(text), usage
        except prompts.InvalidReply as invalid:
            raise ReplyRefused(
                f"the LLM answer was unusable after one repair: {invalid.reason}", usage
            ) from None

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
                return self._create(prompt, messages, schema)
            except openai.APIStatusError as error:
                if self._format < 2 and _lacks_response_format(error):
                    # The server has not this form: ask the next one, now and from now on.
                    self._format += 1
                    continue
                raise translate(error, self._now(), secrets=self._secrets) from error

    def _create(
        self,
        prompt: prompts.Prompt,
        messages: list[ChatCompletionMessageParam],
        schema: dict[str, Any] | None,
    ) -> tuple[str, Usage]:
        import openai
        from openai.types.chat import ChatCompletion

        most = most_input(prompt, messages if len(messages) > 2 else None)
        started = time.perf_counter()
        try:
            with (
                bounded.within(self._timeout),
                self._client.chat.completions.with_streaming_response.create(
                    model=self.model,
                    max_tokens=prompt.max_tokens,
                    messages=messages,
                    response_format=self._response_format(prompt, schema),
                ) as response,
            ):
                body = bounded.read_response(response.http_response, cap=MAX_BODY_BYTES)
            completion = ChatCompletion.model_validate(bounded.loads(body))
        except openai.APITimeoutError as error:
            raise TransientError(
                f"the LLM call timed out (its deadline is {self._timeout:g} s, "
                "FLEET_LLM__TIMEOUT_SECONDS)"
            ) from error
        except openai.APIStatusError:
            raise
        except openai.OpenAIError as error:
            refused = error.__cause__
            if isinstance(refused, bounded.AnswerRefused):
                raise self._unusable(refused, prompt, most) from error
            raise translate(error, self._now(), secrets=self._secrets) from error
        except bounded.AnswerRefused as error:
            raise self._unusable(error, prompt, most) from error
        except ValidationError as error:
            refused = bounded.AnswerNotJson("the answer is not a chat completion")
            raise self._unusable(refused, prompt, most) from error
        latency_ms = (time.perf_counter() - started) * 1000
        usage = self._usage(completion, latency_ms, prompt, most)
        choice = completion.choices[0] if completion.choices else None
        if choice is None:
            raise ReplyRefused("the LLM server answered no choice", usage)
        if choice.message.refusal or choice.finish_reason == "content_filter":
            raise ReplyRefused("the LLM declined to write this", usage)
        return choice.message.content or "", usage

    def _unusable(
        self, error: bounded.AnswerRefused, prompt: prompts.Prompt, most: int
    ) -> TransientError:
        return unusable(
            error,
            price=self._price,
            model=self.model,
            prompt=prompt,
            most=most,
            timeout=self._timeout,
        )

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
