"""A persona's weekly schedule: its timezone, peak windows with their multipliers, the
off-peak level and dormant nights, validated (no overlap, some active time)."""

from __future__ import annotations

import itertools
import re
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_CLOCK = re.compile(r"^(?P<h>[01]\d|2[0-4]):(?P<m>[0-5]\d)$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _minutes(value: str) -> int:
    match = _CLOCK.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a clock time HH:MM between 00:00 and 24:00")
    minutes = int(match["h"]) * 60 + int(match["m"])
    if minutes > MINUTES_PER_DAY:
        raise ValueError(f"{value!r} is past 24:00")
    return minutes


class Window(_Strict):
    """A span of local clock time on some days of the week.

    ``end`` at or before ``start`` means the window runs past midnight into the next
    day (``18:00``-``02:00`` on Friday ends on Saturday at two).
    """

    days: tuple[Day, ...] = Field(min_length=1)
    start: str
    end: str

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        _minutes(value)
        return value

    @field_validator("days")
    @classmethod
    def _distinct(cls, value: tuple[Day, ...]) -> tuple[Day, ...]:
        if len(set(value)) != len(value):
            raise ValueError("a day is listed twice")
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> Window:
        if _minutes(self.start) % MINUTES_PER_DAY == _minutes(self.end) % MINUTES_PER_DAY and not (
            self.start == "00:00" and self.end == "24:00"
        ):
            raise ValueError(
                f"window {self.start}-{self.end} is ambiguous: use 00:00-24:00 for a whole day"
            )
        return self

    def spans(self) -> list[tuple[int, int]]:
        """Minute-of-week spans [start, end) it covers; a span may end past the week."""
        start, end = _minutes(self.start), _minutes(self.end)
        length = end - start if end > start else end + MINUTES_PER_DAY - start
        out = []
        for day in self.days:
            begin = DAYS.index(day) * MINUTES_PER_DAY + start
            out.append((begin, begin + length))
        return out


class PeakWindow(Window):
    """A window where the agent acts ``multiplier`` times faster than at multiplier 1."""

    multiplier: float = Field(gt=0, le=100)


class Schedule(_Strict):
    """When a persona is awake: peak windows, dormant windows, off-peak elsewhere."""

    timezone: str
    off_peak: float = Field(ge=0, le=100)
    peaks: tuple[PeakWindow, ...] = ()
    dormant: tuple[Window, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA timezone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _coherent(self) -> Schedule:
        spans: list[tuple[int, int, str]] = []
        for kind, windows in (("peak", self.peaks), ("dormant", self.dormant)):
            for window in windows:
                label = f"{kind} {window.start}-{window.end} on {','.join(window.days)}"
                spans.extend((a, b, label) for a, b in window.spans())
        # Compare on the circle of the week: unroll every span that runs past Sunday.
        unrolled = []
        for a, b, label in spans:
            if b > MINUTES_PER_WEEK:
                unrolled.append((a, MINUTES_PER_WEEK, label))
                unrolled.append((0, b - MINUTES_PER_WEEK, label))
            else:
                unrolled.append((a, b, label))
        unrolled.sort()
        for (_a1, b1, l1), (a2, _b2, l2) in itertools.pairwise(unrolled):
            if a2 < b1:
                day, minute = divmod(a2, MINUTES_PER_DAY)
                raise ValueError(
                    f"windows overlap: {l1} and {l2} both cover "
                    f"{DAYS[day]} {minute // 60:02d}:{minute % 60:02d}"
                )
        if self.active_minutes_per_week() <= 0:
            raise ValueError("the schedule has no active time in a week")
        return self

    def weekly_profile(self) -> list[tuple[int, int, float]]:
        """The week as sorted, gap-free minute spans [start, end) with their multiplier."""
        marks: list[tuple[int, int, float]] = []
        for peak in self.peaks:
            marks.extend((a, b, peak.multiplier) for a, b in peak.spans())
        for window in self.dormant:
            marks.extend((a, b, 0.0) for a, b in window.spans())
        pieces: list[tuple[int, int, float]] = []
        for a, b, m in marks:
            if b > MINUTES_PER_WEEK:
                pieces.append((a, MINUTES_PER_WEEK, m))
                pieces.append((0, b - MINUTES_PER_WEEK, m))
            else:
                pieces.append((a, b, m))
        pieces.sort()
        profile: list[tuple[int, int, float]] = []
        cursor = 0
        for a, b, m in pieces:
            if a > cursor:
                profile.append((cursor, a, self.off_peak))
            profile.append((a, b, m))
            cursor = b
        if cursor < MINUTES_PER_WEEK:
            profile.append((cursor, MINUTES_PER_WEEK, self.off_peak))
        return profile

    def active_minutes_per_week(self) -> float:
        """Integral of the multiplier over one week, in minutes."""
        return sum((b - a) * m for a, b, m in self.weekly_profile())


__all__ = ["DAYS", "MINUTES_PER_DAY", "MINUTES_PER_WEEK", "Day", "PeakWindow", "Schedule", "Window"]
