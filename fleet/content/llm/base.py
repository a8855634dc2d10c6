"""The LLM writers' one base: what the Anthropic and OpenAI-compatible writers share.

``LLMWriter`` owns the prompts' building (``fleet.content.llm.prompts``, ``planning``), the
one repair of an answer that is not the JSON asked for (then ``ReplyRefused``), the
bounded-answer policy of every call (``fleet.infra.bounded``: a body read at most
``MAX_BODY_BYTES``, an answer that breaks it, is not JSON or not the provider's answer
being the provider down, billed at the most the call could cost), the call's deadline,
and the budget's accounting (prices, usage clamped to what the call could count, the
usage spent carried by an error raised after a billed call). A provider keeps only its
own call: its messages, the SDK's request, and reading its answer's text and usage.
"""

from __future__ import annotations

import json
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Generic, NamedTuple, Protocol, Self, TypeVar

import httpx2
from pydantic import ValidationError

from fleet.content.llm import planning, prompts
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
from fleet.infra import bounded, transports
from fleet.infra.clocks import retry_after
from fleet.settings import LLMSettings

T = TypeVar("T")
M = TypeVar("M")  # a message of the provider's
A = TypeVar("A")  # the provider's answer, validated
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


def status_error(status: int, detail: str, response: httpx2.Response, now: datetime) -> Exception:
    """The Fleet error for an API's answer of ``status`` (``detail``: what it said, the
    key masked): a 429 with ``Retry-After`` is ``Deferred`` for that call; 408, 429 and
    5xx are ``TransientError``; any other is ``PermanentError``."""
    if status == 429:
        try:
            until = retry_after(response.headers.get("retry-after"), now)
        except ValueError:  # a wait no server means: retried as any 429
            until = None
        if until is not None:
            return Deferred(detail, until, scope="call")
        return TransientError(detail)
    if status >= 500 or status in TRANSIENT_STATUS:
        return TransientError(detail)
    return PermanentError(detail)


def deadline_transport(url: str, limits: object) -> transports.Transport2:
    """An SDK's transport (its connection ``limits``) held to the deadline of
    ``fleet.infra.bounded.within`` and to ``MAX_BODY_BYTES`` a body, through the proxy the
    environment names for the API's address ``url``."""
    return transports.Transport2(
        verify=None,
        proxy=transports.proxy_for(url),
        limits=limits,
        max_bytes=MAX_BODY_BYTES,
    )


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


class Translate(Protocol):
    """The Fleet error for an SDK's error at ``now``, ``secrets`` masked in its message."""

    def __call__(
        self, error: Exception, now: datetime, *, secrets: tuple[str, ...] = ()
    ) -> Exception: ...


class SdkErrors(NamedTuple):
    """A provider SDK's errors: all of them, its time-out, how one becomes Fleet's, and
    those a call lets through untouched (for its caller to read)."""

    base: type[Exception]
    timeout: type[Exception]
    translate: Translate
    passed: tuple[type[Exception], ...] = ()


class SdkClient(Protocol):
    """What the base asks of a provider SDK's client."""

    @property
    def base_url(self) -> object:
        """The URL requests go to."""

    def close(self) -> None:
        """Close the client and its HTTP connections."""


C = TypeVar("C", bound=SdkClient)  # the provider SDK's client


class LLMWriter(ABC, Generic[M, A, C]):
    """A ContentWriter on an LLM API; a provider gives its SDK's client and errors, and
    its call (``_messages``, ``_repair``, ``_send``, ``_validate``, ``_read``)."""

    # How many messages a first call sends (more: a repair's, counted in its input).
    OPENING = 1
    # What the provider's answer is (said when one is not).
    ANSWER = "a message"

    def __init__(
        self,
        *,
        model: str,
        price: Price,
        image_host: str | None,
        now: Callable[[], datetime],
        timeout: float,
        secrets: tuple[str, ...],
        client: C,
    ) -> None:
        self.model = model
        self._price = price
        # Images are shown to the model only from the gallery's own host (else the
        # provider would fetch any address a person put in a post).
        self._image_host = image_host
        self._now = now
        self._timeout = timeout
        self._secrets = secrets
        self._client = client

    @property
    def base_url(self) -> str:
        """The URL the SDK sends requests to."""
        return str(self._client.base_url)

    def write_post(self, persona: Persona, author: Author, *, nonce: int) -> PostDraft:
        """A post in the persona's voice: image prompt, style, caption, description."""
        prompt = prompts.post_prompt(persona, author, nonce=nonce)
        reply, usage = self._ask(
            prompt,
            lambda text: prompts.parse_post(text, persona),
            schema=self._schema("post", persona),
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
        """A session's words in one call (``fleet.content.llm.planning``); no call when the
        session asks for nothing it can write."""
        if not planning.wanted(ask):
            return SessionPlan()
        prompt = planning.plan_prompt(persona, author, ask)
        plan, usage = self._ask(
            prompt,
            lambda text: planning.parse_plan(text, persona, ask),
            schema=self._schema("plan", persona),
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

    def _schema(self, kind: prompts.Kind, persona: Persona) -> dict[str, Any] | None:
        """The JSON schema an answer of ``kind`` is asked to fit (None: the provider's
        default, or none)."""
        return None

    @abstractmethod
    def _messages(self, prompt: prompts.Prompt) -> list[M]:
        """The first call's messages."""

    @abstractmethod
    def _repair(self, messages: list[M], text: str, note: str) -> list[M]:
        """The repair call's messages: the first, the model's answer ``text`` (trimmed),
        and the ``note`` saying what was wrong with it."""

    @abstractmethod
    def _sdk_errors(self) -> SdkErrors:
        """The SDK's errors (imported where a call is made)."""

    @abstractmethod
    def _send(
        self, prompt: prompts.Prompt, messages: list[M], schema: dict[str, Any] | None
    ) -> AbstractContextManager[Any]:
        """The SDK's streaming request; its ``http_response`` is read here."""

    @abstractmethod
    def _validate(self, data: object) -> A:
        """The provider's answer from its JSON (``pydantic.ValidationError`` if it is not)."""

    @abstractmethod
    def _read(
        self, answer: A, latency_ms: float, prompt: prompts.Prompt, most: int
    ) -> tuple[str, Usage]:
        """The answer's text and usage; ``ReplyRefused`` for a refusal."""

    def _ask(
        self,
        prompt: prompts.Prompt,
        parse: Callable[[str], T],
        *,
        schema: dict[str, Any] | None = None,
    ) -> tuple[T, Usage]:
        messages = self._messages(prompt)
        text, usage = self._call(prompt, messages, schema)
        try:
            return parse(text), usage
        except prompts.InvalidReply as invalid:
            note = prompts.repair_note(invalid.reason)
        # The first call was billed: whatever ends the repair carries its usage.
        # One repair: show the model its answer (trimmed) and say what was wrong with it.
        repair = self._repair(messages, text, note)
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

    def _call(
        self, prompt: prompts.Prompt, messages: list[M], schema: dict[str, Any] | None
    ) -> tuple[str, Usage]:
        errors = self._sdk_errors()
        most = most_input(prompt, messages if len(messages) > self.OPENING else None)
        started = time.perf_counter()
        try:
            with (
                bounded.within(self._timeout),
                self._send(prompt, messages, schema) as response,
            ):
                body = bounded.read_response(response.http_response, cap=MAX_BODY_BYTES)
            answer = self._validate(bounded.loads(body))
        except errors.timeout as error:
            raise TransientError(
                f"the LLM call timed out (its deadline is {self._timeout:g} s, "
                "FLEET_LLM__TIMEOUT_SECONDS)"
            ) from error
        except errors.passed:
            raise
        except errors.base as error:
            refused = error.__cause__
            if isinstance(refused, bounded.AnswerRefused):
                raise self._unusable(refused, prompt, most) from error
            raise errors.translate(error, self._now(), secrets=self._secrets) from error
        except bounded.AnswerRefused as error:
            raise self._unusable(error, prompt, most) from error
        except ValidationError as error:
            refused = bounded.AnswerNotJson(f"the answer is not {self.ANSWER}")
            raise self._unusable(refused, prompt, most) from error
        return self._read(answer, (time.perf_counter() - started) * 1000, prompt, most)

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
