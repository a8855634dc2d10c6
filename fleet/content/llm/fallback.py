"""The writer chain: the primary provider, then the fallbacks, each tried when the one
before is down.

"Down" is a ``TransientError`` that is not the provider's own rate limit: a connection
refused, a 5xx or 529, a timeout, or its circuit open (``Deferred`` from the breaker,
which the limited writer raises before any call). A provider's rate limit (a 429 with
``Retry-After``, or Fleet's own buckets) is a wait, not an outage, and so is a content
refusal (``ContentRefused``, a 400's ``PermanentError``): those are raised at once, as a
single writer would, and nothing else is asked. An answer the writer cannot use (garbage,
an HTML page with a 200, JSON nested too deep, a body too large or stalled mid-way) is
the provider down: the writers say so (``TransientError``, ``fleet.infra.bounded``), and
an error no writer maps (a library's own, a RecursionError) counts as down too, since
only Fleet's own errors can say "wait" or "refused". When every provider is down the last
error is raised (transient: Celery retries the action later).

Every result says which writer wrote it: ``Usage.provider`` is that writer's label.
Usage billed by a provider that failed (a repair that timed out) is added to the result,
or to the error raised, so no billed token goes unrecorded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
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
from fleet.errors import CircuitOpen, Deferred, FleetError, TransientError

T = TypeVar("T", PostDraft, CommentDraft, Thought, SessionPlan)


def is_down(error: BaseException) -> bool:
    """True when the error says the provider is down, so the next one is worth asking."""
    if isinstance(error, Deferred):
        # An open circuit is an outage; a rate limit's Deferred says wait.
        return isinstance(error, CircuitOpen)
    if isinstance(error, TransientError):
        return True
    # A refusal or a permanent error is Fleet's to say; anything else broke the client.
    return isinstance(error, Exception) and not isinstance(error, FleetError)


def _labelled(result: T, label: str, spent: Usage | None) -> T:
    usage = result.usage if spent is None else spent + result.usage
    return replace(result, usage=replace(usage, provider=label))


class ChainWriter:
    """A ContentWriter over ``(label, writer)`` pairs tried in order while each is down."""

    def __init__(self, chain: Sequence[tuple[str, ContentWriter]]) -> None:
        if not chain:
            raise ValueError("a writer chain needs at least one writer")
        self._chain = list(chain)

    @property
    def labels(self) -> list[str]:
        """The writers' labels, in the order they are tried."""
        return [label for label, _ in self._chain]

    @property
    def writers(self) -> list[ContentWriter]:
        """The writers, in the order they are tried."""
        return [writer for _, writer in self._chain]

    def _first_up(self, call: Callable[[ContentWriter], T]) -> T:
        spent: Usage | None = None
        for number, (label, writer) in enumerate(self._chain):
            try:
                result = call(writer)
            except Exception as error:
                used = spent_on(error)
                if used is not None:
                    used = replace(used, provider=label)
                    spent = used if spent is None else spent + used
                last = number == len(self._chain) - 1
                if last or not is_down(error):
                    if spent is not None:
                        # All the chain billed for this writing, this writer's included.
                        setattr(error, "usage", spent)  # noqa: B010
                    raise
                continue
            return _labelled(result, label, spent)
        raise AssertionError("unreachable: the last writer's error is raised")

    def write_post(self, persona: Persona, author: Author, *, nonce: int) -> PostDraft:
        return self._first_up(lambda writer: writer.write_post(persona, author, nonce=nonce))

    def write_comment(
        self, persona: Persona, author: Author, post: PostSeen, *, nonce: int
    ) -> CommentDraft:
        return self._first_up(
            lambda writer: writer.write_comment(persona, author, post, nonce=nonce)
        )

    def think(
        self, persona: Persona, author: Author, seen: list[PostSeen], *, nonce: int
    ) -> Thought:
        return self._first_up(lambda writer: writer.think(persona, author, seen, nonce=nonce))

    def plan(self, persona: Persona, author: Author, ask: PlanAsk, *, nonce: int) -> SessionPlan:
        return self._first_up(lambda writer: writer.plan(persona, author, ask, nonce=nonce))

    def close(self) -> None:
        for _, writer in self._chain:
            writer.close()
