"""A content writer behind the fleet's shared LLM limits.

Every worker process shares three things in Redis: a bucket of LLM requests per minute,
a bucket of LLM tokens per minute, and a circuit breaker. A call takes one request and
reserves ``reserve_tokens`` tokens before it starts (or waits: ``Deferred``, which is not
a failure); when it returns, the bucket is settled with what the call really used, so the
token limit follows actual spend. A writer's own repair call counts as another request.
A writing that fails after billed calls is settled with their usage too (``spent_on``);
one that fails with no usage known (a timeout) keeps its reservation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fleet.content.port import (
    Author,
    CommentDraft,
    ContentWriter,
    PlanAsk,
    PostDraft,
    PostSeen,
    SessionPlan,
    Thought,
    Usage,
    spent_on,
)
from fleet.core.persona import Persona
from fleet.errors import Deferred, TransientError
from fleet.infra.limits import CircuitBreaker, TokenBucket

T = TypeVar("T", PostDraft, CommentDraft, Thought, SessionPlan)


class LimitedWriter:
    """Every call within the requests and tokens per minute; transient failures trip the breaker."""

    def __init__(
        self,
        inner: ContentWriter,
        *,
        requests: TokenBucket,
        tokens: TokenBucket,
        breaker: CircuitBreaker,
        reserve_tokens: int,
    ) -> None:
        self._inner = inner
        self._requests = requests
        self._tokens = tokens
        self._breaker = breaker
        self._reserve = min(float(reserve_tokens), tokens.burst)

    def _call(self, call: Callable[[], T]) -> T:
        failures = self._breaker.admit(
            (self._requests, 1.0), (self._tokens, self._reserve), what="LLM requests and tokens"
        )
        try:
            result = call()
        except Exception as error:
            # The API's own rate limit (Deferred) is a wait, not a failure of the service.
            if isinstance(error, TransientError) and not isinstance(error, Deferred):
                self._breaker.failed()
            spent = spent_on(error)
            if spent is not None:
                self._settle(spent)
            raise
        self._breaker.succeeded(failures)
        self._settle(result.usage)
        return result

    def _settle(self, usage: Usage) -> None:
        """The buckets charged with what the calls really took (one request was taken)."""
        if usage.calls != 1:
            self._requests.settle(usage.calls - 1)
        self._tokens.settle(usage.input_tokens + usage.output_tokens - self._reserve)

    def write_post(self, persona: Persona, author: Author, *, nonce: int) -> PostDraft:
        return self._call(lambda: self._inner.write_post(persona, author, nonce=nonce))

    def write_comment(
        self, persona: Persona, author: Author, post: PostSeen, *, nonce: int
    ) -> CommentDraft:
        return self._call(lambda: self._inner.write_comment(persona, author, post, nonce=nonce))

    def think(
        self, persona: Persona, author: Author, seen: list[PostSeen], *, nonce: int
    ) -> Thought:
        return self._call(lambda: self._inner.think(persona, author, seen, nonce=nonce))

    def plan(self, persona: Persona, author: Author, ask: PlanAsk, *, nonce: int) -> SessionPlan:
        return self._call(lambda: self._inner.plan(persona, author, ask, nonce=nonce))

    def close(self) -> None:
        self._inner.close()
