"""Use cases on fleet holds: an admin holds the whole fleet (nothing is dispatched while
a hold is in force) and lifts it; the budget and the platform's pause set their own."""

from __future__ import annotations

from datetime import timedelta

from fleet import activities
from fleet.activities import Hold
from fleet.errors import InputError
from fleet.service.root import Fleet

ADMIN = "admin"
LONGEST = timedelta(days=30)
# A reason is shown on every page and status: a line, not a document.
LONGEST_REASON = 500


def hold(fleet: Fleet, reason: str, duration: timedelta) -> Hold:
    """Hold the fleet for ``duration`` (at most 30 days), for ``reason``."""
    if not reason.strip():
        raise InputError("a hold needs a reason (--reason)")
    if len(reason.strip()) > LONGEST_REASON:
        raise InputError(f"reason: at most {LONGEST_REASON} characters (got {len(reason.strip())})")
    if not timedelta(0) < duration <= LONGEST:
        raise InputError(f"a hold lasts more than 0 s and at most {LONGEST.days} days")
    now = fleet.clock.now()
    activities.hold_fleet(fleet.sessions, ADMIN, reason.strip(), now + duration, now=now)
    current = in_force(fleet)
    assert current is not None
    return current


def lift(fleet: Fleet) -> int:
    """Lift every fleet hold (the admin's, the budget's, the platform's); how many."""
    return activities.release_holds(fleet.sessions)


def in_force(fleet: Fleet) -> Hold | None:
    """The longest hold in force now, if any."""
    return activities.hold_in_force(fleet.sessions, fleet.clock.now())
