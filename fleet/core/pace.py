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
from dataclasses import dataclass

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
    """What the gallery's newest posts tell of the last day: people's posts, and the
    likes and comments on that day's posts beyond the fleet's own."""

    posts: int
    engagement: int

    @property
    def actions(self) -> int:
        return self.posts + self.engagement


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
    pace_now: float,
    share: float = TARGET_SHARE,
    floor: float = FLOOR,
) -> Pace:
    """The pace from the last day's activity. The fleet's actions were made at
    ``pace_now``: at full pace it would have made ``fleet_per_day / pace_now``."""
    full = fleet_per_day / max(pace_now, floor, 1e-9)
    ratio = people.actions / full if full > 0 else (math.inf if people.actions else 0.0)
    pace = 1.0 if full <= 0 and not people.actions else pace_for(ratio, share=share, floor=floor)
    if full <= 0 and people.actions:
        pace = pace_now  # the fleet did nothing yet: nothing to compare people with
    return Pace(people.actions, fleet_per_day, full, round(pace, 4))
