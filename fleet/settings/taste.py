"""How agents choose what to like and comment on, and the fleet's welcome of people's posts."""

from __future__ import annotations

import math
from dataclasses import fields
from typing import Any, Literal

from pydantic import Field, field_validator

from fleet.core.taste import Weights, Welcome
from fleet.settings.base import _Nested

# The defaults are the core's (``fleet.core.taste``), written once there; here, the bounds
# a configured value must keep and how the environment spells it.
_WEIGHTS = Weights()
_WELCOME = Welcome()

# The largest weight of a part of taste: a score sums a few parts of order 1-10 (a fit of
# a few standard deviations, log2 of a post's likes), so 100 lets one part outweigh all
# the others, and no score can overflow (1e308 made every score inf - inf, NaN, and no
# like could be drawn).
WEIGHT = 100.0


class TasteSettings(_Nested):
    """How agents pick what to like and comment on (``fleet.core.taste``)."""

    fit: float = Field(default=_WEIGHTS.fit, ge=0, le=WEIGHT, allow_inf_nan=False)
    popularity: float = Field(default=_WEIGHTS.popularity, ge=0, le=WEIGHT, allow_inf_nan=False)
    # A post's appeal, the part of taste every viewer shares (``fleet.core.taste.appeal``).
    appeal: float = Field(default=_WEIGHTS.appeal, ge=0, le=WEIGHT, allow_inf_nan=False)
    freshness: float = Field(default=_WEIGHTS.freshness, ge=0, le=WEIGHT, allow_inf_nan=False)
    tie: float = Field(default=_WEIGHTS.tie, ge=0, le=WEIGHT, allow_inf_nan=False)
    # Ties in a comment's choice (a comment keeps up a relationship).
    comment_tie: float = Field(default=_WEIGHTS.comment_tie, ge=0, le=WEIGHT, allow_inf_nan=False)
    # A person's post within its welcome budget (``FLEET_WELCOME__*``), in proportion
    # to the budget left.
    welcome: float = Field(default=_WEIGHTS.welcome, ge=0, le=WEIGHT, allow_inf_nan=False)
    # How often a like goes first to a post by a person the agent answered (0: never).
    courtesy: float = Field(default=_WEIGHTS.courtesy, ge=0, le=1)
    half_life_hours: float = Field(
        default=_WEIGHTS.half_life_hours, gt=0, le=24 * 365, allow_inf_nan=False
    )
    temperature: float = Field(default=_WEIGHTS.temperature, gt=0, le=100, allow_inf_nan=False)
    explore: float = Field(default=_WEIGHTS.explore, ge=0, le=1)
    # A like passes the page over rather than take a post scoring far below this
    # (``fleet.core.taste.draw``); none: a like always takes a post.
    pass_over: float | None = Field(default=_WEIGHTS.pass_over, ge=-100, le=100)

    @field_validator("pass_over", mode="before")
    @classmethod
    def _no_pass_over(cls, value: object) -> object:
        """``none`` (or empty): a like always takes a post."""
        return None if isinstance(value, str) and value.strip().lower() in {"", "none"} else value

    # How far down the feeds one action looks, on average (``fleet.core.taste.seen``):
    # none, everything read is seen.
    scroll: float | None = Field(default=_WEIGHTS.scroll, ge=1, le=1000)

    @field_validator("scroll", mode="before")
    @classmethod
    def _no_scroll(cls, value: object) -> object:
        """``none`` (or empty): an action sees all the feeds' pages."""
        return None if isinstance(value, str) and value.strip().lower() in {"", "none"} else value

    # The feeds a person scrolls, and how far down each: every post on them is a candidate.
    # At least one: with none, no post is ever a candidate and every like and comment stops.
    sorts: tuple[Literal["recent", "popular", "trending"], ...] = Field(
        default=("recent", "popular", "trending"), min_length=1
    )
    page_size: int = Field(default=50, ge=1, le=100)

    def weights(self, *, person: float) -> Weights:
        """Taste's weights as the core takes them, a person's post weighing ``person`` more
        (the composition root derives it from the persona's ``human_share``)."""
        return Weights(person=person, **_same_fields(self, Weights, skip={"person"}))


class WelcomeSettings(_Nested):
    """The fleet's budget on a person's post by its age (``fleet.core.taste.Welcome``):
    JSON lists of [hours, count] steps, e.g. FLEET_WELCOME__COMMENTS='[[1,1],[6,3],[24,5]]'.
    All counts 0: the fleet leaves people's posts alone."""

    likes: tuple[tuple[float, int], ...] = _WELCOME.likes
    comments: tuple[tuple[float, int], ...] = _WELCOME.comments
    likes_per_day_after: int = Field(default=_WELCOME.likes_per_day_after, ge=0, le=10_000)
    comments_per_day_after: int = Field(default=_WELCOME.comments_per_day_after, ge=0, le=10_000)
    # A person's post with no comment yet is greeted by the next agent that comments,
    # from this many minutes after it was posted.
    greet_after_minutes: float = Field(default=_WELCOME.greet_after_minutes, ge=0, le=1440)
    # A person's post nobody has liked yet is liked by the next agent of a persona it
    # fits whose like sees it.
    first_like: bool = _WELCOME.first_like
    # Stepping back as people arrive (``fleet.core.pace``): the fleet's share of all
    # activity once people are as active as the whole fleet (0.5: never step back), the
    # lowest pace it steps back to, and how often the pace is measured.
    target_bot_share: float = Field(default=1 / 3, gt=0, le=0.5)
    min_pace: float = Field(default=0.1, gt=0, le=1)
    pace_every_seconds: float = Field(default=600.0, ge=10, le=86_400)

    @field_validator("likes", "comments")
    @classmethod
    def _steps(cls, steps: tuple[tuple[float, int], ...]) -> tuple[tuple[float, int], ...]:
        if not steps:
            raise ValueError("at least one [hours, count] step")
        for hours, count in steps:
            if not (math.isfinite(hours) and 0 < hours <= 24 * 365) or not 0 <= count <= 10_000:
                raise ValueError(
                    f"a step is [hours in (0, 8760], count in 0..10000], not [{hours}, {count}]"
                )
        if list(steps) != sorted(steps):
            raise ValueError("steps in order of their hours")
        return steps

    def budget(self) -> Welcome:
        """The welcome budget as the core takes it."""
        return Welcome(**_same_fields(self, Welcome))


def _same_fields(
    settings: _Nested, core: type, skip: frozenset[str] | set[str] = frozenset()
) -> dict[str, Any]:
    """The values of ``settings`` named as the fields of the core's dataclass ``core``."""
    return {f.name: getattr(settings, f.name) for f in fields(core) if f.name not in skip}
