"""The statuses an agent and an activity (one action in the ledger) can be in.

The database holds their values (``fleet.db.models`` checks them); ``StrEnum`` members
are those strings, so they compare equal to what a row holds.
"""

from __future__ import annotations

from enum import StrEnum


class AgentStatus(StrEnum):
    """Where an agent stands: made, ticking, paused, stopped, or set aside by an error."""

    CREATED = "created"
    ACTIVE = "active"
    PAUSED = "paused"
    STOPPED = "stopped"
    ERROR = "error"


class ActivityStatus(StrEnum):
    """How an action in the ledger stands: waiting on its worker or on an owner's review
    of its draft, or how it ended."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    SKIPPED = "skipped"
    DEAD = "dead"
    # Under review mode: written (text and image kept on the activity), not published; it
    # waits for an owner's approval, rejection or the draft's expiry (``DraftStatus``).
    AWAITING_REVIEW = "awaiting_review"


class DraftStatus(StrEnum):
    """Where a draft of an action under review stands: waiting, or the owner's decision."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"


# The activity statuses that are not an end: the lease sweeper re-sends only ``pending``
# ones; ``awaiting_review`` ones end by a decision on their draft or its expiry.
OPEN_ACTIVITY_STATUSES: tuple[str, ...] = (
    ActivityStatus.PENDING.value,
    ActivityStatus.AWAITING_REVIEW.value,
)

# As the tables and the faces list them (plain strings: the check constraints quote them).
AGENT_STATUSES: tuple[str, ...] = tuple(status.value for status in AgentStatus)
ACTIVITY_STATUSES: tuple[str, ...] = tuple(status.value for status in ActivityStatus)
DRAFT_STATUSES: tuple[str, ...] = tuple(status.value for status in DraftStatus)
