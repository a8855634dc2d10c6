"""What the activities context hands out: claims for tasks, rows for people."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any


def view_json(view: Any) -> dict[str, Any]:
    """A view dataclass as JSON-ready values (datetimes as ISO 8601)."""
    out: dict[str, Any] = asdict(view)
    for key, value in out.items():
        if isinstance(value, datetime):
            out[key] = value.isoformat()
    return out


@dataclass(frozen=True, slots=True)
class Actor:
    """The agent behind an activity, as an action needs it."""

    id: int
    handle: str
    display_name: str
    persona: str
    seed: int
    status: str
    platform_user_id: str | None
    deleted: bool
    # Review mode: its content actions stop at a draft for an owner's decision.
    review: bool = False

    @property
    def active(self) -> bool:
        return self.status == "active" and not self.deleted


@dataclass(frozen=True, slots=True)
class Claim:
    """A pending activity an action task holds under a lease."""

    id: int
    key: str
    action: str
    due_at: datetime
    attempts: int
    deliveries: int  # this one included
    content: dict[str, Any]
    target_post_id: str | None
    actor: Actor
    # A first choice came with the claim and was not kept (the post was not open).
    first_choice_refused: bool = False


@dataclass(frozen=True, slots=True)
class Held:
    """A pending activity another delivery holds: this delivery does no work."""

    key: str
    until: datetime | None


@dataclass(frozen=True, slots=True)
class FirstChoice:
    """A post chosen for a like or comment before its claim, with what makes it open.

    The claim keeps it as the activity's target if the activity is a ``kind`` without a
    target yet, the post is not the agent's own (by ``author``, its author's handle) and
    it is open to the agent (see ``targets.open_to``).
    """

    post_id: str
    author: str
    kind: str
    cap_per_hour: int
    since: datetime


Chooser = Callable[[set[str], dict[str, int]], str | None]
"""Picks a post given the posts already taken by the agent and the bot engagements per post."""


@dataclass(frozen=True, slots=True)
class TargetKept:
    """The post a like or comment is for (None: nothing to choose, or the action ended)."""

    post_id: str | None
    ended: bool


@dataclass(frozen=True, slots=True)
class ActivityView:
    """One activity as the CLI shows it."""

    id: int
    agent_id: int
    handle: str
    persona: str
    action: str
    status: str
    idempotency_key: str
    due_at: datetime
    attempts: int
    target_post_id: str | None
    result: dict[str, Any] | None
    usage: dict[str, Any] | None
    error: str | None
    created_at: datetime
    finished_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return view_json(self)


@dataclass(frozen=True, slots=True)
class DeadLetterView:
    """One dead letter: what could not be done, why, and how often it was tried."""

    id: int
    activity_id: int | None
    task: str
    arguments: dict[str, Any]
    error_type: str
    error: str
    attempts: int
    created_at: datetime
    replayed_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return view_json(self)


@dataclass(frozen=True, slots=True)
class Hold:
    """A fleet-wide wait the dispatcher respects."""

    kind: str
    reason: str
    until: datetime


@dataclass(frozen=True, slots=True)
class Tally:
    """What one agent did, read from its activities: successes per kind, the newest one,
    its newest thought, and the action it has in flight."""

    actions: dict[str, int]
    last_action: str | None = None
    last_action_at: datetime | None = None
    last_thought: str | None = None
    current_action: str | None = None


@dataclass(frozen=True, slots=True)
class Standing:
    """Where one activity stands, as a failed delivery's verdict needs it."""

    id: int
    agent_id: int
    status: str
    action: str
    attempts: int
    deliveries: int
    handle: str
    persona: str
    due_at: datetime


@dataclass(frozen=True, slots=True)
class Entry:
    """A post, comment (or reply) or like of the ledger, as reconciliation needs it."""

    activity_id: int
    key: str
    handle: str
    action: str
    status: str
    created_at: datetime
    made: str | None = None  # the gallery id the action recorded (its post or comment)
    target: str | None = None  # the post a like, comment or reply is for
    image_url: str | None = None
    title: str | None = None
    text: str | None = None
