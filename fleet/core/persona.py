"""Persona archetypes as validated data.

A persona file says who an agent is (voice, interests, names), what it does (action
weights, the gap between actions) and when (a weekly schedule in its own timezone).
The model refuses what the first fleet got wrong: weights that do not sum to anything,
a schedule with no active time, overlapping windows.
"""

from __future__ import annotations

import itertools
import re
import string
from enum import StrEnum
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from fleet.core.voice import Voice

MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,47}$")]
_CLOCK = re.compile(r"^(?P<h>[01]\d|2[0-4]):(?P<m>[0-5]\d)$")


class Action(StrEnum):
    """What an agent can do on one tick."""

    POST = "post"
    COMMENT = "comment"
    LIKE = "like"
    BROWSE = "browse"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ActionWeights(_Strict):
    """Relative weights of the four actions; they are normalised, never cumulative."""

    post: float = Field(ge=0)
    comment: float = Field(ge=0)
    like: float = Field(ge=0)
    browse: float = Field(ge=0)

    @model_validator(mode="after")
    def _not_all_zero(self) -> ActionWeights:
        if self.total() <= 0:
            raise ValueError("weights sum to zero: at least one action needs a positive weight")
        return self

    def total(self) -> float:
        return self.post + self.comment + self.like + self.browse

    def normalised(self) -> dict[Action, float]:
        """Probabilities of each action, summing to 1."""
        total = self.total()
        return {
            Action.POST: self.post / total,
            Action.COMMENT: self.comment / total,
            Action.LIKE: self.like / total,
            Action.BROWSE: self.browse / total,
        }


class Interval(_Strict):
    """Bounds of the active time between two ticks, in seconds at multiplier 1."""

    # At most a week of active time at multiplier 1: beyond that an agent is simply off.
    min_seconds: float = Field(gt=0, le=7 * 24 * 3600, allow_inf_nan=False)
    max_seconds: float = Field(gt=0, le=7 * 24 * 3600, allow_inf_nan=False)

    @model_validator(mode="after")
    def _ordered(self) -> Interval:
        if self.min_seconds > self.max_seconds:
            raise ValueError(
                f"min_seconds ({self.min_seconds:g}) is above max_seconds ({self.max_seconds:g})"
            )
        return self


class Sessions(_Strict):
    """How a persona uses the app: in sessions, a few to a few dozen actions seconds apart.

    Session starts follow the activity clock: ``per_day`` of them per 24 hours of active
    time (the clock's ∫m) for an agent of activity level 1, so the hour-of-week profile
    of the starts is the schedule's. Inside a session the gaps are wall-clock seconds
    (a person in a session does not slow down because it is off-peak).
    """

    per_day: float = Field(gt=0, le=10_000, allow_inf_nan=False)
    mean_actions: float = Field(ge=1, allow_inf_nan=False)
    max_actions: int = Field(ge=1, le=1000)
    gap_min_seconds: float = Field(ge=1, allow_inf_nan=False)
    gap_max_seconds: float = Field(ge=1, le=3600, allow_inf_nan=False)
    # Spread (sigma of the log) of the activity level across agents; the median is 1.
    activity_spread: float = Field(default=1.0, ge=0, le=3, allow_inf_nan=False)

    @model_validator(mode="after")
    def _coherent(self) -> Sessions:
        if self.gap_min_seconds > self.gap_max_seconds:
            raise ValueError(
                f"gap_min_seconds ({self.gap_min_seconds:g}) is above "
                f"gap_max_seconds ({self.gap_max_seconds:g})"
            )
        # A heavy-tailed count on 1..max_actions is at most uniform: its mean is at most
        # the middle of the range (and exactly 1 when max_actions is 1).
        highest = (self.max_actions + 1) / 2
        if self.mean_actions > highest:
            raise ValueError(
                f"mean_actions ({self.mean_actions:g}) is above what a heavy-tailed count "
                f"capped at max_actions ({self.max_actions}) can have ({highest:g})"
            )
        return self


class Quotas(_Strict):
    """At most this many of each action per agent per local day; absent means no limit."""

    post: int | None = Field(default=None, ge=0)
    comment: int | None = Field(default=None, ge=0)
    like: int | None = Field(default=None, ge=0)
    browse: int | None = Field(default=None, ge=0)

    def limit(self, action: Action) -> int | None:
        value: int | None = getattr(self, action.value)
        return value


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


Word = Annotated[str, StringConstraints(min_length=1, max_length=40)]
Phrase = Annotated[str, StringConstraints(min_length=1, max_length=80)]
NAME_LENGTH = 80  # a display name at most, as the gallery shows it


class NameTemplates(_Strict):
    """Deterministic names: ``{adjective}`` and ``{noun}`` filled from the lists."""

    templates: tuple[Phrase, ...] = Field(min_length=1, max_length=100)
    adjectives: tuple[Word, ...] = Field(min_length=1, max_length=1000)
    nouns: tuple[Word, ...] = Field(min_length=1, max_length=1000)
    handle_prefix: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9]{1,11}$")]

    @field_validator("templates")
    @classmethod
    def _placeholders(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for template in value:
            try:
                fields = [
                    (name, spec, conversion)
                    for _, name, spec, conversion in string.Formatter().parse(template)
                    if name is not None
                ]
            except ValueError as error:
                raise ValueError(f"template {template!r}: {error}") from None
            for name, spec, conversion in fields:
                if name not in ("adjective", "noun") or spec or conversion:
                    shown = name + (f"!{conversion}" if conversion else "")
                    shown += f":{spec}" if spec else ""
                    raise ValueError(
                        f"template {template!r} uses {{{shown}}}; only {{adjective}} and "
                        "{noun} exist, with no format, conversion, attribute or index"
                    )
        return value

    @model_validator(mode="after")
    def _short_names(self) -> NameTemplates:
        adjective = max(self.adjectives, key=len)
        noun = max(self.nouns, key=len)
        for template in self.templates:
            longest = template.format(adjective=adjective, noun=noun)
            if len(longest) > NAME_LENGTH:
                raise ValueError(
                    f"template {template!r} makes names up to {len(longest)} characters long; "
                    f"at most {NAME_LENGTH}"
                )
        return self


class Persona(_Strict):
    """One archetype of simulated user."""

    slug: Slug
    display_name: str = Field(min_length=1, max_length=80)
    vibe: str = Field(min_length=1, max_length=40)
    personality: str = Field(min_length=1, max_length=4000)
    selection_weight: float = Field(gt=0, default=1.0)
    interests: tuple[Phrase, ...] = Field(min_length=1, max_length=100)
    workflow_styles: tuple[Phrase, ...] = Field(min_length=1, max_length=100)
    names: NameTemplates
    weights: ActionWeights
    # The rhythm: human sessions, or (for load tests and tickers) one action every
    # ``interval`` seconds of active time. Exactly one of the two.
    sessions: Sessions | None = None
    interval: Interval | None = None
    quotas: Quotas = Quotas()
    schedule: Schedule
    voice: Voice | None = None  # the offline writer's words; a general voice when absent

    @model_validator(mode="after")
    def _one_rhythm(self) -> Persona:
        if (self.sessions is None) == (self.interval is None):
            raise ValueError(
                "give exactly one rhythm: [sessions] (people) or [interval] (a steady ticker)"
            )
        possible = [
            action
            for action in Action
            if self.quotas.limit(action) != 0
            and (
                getattr(self.weights, action.value) > 0
                or (action is Action.BROWSE and self.sessions is not None)
            )
        ]
        if not possible:
            raise ValueError(
                "quotas make every action impossible: each action with a weight has a quota of 0"
            )
        return self

    @model_validator(mode="after")
    def _voice_tags_its_words(self) -> Persona:
        for slot, given in (("interest", self.interests), ("style", self.workflow_styles)):
            if self.voice is None or slot not in self.voice.words:
                continue
            tagged = {word for word, _ in self.voice.all_words(slot)}
            if tagged != set(given):
                raise ValueError(
                    f"voice.words.{slot} must tag each {slot} of the persona once: untagged "
                    f"{sorted(set(given) - tagged)}, unknown {sorted(tagged - set(given))}"
                )
        return self


__all__ = [
    "DAYS",
    "MINUTES_PER_DAY",
    "MINUTES_PER_WEEK",
    "Action",
    "ActionWeights",
    "Interval",
    "NameTemplates",
    "PeakWindow",
    "Persona",
    "Quotas",
    "Schedule",
    "Sessions",
    "Window",
]
