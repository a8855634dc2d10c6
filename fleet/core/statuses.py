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
    """How an action in the ledger stands: waiting on its worker, or how it ended."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    SKIPPED = "skipped"
    DEAD = "dead"


# As the tables and the faces list them (plain strings: the check constraints quote them).
AGENT_STATUSES: tuple[str, ...] = tuple(status.value for status in AgentStatus)
ACTIVITY_STATUSES: tuple[str, ...] = tuple(status.value for status in ActivityStatus)
