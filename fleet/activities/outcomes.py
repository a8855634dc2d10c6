"""How one delivery of an action ended: ``Outcome``, one sum type of frozen cases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from fleet.core.statuses import ActivityStatus

__all__ = [
    "AlreadyFinished",
    "CarriedOut",
    "Dead",
    "Drafted",
    "HeldElsewhere",
    "Outcome",
    "Performed",
    "Retry",
    "Settled",
    "Skipped",
    "Succeeded",
    "Unclaimed",
    "Unknown",
]

# A delivery either carried the action out (``fleet.actions.perform``: succeeded, skipped,
# drafted), found it not its to do (already finished, held by another delivery, an unknown
# key: what a claim could not take, ``claim_many``), or failed and had its failure settled
# (``fleet.actions.failures.settle``: a retry, a dead letter, a skip, or already finished).
# Each case is a frozen class of its own with what that case knows, and ``status`` names it
# as the logs, the tallies and the faces spell it. Callers ``match`` on the class; mypy
# checks that every case is handled.
#
# The same values end the activities: ``finish_many`` writes a ``Succeeded`` or a
# ``Skipped`` as it is (with the engagement a success adds to the ledger and what the
# delivery's LLM calls billed), and the listeners of an action's end
# (``fleet.actions.perform.end``) read them. They live with the activities, which write
# every terminal state, so that both layers share them.


@dataclass(frozen=True, slots=True)
class Succeeded:
    """The action's effect is made and its activity ended succeeded, with its result."""

    status: ClassVar[Literal[ActivityStatus.SUCCEEDED]] = ActivityStatus.SUCCEEDED
    activity_id: int
    result: dict[str, Any] | None = None
    # The (target, kind) the success adds to the engagement ledger (None: no engagement).
    engagement: tuple[str, str] | None = None
    # What its LLM calls billed in this delivery, added to the activity's usage.
    usage: dict[str, Any] | None = None

    @property
    def detail(self) -> dict[str, Any] | None:
        return self.result


@dataclass(frozen=True, slots=True)
class Skipped:
    """The activity ended skipped (nothing to do, a refusal, a wait too long), with why."""

    status: ClassVar[Literal[ActivityStatus.SKIPPED]] = ActivityStatus.SKIPPED
    activity_id: int
    reason: str
    usage: dict[str, Any] | None = None  # what its LLM calls billed in this delivery

    @property
    def detail(self) -> dict[str, Any] | None:
        return {"reason": self.reason}


@dataclass(frozen=True, slots=True)
class Drafted:
    """Under review: the action stopped at its draft, which waits for an owner."""

    status: ClassVar[Literal["drafted"]] = "drafted"
    activity_id: int
    draft_id: int

    @property
    def reason(self) -> str:
        return f"draft {self.draft_id} waits for review"

    @property
    def detail(self) -> dict[str, Any] | None:
        return {"draft_id": self.draft_id, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class AlreadyFinished:
    """Another delivery ended the activity first (or it was unknown): nothing done here.

    ``detail`` is what this delivery's own attempt came to, when it got that far."""

    status: ClassVar[Literal["already-finished"]] = "already-finished"
    activity_id: int | None = None
    detail: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class HeldElsewhere:
    """Another delivery holds the activity's claim: it carries the action out."""

    status: ClassVar[Literal["held-elsewhere"]] = "held-elsewhere"

    @property
    def detail(self) -> dict[str, Any] | None:
        return None


@dataclass(frozen=True, slots=True)
class Unknown:
    """No activity has the key (a batch's; one action's delivery raises instead)."""

    status: ClassVar[Literal["unknown"]] = "unknown"

    @property
    def detail(self) -> dict[str, Any] | None:
        return None


@dataclass(frozen=True, slots=True)
class Retry:
    """The failure is worth another attempt, after ``countdown`` seconds."""

    status: ClassVar[Literal["retry"]] = "retry"
    countdown: float
    reason: str
    attempts: int = 0  # failed attempts so far (this one included; 0 for a wait)


@dataclass(frozen=True, slots=True)
class Dead:
    """The activity ended dead: its dead letter keeps the error for a replay."""

    status: ClassVar[Literal[ActivityStatus.DEAD]] = ActivityStatus.DEAD
    dead_letter_id: int
    reason: str


# What carrying out a claimed action came to, as the finish statement writes it
# (``finish_many``): succeeded or skipped.
CarriedOut = Succeeded | Skipped
# What a claim could not take, by why (``claim_many``).
Unclaimed = AlreadyFinished | HeldElsewhere | Unknown
# What one delivery's carrying out came to (``fleet.actions.perform``).
Performed = Succeeded | Skipped | Drafted | AlreadyFinished | HeldElsewhere | Unknown
# What settling a failure came to (``fleet.actions.failures.settle``).
Settled = Retry | Dead | Skipped | AlreadyFinished
# How one delivery of an action ended, whichever way.
Outcome = Performed | Settled
