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

import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import TYPE_CHECKING, Self, TypeVar

import httpx2
from pydantic import SecretStr, ValidationError

from fleet.content import planning, prompts
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
from fleet.errors import (
    ConfigError,
    ContentRefused,
    Deferred,
    FleetError,
    PermanentError,
    TransientError,
)
from fleet.infra import bounded
from fleet.infra.redaction import redact
from fleet.settings import LLMSettings

# The SDK is imported where a writer is built or a call made: importing it costs about
# two seconds of CPU, which every `fleet` command and worker without an Anthropic key
# (the offline writer, an OpenAI-compatible one) would pay for nothing.
if TYPE_CHECKING:
    import anthropic
    from anthropic.types import ImageBlockParam, Message, MessageParam, TextBlockParam

T = TypeVar("T")
TRANSIENT_STATUS = frozenset({408, 429})
# The most of an answer read (a reply is a few hundred tokens; the cap is generous).
MAX_BODY_BYTES = 256 * 1024
# What a call's prompt may count at the most, times the estimate (tokenizers differ,
# and an image, a tool, the framing add to it); past this a count is not believed.
INPUT_MARGIN = 4.0
INPUT_SLACK = 2_000  # and this many more (an image is about 1,600)
log = logging.getLogger("fleet.content")


@dataclass(frozen=True, slots=True)
class Price:
    """US dollars per million tokens of one model."""

    input: float
    output: float
    cache_read: float
    cache_write: float

    def cost(self, *, fresh: int, output: int, cache_read: int, cache_write: int) -> float:
        """The cost of one call from its token counts."""
        return (
            fresh * self.input
            + output * self.output
            + cache_read * self.cache_read
            + cache_write * self.cache_write
        ) / 1_000_000


def prices_from_settings(settings: LLMSettings) -> dict[str, Price]:
    """The price table of the LLM settings."""
    return {model: Price(**row) for model, row in settings.prices.items()}


def price_for(model: str, prices: Mapping[str, Price]) -> Price:
    """The model's price: its own entry, or the longest entry its name starts with."""
    if model in prices:
        return prices[model]
    matches = [name for name in prices if model.startswith(name)]
    if not matches:
        raise ConfigError(
            f"no price for LLM model {model!r}; add it to FLEET_LLM__PRICES "
            f"(known: {', '.join(sorted(prices))})"
        )
    return prices[max(matches, key=len)]


class ReplyRefused(ContentRefused):
    """Raised when the model's answer is unusable after one repair; carries the usage spent."""

    def __init__(self, reason: str, usage: Usage) -> None:
        self.reason = reason
        self.usage = usage
        super().__init__(reason)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _retry_after(response: httpx2.Response, now: datetime) -> datetime | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return now + timedelta(seconds=max(0.0, float(value)))
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(value).astimezone(UTC)
    except (TypeError, ValueError):
        return None


def translate(
    error: anthropic.AnthropicError, now: datetime, *, secrets: tuple[str, ...] = ()
) -> Exception:
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
        if status == 429:
            until = _retry_after(error.response, now)
            if until is not None:
                return Deferred(detail, until, scope="call")
            return TransientError(detail)
        if status >= 500 or status in TRANSIENT_STATUS:
            return TransientError(detail)
        return PermanentError(detail)
    return PermanentError(f"LLM client error: {type(error).__name__}")


def most_input(prompt: prompts.Prompt, messages: object = None) -> int:
    """The most input tokens a call of ``prompt`` can count (``messages``: the repair's,
    holding the first answer and a note, counted too)."""
    estimate = prompts.prompt_tokens(prompt)
    if messages is not None:
        estimate += prompts.estimate_tokens(json.dumps(messages, default=str))
    return int(estimate * INPUT_MARGIN) + INPUT_SLACK


def clamped(
    counts: dict[str, int], *, most_input: int, most_output: int, who: str
) -> dict[str, int]:
    """Token counts an upstream claims, each held to what the call could count (input
    kinds together to ``most_input``, output to ``most_output``); a larger claim is
    logged, never believed."""
    safe = {name: max(0, int(value)) for name, value in counts.items()}
    out = dict(safe)
    inputs = [name for name in safe if name != "output"]
    claimed_input = sum(safe[name] for name in inputs)
    if claimed_input > most_input:
        room = most_input
        for name in inputs:
            out[name] = min(safe[name], room)
            room -= out[name]
    out["output"] = min(safe.get("output", 0), most_output)
    if out != safe:
        log.warning(
            "%s claimed %s tokens, more than the call could use; counted %s",
            who,
            safe,
            out,
        )
    return out


def unusable(
    error: bounded.AnswerRefused,
    *,
    price: Price,
    model: str,
    prompt: prompts.Prompt,
    most: int,
    timeout: float,
) -> TransientError:
    """An answer that broke the bounds as the provider being down (``TransientError``:
    the fallback is asked). A stall is the call's time-out (no usage known, as for any
    time-out); any other was answered, so it may be billed: at the most the call could
    cost (``most`` input tokens, ``max_tokens`` output)."""
    if isinstance(error, bounded.AnswerStalled):
        return TransientError(
            f"the LLM call timed out mid-answer (its deadline is {timeout:g} s, "
            "FLEET_LLM__TIMEOUT_SECONDS)"
        )
    usage = Usage(
        model=model,
        input_tokens=most,
        output_tokens=prompt.max_tokens,
        cost_usd=price.cost(fresh=most, output=prompt.max_tokens, cache_read=0, cache_write=0),
    )
    return with_spent(TransientError(f"the LLM API's answer is unusable: {error}"), usage)


def deadline_http_client(base_url: str | None = None) -> httpx2.Client:
    """The SDK's default HTTP client (its limits, timeouts and redirects) on a transport
    held to the deadline of ``fleet.infra.bounded.within`` and to ``MAX_BODY_BYTES`` a
    body, through the proxy the environment names for the API's address (``base_url``,
    else ``ANTHROPIC_BASE_URL``, else the SDK's default)."""
    import anthropic

    url = base_url or os.environ.get("ANTHROPIC_BASE_URL") or "https://api.anthropic.com"
    transport = bounded.Transport2(
        verify=None,
        proxy=bounded.proxy_for(url),
        limits=anthropic.DEFAULT_CONNECTION_LIMITS,
        max_bytes=MAX_BODY_BYTES,
    )
    return anthropic.DefaultHttpxClient(transport=transport)


class AnthropicWriter:
    """A ContentWriter on Anthropic's Messages API."""

    def __init__(
        self,
        api_key: SecretStr,
        settings: LLMSettings,
        http_client: httpx2.Client | None = None,
        *,
        base_url: str | None = None,
        now: Callable[[], datetime] = _utcnow,
        image_host: str | None = None,
    ) -> None:
        """``base_url`` None: the SDK's own choice (``ANTHROPIC_BASE_URL``, else its
        default). ``http_client`` None: the SDK's default one, held to the deadline."""
        import anthropic

        self.model = settings.model
        self._price = price_for(settings.model, prices_from_settings(settings))
        # Images are shown to the model only from the gallery's own host (else the
        # provider would fetch any address a person put in a post).
        self._image_host = image_host if settings.vision else None
        self._now = now
        self._timeout = settings.timeout_seconds
        self._secrets = (api_key.get_secret_value(),)
        self._client = anthropic.Anthropic(
            api_key=api_key.get_secret_value(),
            base_url=base_url,
            max_retries=0,
            timeout=settings.timeout_seconds,
            http_client=http_client if http_client is not None else deadline_http_client(base_url),
        )

    @property
    def base_url(self) -> str:
        """The URL the SDK sends requests to."""
        return str(self._client.base_url)

    def write_post(self, persona: Persona, author: Author, *, nonce: int) -> PostDraft:
        """A post in the persona's voice: image prompt, style, caption, description."""
        prompt = prompts.post_prompt(persona, author, nonce=nonce)
        reply, usage = self._ask(prompt, lambda text: prompts.parse_post(text, persona))
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
        """A session's words in one call (``fleet.content.planning``); no call when the
        session asks for nothing it can write."""
        if not planning.wanted(ask):
            return SessionPlan()
        prompt = planning.plan_prompt(persona, author, ask)
        plan, usage = self._ask(prompt, lambda text: planning.parse_plan(text, persona, ask))
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

    def _ask(self, prompt: prompts.Prompt, parse: Callable[[str], T]) -> tuple[T, Usage]:
        content: list[TextBlockParam | ImageBlockParam] = []
        if prompt.image_url:
            content.append({"type": "image", "source": {"type": "url", "url": prompt.image_url}})
        content.append({"type": "text", "text": prompt.user})
        text, usage = self._call(prompt, [{"role": "user", "content": content}])
        try:
            return parse(text), usage
        except prompts.InvalidReply as invalid:
            note = prompts.repair_note(invalid.reason)
        # The first call was billed: whatever ends the repair carries its usage.
        # One repair: show the model its answer (trimmed) and say what was wrong with it.
        messages: list[MessageParam] = [
            {"role": "user", "content": content},
            {"role": "assistant", "content": text.strip()[:2000]},
            {"role": "user", "content": note},
        ]
        if not text.strip():
            messages = [{"role": "user", "content": [*content, {"type": "text", "text": note}]}]
        try:
            text, more = self._call(prompt, messages)
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

    def _call(self, prompt: prompts.Prompt, messages: list[MessageParam]) -> tuple[str, Usage]:
        import anthropic
        from anthropic.types import Message

        system: list[TextBlockParam] = [
            {"type": "text", "text": prompt.system, "cache_control": {"type": "ephemeral"}}
        ]
        most = most_input(prompt, messages if len(messages) > 1 else None)
        started = time.perf_counter()
        try:
            with (
                bounded.within(self._timeout),
                self._client.messages.with_streaming_response.create(
                    model=self.model,
                    max_tokens=prompt.max_tokens,
                    system=system,
                    messages=messages,
                ) as response,
            ):
                body = bounded.read_response(response.http_response, cap=MAX_BODY_BYTES)
            message = Message.model_validate(bounded.loads(body))
        except anthropic.APITimeoutError as error:
            raise TransientError(
                f"the LLM call timed out (its deadline is {self._timeout:g} s, "
                "FLEET_LLM__TIMEOUT_SECONDS)"
            ) from error
        except anthropic.AnthropicError as error:
            refused = error.__cause__
            if isinstance(refused, bounded.AnswerRefused):
                raise self._unusable(refused, prompt, most) from error
            raise translate(error, self._now(), secrets=self._secrets) from error
        except bounded.AnswerRefused as error:
            raise self._unusable(error, prompt, most) from error
        except ValidationError as error:
            refused = bounded.AnswerNotJson("the answer is not a message")
            raise self._unusable(refused, prompt, most) from error
        usage = self._usage(message, (time.perf_counter() - started) * 1000, prompt, most)
        if message.stop_reason == "refusal":
            raise ReplyRefused("the LLM declined to write this", usage)
        text = "".join(block.text for block in message.content if block.type == "text")
        return text, usage

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
