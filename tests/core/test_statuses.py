"""The statuses are one enum each, whose members are the strings the rows hold."""

from __future__ import annotations

from fleet.core.statuses import ACTIVITY_STATUSES, AGENT_STATUSES, ActivityStatus, AgentStatus


def test_the_members_are_the_strings_the_tables_hold_in_their_order() -> None:
    assert AGENT_STATUSES == ("created", "active", "paused", "stopped", "error")
    assert ACTIVITY_STATUSES == (
        "pending",
        "succeeded",
        "skipped",
        "dead",
        "awaiting_review",
    )
    assert AgentStatus("paused") == "paused" and f"{ActivityStatus.DEAD}" == "dead"
