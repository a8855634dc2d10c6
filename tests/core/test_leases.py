"""The lease sweeper's back-off (fleet.core.leases)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fleet.core.leases import RESEND_MOST, resend_lease

LEASE = timedelta(seconds=300)


def test_a_fresh_action_gets_one_lease_and_a_long_wait_at_most_the_cap() -> None:
    assert resend_lease(LEASE, timedelta(0)) == LEASE
    assert resend_lease(LEASE, timedelta(seconds=-30)) == LEASE  # due in the future
    assert resend_lease(LEASE, timedelta(seconds=700)) == timedelta(seconds=700)
    assert resend_lease(LEASE, timedelta(days=3)) == LEASE * RESEND_MOST


def test_the_sends_of_one_waiting_action_grow_with_the_log_of_its_wait() -> None:
    """An action stuck in a queue for 64 leases is sent again about log2(64) times, where
    a fixed lease sent it 64 times."""
    waited, sends = LEASE, 0
    while waited < LEASE * 64:
        waited += resend_lease(LEASE, waited, most=1000)
        sends += 1
    assert sends == 6


@given(
    waited=st.integers(min_value=-(10**6), max_value=10**7),
    most=st.integers(min_value=1, max_value=100),
)
def test_the_lease_stays_within_one_and_most_leases(waited: int, most: int) -> None:
    got = resend_lease(LEASE, timedelta(seconds=waited), most=most)
    assert LEASE <= got <= LEASE * most


def test_a_cap_under_one_lease_is_refused() -> None:
    with pytest.raises(ValueError, match="most must be at least 1"):
        resend_lease(LEASE, LEASE, most=0)
