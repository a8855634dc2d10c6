"""Fleet's errors, one small tree: every error Fleet raises derives from FleetError, and
each class is listed here with where it is defined when that is not this module.

FleetError
├── InputError              bad input from a person or a file: exit code 2, nothing written
│   ├── ConfigError         a bad FLEET_* setting
│   │   └── MissingExtra    an optional part's library not installed: names the extra
│   ├── PersonaFileError    a persona file that does not validate
│   ├── UnknownPersona      a persona slug that is not loaded
│   └── UnknownAgent        an agent id or handle that does not exist
├── ConflictError           the state does not allow the command (e.g. start a deleted agent)
├── TransientError          worth retrying later (timeouts, 5xx, plain 429)
│   ├── Deferred            wait until a known time without counting an attempt
│   │   ├── RateLimited     the fleet's own shared limit refused the call: it was not made
│   │   └── CircuitOpen     a breaker is open: the service behind it counts as down
│   └── EmbeddingUnavailable  the embedder could not answer: rank without vectors
│                             (fleet.embeddings.port)
├── PermanentError          retrying cannot help: dead-letter it
│   ├── ContentRefused      generated content refused (invalid after repair, or by the guard)
│   │   └── ReplyRefused    the model's answer unusable after one repair; carries the usage
│   │                       (fleet.content.llm.base)
│   ├── GalleryRefused      the gallery refused a call a retry cannot change (a 4xx)
│   │                       (fleet.gallery.answers)
│   ├── TokenRefused        the platform refused an agent's token (401): the agent is set
│   │                       aside until a new one is set (fleet.gallery.credentials)
│   └── MalformedAnswer     the gallery's answer is not what its API promises
│       │                   (fleet.gallery.answers)
│       └── TooLargeAnswer  an answer past the call's cap (the check of an image names
│                           its own setting)
├── Skip                    nothing to do; acknowledge quietly
│   └── ContentSkipped      the guard refused both drafts; carries the usage
│                           (fleet.content.guard.guard)
├── UnderReview             written, not published: the action waits for an owner's review
│
│   Signals caught inside the adapter that raises them, never seen past it:
├── InvalidReply            a model's reply is not the JSON the task asked for: repair once
│                           (fleet.content.llm.prompts; also a ValueError)
├── UnopenedToken           no key of FLEET_CREDENTIALS__KEYS opens a sealed token: each
│                           caller says which agent's (fleet.agents.credentials)
├── NoProvenance            an image lacks a provenance mark or a mark does not hold: the
│   │                       check records why (fleet.gallery.provenance)
│   └── RefusedAddress      the image's address is not the gallery's, or resolves inside
│                           the network (loopback, link-local, private): never fetched
└── AnswerRefused           an upstream's answer broke a bound; each adapter maps it to its
    │                       port's error (fleet.infra.bounded)
    ├── AnswerTooLarge      more bytes, raw or inflated, than the cap
    ├── AnswerEncoding      a content encoding not asked for or not inflatable bounded
    ├── AnswerCut           the body stalled past the deadline or broke off mid-way
    │   └── AnswerStalled   the body stalled past the call's deadline
    └── AnswerNotJson       not JSON, not finite (AnswerNotFinite) or too deep (AnswerTooDeep)

Interrupts are no errors: they derive from BaseException, not Exception, so that no
``except Exception`` on their way takes them for a failure of what it guards (Dramatiq's
``Interrupt``). Only where a task settles are they caught.

Interrupt
└── TimeLimitExceeded       a task ran past its soft time limit: raised into its thread
                            (or process), settled as a failed attempt that retries
"""

from __future__ import annotations

import importlib
from datetime import datetime
from types import ModuleType
from typing import Literal


class FleetError(Exception):
    """Raised for any failure Fleet knows how to name."""


class InputError(FleetError):
    """Raised when input from a person, a file or the environment is invalid."""


class ConfigError(InputError):
    """Raised when a FLEET_* setting has a bad value."""


class MissingExtra(ConfigError):
    """Raised when a part of Fleet runs without its extra's libraries installed (the
    console, provenance, statistics: pyproject.toml's optional dependencies)."""


def from_extra(module: str, extra: str, part: str) -> ModuleType:
    """``module`` imported, or MissingExtra saying that ``part`` needs ``fleet[extra]``
    (the ticks and engage workers install none of the extras)."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        raise MissingExtra(
            f"{part} needs {error.name or module}, which is not installed: "
            f"install fleet[{extra}] (pip install 'fleet[{extra}]')"
        ) from None


class PersonaFileError(InputError):
    """Raised when a persona file cannot be read or does not validate."""

    def __init__(self, path: str, problems: list[tuple[str, str]]) -> None:
        self.path = path
        self.problems = problems
        lines = "; ".join(f"{field}: {reason}" if field else reason for field, reason in problems)
        super().__init__(f"{path}: {lines}")


class UnknownPersona(InputError):
    """Raised when a persona slug names no loaded persona."""

    def __init__(self, slug: str, known: list[str]) -> None:
        self.slug = slug
        super().__init__(f"unknown persona {slug!r}; known personas: {', '.join(sorted(known))}")


class UnknownAgent(InputError):
    """Raised when an agent id or handle matches no agent."""

    def __init__(self, ref: str) -> None:
        self.ref = ref
        super().__init__(f"no agent {ref!r}")


class ConflictError(FleetError):
    """Raised when the current state does not allow a command."""


class TransientError(FleetError):
    """Raised when an operation failed but may succeed if tried again."""


class Deferred(TransientError):
    """Raised when work must wait until ``until`` without counting as a failed attempt.

    ``scope`` says who waits: ``"agent"`` (this agent's budget), ``"fleet"`` (the fleet's
    budget, the platform's pause switch), or ``"call"`` (a rate limit or an open circuit:
    just this call, a little later). ``code`` is the platform's code when it gave one.
    """

    def __init__(
        self,
        reason: str,
        until: datetime | None = None,
        *,
        scope: Literal["agent", "fleet", "call"] = "call",
        code: str | None = None,
    ) -> None:
        self.reason = reason
        self.until = until
        self.scope = scope
        self.code = code
        super().__init__(f"{reason} (until {until.isoformat() if until else 'further notice'})")


class RateLimited(Deferred):
    """Raised when the fleet's own shared rate limit (a token bucket) has no token for a
    call: the call was not made. An action deferred so waits without a count of its
    deferrals (``fleet.actions.failures``): overload is no failure."""

    def __init__(self, reason: str, until: datetime | None = None) -> None:
        super().__init__(reason, until, scope="call")


class CircuitOpen(Deferred):
    """Raised while a circuit breaker is open: the service behind it counts as down (a
    writer chain asks its next provider)."""


class PermanentError(FleetError):
    """Raised when retrying cannot help; the action is dead-lettered."""


class ContentRefused(PermanentError):
    """Raised when generated content is refused (invalid after repair, or by the guard)."""


class Skip(FleetError):
    """Raised when there is nothing to do; the action ends as skipped with this reason."""


class UnderReview(FleetError):
    """Raised when an action of an agent under review has written its draft: it stops
    there, unpublished, until an owner approves or rejects it (or it expires)."""


class Interrupt(BaseException):
    """Raised into a running task from outside it (a watchdog, a signal): not an
    ``Exception``, so that a handler written for a failure of its own call (``except
    Exception``: a provider down, an embedder broken) lets it pass. Caught only where a
    task settles (``fleet.service.work``)."""


class TimeLimitExceeded(Interrupt):
    """Raised in a task that has run past its soft time limit: at its thread's next
    Python instruction on the threads pool (``fleet.worker.limits``), from the signal
    handler in a prefork pool process (``fleet.worker.tasks``). The action settles it as
    a failed attempt and retries (``fleet.actions.failures.settle``)."""
