"""Review mode, pure: when approved drafts go out, and what an owner may write.

An approved draft is published at its agent's next plausible moment (its next tick, which
opens or continues a session), never at the click: approvals made together are spread
so that no two go out closer than a spacing (plus as much again at random).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum


class ReviewMode(StrEnum):
    """Whether an agent's posts, comments and replies wait as drafts for an owner."""

    ON = "on"
    OFF = "off"


# An owner's reason for a rejection, as kept and shown.
REASON_MAX = 500
# What an owner may write in an edit: a post's caption (the gallery's title) and its
# description, a comment's or reply's text.
CAPTION_MAX = 200
TEXT_MAX = 2000


def publish_times(
    now: datetime,
    next_moments: Sequence[datetime | None],
    *,
    spacing: timedelta,
    rng: random.Random,
) -> list[datetime]:
    """When each approved draft goes out, in the order given: at its agent's next moment
    (None or past: now), and each at least ``spacing`` (up to twice it, at random) after
    the one before it in time."""
    order = sorted(range(len(next_moments)), key=lambda i: _base(now, next_moments[i]))
    times: list[datetime] = [now] * len(next_moments)
    previous: datetime | None = None
    for index in order:
        moment = _base(now, next_moments[index])
        if previous is not None and spacing > timedelta(0):
            gap = spacing * (1 + rng.random())
            moment = max(moment, previous + gap)
        times[index] = moment
        previous = moment
    return times


def _base(now: datetime, moment: datetime | None) -> datetime:
    return now if moment is None or moment < now else moment


def reason_problem(reason: str) -> str | None:
    """Why an owner's rejection reason cannot be kept, or None."""
    if len(reason) > REASON_MAX:
        return f"the reason is {len(reason)} characters long; at most {REASON_MAX}"
    return None


def rejected_as(reason: str | None) -> str:
    """The ending reason of a rejected draft's action."""
    reason = (reason or "").strip()
    return f"rejected: {reason}" if reason else "rejected"
