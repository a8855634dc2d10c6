"""How long a re-sent activity is left alone before the lease sweeper sends it again.

The sweeper cannot tell a message lost with its broker (Redis restarted empty) from one
still waiting in a long queue. Re-sent every lease, a backlog longer than the lease
piled a copy per lease on every waiting action (2,513 copies in one queue in a fault
scenario: the worker spent the drain throwing them away). Each re-send's lease is
instead as long as the action has already waited since it was due: the copies of one
action grow with the logarithm of its wait, and a lost message is still sent again
within ``RESEND_MOST`` leases.
"""

from __future__ import annotations

from datetime import timedelta

# At most this many leases between two sends of one action.
RESEND_MOST = 8


def resend_lease(lease: timedelta, waited: timedelta, *, most: int = RESEND_MOST) -> timedelta:
    """The lease of an action sent again after ``waited`` since it was due: at least
    ``lease``, at most ``most`` leases, in between the wait itself (so its sends fall at
    about 1, 2, 4, 8... leases after it was due)."""
    if most < 1:
        raise ValueError(f"most must be at least 1 (got {most})")
    return max(lease, min(waited, lease * most))
