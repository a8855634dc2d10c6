"""How the sandbox's simulated newcomers come back: a behaviour model in which whether a
newcomer returns depends on the engagement they received, with the effect a setting.

It exists to test Fleet's impact estimator (``bench/impact.py``), not to claim an effect:
the lift of a welcome is planted here, and the report must find it (or find none when
it is 0). The default, 12 points more returns after a first comment within a day, is of
the order of the studies of newcomers' first feedback (Burke, Marlow and Lento, CHI
2009; Joyce and Kraut, 2006), which measured correlations, not this.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Newcomers:
    """A newcomer's behaviour after their first post.

    A newcomer returns (acts again on days 2 to 7) with probability ``base_return``, plus
    ``welcome_lift`` when a first comment came within ``welcome_within`` of their first
    post. One who returns posts again within the week with ``second_post`` and makes
    ``more_actions`` further actions on average over days 2 to 14 (Poisson); anyone may
    comment once more on their first day with ``first_day_comment``."""

    base_return: float = 0.30
    welcome_lift: float = 0.12
    welcome_within: timedelta = DAY
    second_post: float = 0.5
    more_actions: float = 3.0
    first_day_comment: float = 0.3

    def __post_init__(self) -> None:
        for name in ("base_return", "second_post", "first_day_comment"):
            value = getattr(self, name)
            if not (math.isfinite(value) and 0 <= value <= 1):
                raise ValueError(f"newcomers: {name} is a probability, not {value!r}")
        if not (
            math.isfinite(self.welcome_lift) and 0 <= self.base_return + self.welcome_lift <= 1
        ):
            raise ValueError("newcomers: base_return + welcome_lift must stay within [0, 1]")
        if not (math.isfinite(self.more_actions) and self.more_actions >= 0):
            raise ValueError("newcomers: more_actions is a finite number >= 0")

    def return_chance(self, first_comment_after: timedelta | None) -> float:
        """The chance of returning on days 2 to 7, given when the first comment came."""
        welcomed = first_comment_after is not None and first_comment_after <= self.welcome_within
        return self.base_return + (self.welcome_lift if welcomed else 0.0)

    def actions(
        self, rng: random.Random, first_post: datetime, first_comment_after: timedelta | None
    ) -> list[tuple[str, datetime]]:
        """What the newcomer does after their first post: (kind, when), kind ``post`` or
        ``comment``, in order."""
        done: list[tuple[str, datetime]] = []
        if rng.random() < self.first_day_comment:
            done.append(("comment", first_post + rng.uniform(0.05, 0.95) * DAY))
        if rng.random() < self.return_chance(first_comment_after):
            kind = "post" if rng.random() < self.second_post else "comment"
            done.append((kind, first_post + rng.uniform(1.0, 6.99) * DAY))
            for _ in range(_poisson(rng, self.more_actions)):
                kind = "post" if rng.random() < 0.3 else "comment"
                done.append((kind, first_post + rng.uniform(1.0, 13.99) * DAY))
        return sorted(done, key=lambda a: a[1])


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's product of uniforms: the means here are small)."""
    if mean <= 0:
        return 0
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k
