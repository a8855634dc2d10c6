"""Stepping back as people arrive: the fleet's pace from people's activity (pure).

The fleet exists to bring a young gallery to life. While nobody else is there it runs at
full volume; as people become active it does less, by opening fewer sessions (never by
skipping actions it decided). Its **pace** multiplies every agent's session rate.

With ``ratio`` = people's actions a day / the fleet's actions a day at full pace, and
``share`` the target share of all activity the fleet should make once people are as
active as the whole fleet at full pace::

    pace = max(floor, 1 / (1 + ratio * (1 - 2 * share) / share))

- nobody there (ratio 0): pace 1;
- people as active as the full fleet (ratio 1): the fleet makes ``share`` of all
  activity (pace ``share / (1 - share)``; 1/2 at the default share of 1/3);
- people 5x the full fleet: pace 1/6 at the default: the fleet does less the more
  people do, down to ``floor`` (it never goes silent: newcomers are still welcomed);
- a share of 1/2 never steps back.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

DAY = timedelta(days=1)
# The default share of all activity the fleet makes once people match it.
TARGET_SHARE = 1 / 3
FLOOR = 0.1


def pace_for(ratio: float, *, share: float = TARGET_SHARE, floor: float = FLOOR) -> float:
    """The fleet's pace when people make ``ratio`` times the full fleet's actions."""
    if not (math.isfinite(share) and 0 < share <= 0.5):
        raise ValueError(f"the target bot share must be in (0, 0.5], not {share!r}")
    if not (math.isfinite(floor) and 0 < floor <= 1):
        raise ValueError(f"the pace floor must be in (0, 1], not {floor!r}")
    if not math.isfinite(ratio) or ratio <= 0:
        return 1.0
    return max(floor, 1.0 / (1.0 + ratio * (1.0 - 2.0 * share) / share))


@dataclass(frozen=True, slots=True)
class PeopleSeen:
    """People's actions over a stretch of time: their posts, and their likes and
    comments (on anyone's posts)."""

    posts: int
    engagement: int

    @property
    def actions(self) -> int:
        return self.posts + self.engagement


@dataclass(frozen=True, slots=True)
class PostRead:
    """A gallery post as a reading saw it: whose, when made, and its counts."""

    post_id: str
    created_at: datetime
    by_person: bool
    likes: int
    comments: int

    @property
    def total(self) -> int:
        return max(0, self.likes) + max(0, self.comments)


@dataclass(frozen=True, slots=True)
class CountsKept:
    """A post's likes and comments as the last reading that saw it kept them, beside the
    fleet's own engagements on it as the ledger had them then."""

    total: int
    fleet: int
    read_at: datetime


def people_between(
    posts: Sequence[PostRead],
    kept: Mapping[str, CountsKept],
    fleet_now: Mapping[str, int],
    *,
    start: datetime,
) -> PeopleSeen:
    """People's actions since ``start`` (the last reading), from the posts read now
    against what was kept of them then (``kept``), less the fleet's own engagements on
    each as the ledger has them now (``fleet_now``) and had them then.

    - A post read at ``start`` too: what its counts grew by since, less what the
      fleet's grew by.
    - A post the last reading did not see, made at ``start`` or after: everything on it,
      less the fleet's.
    - Any other post (an older one that just came into a feed) is a baseline now,
      counted from the next reading on: activity whose moment is unknown is not laid on
      this stretch.

    Counts against counts, never times against times: an engagement made in the very
    second of a reading is neither lost nor counted twice. People's posts are theirs
    this reading is the first to see. The engagement is summed over posts before it is
    bounded at 0: a fleet like the ledger kept a moment before the gallery showed it is
    made up for on the next reading, not lost to a per-post floor."""
    posts_made = 0
    engagement = 0
    for post in posts:
        earlier = kept.get(post.post_id)
        ours = fleet_now.get(post.post_id, 0)
        if earlier is not None and earlier.read_at >= start:
            engagement += (post.total - earlier.total) - (ours - earlier.fleet)
        elif post.created_at >= start:
            posts_made += post.by_person
            engagement += post.total - ours
    return PeopleSeen(posts_made, max(0, engagement))


@dataclass(frozen=True, slots=True)
class Reading:
    """People's actions between two readings, and the pace the fleet ran at meanwhile."""

    start: datetime
    end: datetime
    people: PeopleSeen
    pace: float


@dataclass(frozen=True, slots=True)
class PaceWindow:
    """People's actions a day over the readings of a window, from when it starts, and
    the pace the fleet ran at over it (weighted by time)."""

    start: datetime
    people_per_day: PeopleSeen
    pace_ran: float


def over_window(
    readings: Sequence[Reading], *, now: datetime, window: timedelta
) -> PaceWindow | None:
    """The readings that end within ``window`` of ``now``, as a rate a day from the start
    of the first (None: no reading, or none that spans any time)."""
    inside = [r for r in readings if r.end > now - window and r.end > r.start]
    if not inside:
        return None
    start = min(r.start for r in inside)
    span = now - start
    if span <= timedelta(0):
        return None
    per_day = DAY / span
    spans = [(r.end - r.start).total_seconds() for r in inside]
    pace_ran = sum(r.pace * s for r, s in zip(inside, spans, strict=True)) / sum(spans)
    return PaceWindow(
        start,
        PeopleSeen(
            round(per_day * sum(r.people.posts for r in inside)),
            round(per_day * sum(r.people.engagement for r in inside)),
        ),
        pace_ran,
    )


@dataclass(frozen=True, slots=True)
class Pace:
    """A measured pace: people's and the fleet's actions over the last day, and the
    pace that follows (``pace_for``)."""

    people_per_day: int
    fleet_per_day: int
    fleet_full_per_day: float
    pace: float

    @property
    def fleet_share(self) -> float | None:
        """The fleet's share of all activity over the last day (None: none at all)."""
        total = self.people_per_day + self.fleet_per_day
        return None if total == 0 else self.fleet_per_day / total


def measure(
    people: PeopleSeen,
    fleet_per_day: int,
    *,
    pace_ran: float,
    share: float = TARGET_SHARE,
    floor: float = FLOOR,
) -> Pace:
    """The pace from a day's rate of activity. The fleet's actions were made at
    ``pace_ran``: at full pace it would have made ``fleet_per_day / pace_ran``."""
    full = fleet_per_day / max(pace_ran, floor, 1e-9)
    ratio = people.actions / full if full > 0 else (math.inf if people.actions else 0.0)
    pace = 1.0 if full <= 0 and not people.actions else pace_for(ratio, share=share, floor=floor)
    if full <= 0 and people.actions:
        pace = pace_ran  # the fleet did nothing yet: nothing to compare people with
    return Pace(people.actions, fleet_per_day, full, round(pace, 4))
