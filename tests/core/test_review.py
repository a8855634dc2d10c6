"""When approved drafts go out: at their agents' next moments, never at once."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from fleet.core.review import publish_times, reason_problem, rejected_as

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SPACING = timedelta(seconds=30)


def test_fifty_approvals_at_once_are_spread_at_least_the_spacing_apart() -> None:
    times = publish_times(NOW, [None] * 50, spacing=SPACING, rng=random.Random(7))
    ordered = sorted(times)
    assert ordered[0] == NOW
    assert all(b - a >= SPACING for a, b in pairwise(ordered))
    assert ordered[-1] - NOW <= 49 * 2 * SPACING


def test_each_draft_waits_for_its_own_agents_next_moment_in_the_order_given() -> None:
    later = NOW + timedelta(hours=3)
    past = NOW - timedelta(hours=1)
    times = publish_times(NOW, [later, past, None], spacing=SPACING, rng=random.Random(7))
    assert times[0] == later, "a quiet agent's draft waits for its next session"
    assert NOW in times[1:] and all(t < later for t in times[1:])
    assert abs(times[1] - times[2]) >= SPACING


def test_a_reason_is_at_most_500_characters_and_ends_the_action_by_name() -> None:
    assert reason_problem("x" * 500) is None
    assert "at most 500" in str(reason_problem("x" * 501))
    assert rejected_as(" off brand ") == "rejected: off brand"
    assert rejected_as(None) == "rejected"
