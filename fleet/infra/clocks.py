"""The clock port: real time in production, simulated time in the demo; and the one
reading of an answer's ``Retry-After`` as a time."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Protocol

# The longest ``Retry-After`` in seconds that can still be a time (about a century): a
# longer one is a garbled answer, not a wait.
MAX_RETRY_AFTER_SECONDS = 100 * 366 * 86400


def utcnow() -> datetime:
    """The machine's time now, in UTC."""
    return datetime.now(UTC)


def retry_after(value: str | None, now: datetime) -> datetime | None:
    """When a ``Retry-After`` header's ``value`` (seconds, or an HTTP date) says to ask
    again: None when absent or garbled; ``ValueError`` for more seconds than
    ``MAX_RETRY_AFTER_SECONDS``, which no server means."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            return parsedate_to_datetime(value).astimezone(UTC)
        except (TypeError, ValueError, OverflowError):
            return None
    if not seconds <= MAX_RETRY_AFTER_SECONDS:  # also NaN
        raise ValueError(f"Retry-After {value[:20]} seconds cannot be a time")
    return now + timedelta(seconds=max(0.0, seconds))


class Clock(Protocol):
    """What Fleet asks of time."""

    def now(self) -> datetime: ...


class SystemClock:
    """The machine's clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)  # ``utcnow``'s, without a call more: asked often a like


class SimulatedClock:
    """Time that moves only when told to: the demo's day passes in minutes, reproducibly."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("a simulated clock starts at an aware datetime")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> datetime:
        """Move time forward and return the new now."""
        with self._lock:
            self._now += timedelta(seconds=seconds)
            return self._now
