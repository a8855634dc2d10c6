"""Persona archetypes as validated data.

A persona file says who an agent is (voice, interests, names), what it does (action
weights, the gap between actions) and when (a weekly schedule in its own timezone).
The model refuses what the first fleet got wrong: weights that do not sum to anything,
a schedule with no active time, overlapping windows.
"""

from __future__ import annotations

import functools
import math
import random
import string
from collections.abc import Callable, Mapping
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from fleet.core.kinds import ACTION_NAMES, Action
from fleet.core.schedule import (
    DAYS,
    MINUTES_PER_DAY,
    MINUTES_PER_WEEK,
    PeakWindow,
    Schedule,
    Window,
)
from fleet.core.voice import Voice

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
    "choose_action",
    "effective_interval",
    "effective_weights",
]

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,47}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _per_kind(data: Any, what: str, check: Callable[[Any], bool]) -> tuple[Any, ...]:
    """A table named by action (``{"post": 1, ...}``) as a tuple in the registry's order;
    an unknown action or a value ``check`` refuses is a ValueError naming it."""
    if not isinstance(data, Mapping):
        raise ValueError(f"{what} are a table of action = value, not {type(data).__name__}")
    for name, value in data.items():
        if name not in ACTION_NAMES:
            raise ValueError(f"unknown action {name!r}: the actions are {', '.join(ACTION_NAMES)}")
        if not check(value):
            raise ValueError(f"{name} = {value!r} is not a valid {what[:-1]}")
    return tuple(data.get(name) for name in ACTION_NAMES)


def _weight(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )


def _quota(value: Any) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0)


class ActionWeights(_Strict):
    """Relative weights of the actions of ``fleet.core.kinds``, by name (an action left
    out weighs 0); they are normalised, never cumulative."""

    shares: tuple[float, ...]

    @model_validator(mode="before")
    @classmethod
    def _by_name(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and set(data) == {"shares"}:
            return data
        shares = _per_kind(data, "weights", _weight)
        return {"shares": tuple(float(share or 0) for share in shares)}

    @model_validator(mode="after")
    def _not_all_zero(self) -> ActionWeights:
        if self.total() <= 0:
            raise ValueError("weights sum to zero: at least one action needs a positive weight")
        return self

    def weight(self, action: Action) -> float:
        return self.shares[ACTION_NAMES.index(action.value)]

    def as_dict(self) -> dict[str, float]:
        return dict(zip(ACTION_NAMES, self.shares, strict=True))

    def total(self) -> float:
        return sum(self.shares)

    def normalised(self) -> dict[Action, float]:
        """Probabilities of each action, summing to 1."""
        return dict(_probabilities(self.shares))


@functools.lru_cache(maxsize=256)
def _probabilities(shares: tuple[float, ...]) -> tuple[tuple[Action, float], ...]:
    """Each action's probability, in the registry's order, for these (validated) shares:
    worked out once per set of weights in a process, not at every tick that draws."""
    total = sum(shares)
    return tuple(
        (Action(name), share / total) for name, share in zip(ACTION_NAMES, shares, strict=True)
    )


class Interval(_Strict):
    """Bounds of the active time between two ticks, in seconds at multiplier 1."""

    # At most a week of active time at multiplier 1: beyond that an agent is simply off.
    # At least a second: ticks are named by their whole UTC second.
    min_seconds: float = Field(ge=1, le=7 * 24 * 3600, allow_inf_nan=False)
    max_seconds: float = Field(ge=1, le=7 * 24 * 3600, allow_inf_nan=False)

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

    # Bounded to what a person could do (the archetypes: 16-24 a day, up to 40 actions):
    # beyond, a day of preview or of work is millions of actions.
    per_day: float = Field(gt=0, le=100, allow_inf_nan=False)
    mean_actions: float = Field(ge=1, le=50, allow_inf_nan=False)
    max_actions: int = Field(ge=1, le=200)
    gap_min_seconds: float = Field(ge=1, le=3600, allow_inf_nan=False)
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

    limits: tuple[int | None, ...] = (None,) * len(ACTION_NAMES)

    @model_validator(mode="before")
    @classmethod
    def _by_name(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and set(data) == {"limits"}:
            return data
        return {"limits": _per_kind(data, "quotas", _quota)}

    @functools.cached_property
    def by_action(self) -> dict[Action, int | None]:
        """Each action's limit (None: none), made once per quotas: a tick's check reads
        it, not a search of the registry for the action's place in ``limits``."""
        return {Action(name): q for name, q in zip(ACTION_NAMES, self.limits, strict=True)}

    def limit(self, action: Action) -> int | None:
        return self.by_action[action]

    def as_dict(self) -> dict[str, int]:
        """The quotas set, by action name."""
        return {n: q for n, q in zip(ACTION_NAMES, self.limits, strict=True) if q is not None}


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
    selection_weight: float = Field(gt=0, le=1000, default=1.0, allow_inf_nan=False)
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
                self.weights.weight(action) > 0
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


# What an agent does on a tick, and the persona values an agent may override.


def effective_weights(persona: Persona, override: Mapping[str, float] | None) -> ActionWeights:
    """The persona's action weights with the agent's overrides applied: validated once per
    (persona's weights, override) in a process, not at each of the agent's ticks."""
    if not override:
        return persona.weights
    # Each value's type in the key: True (refused) and 1 (a weight) are equal and hash alike.
    values = override.values()
    given = tuple(sorted(zip(override, map(type, values), values, strict=True)))
    try:
        hash(given)
    except TypeError:  # a value no number (refused below): validated as it is
        return _overridden_now(persona.weights.shares, dict(override))
    return _overridden(persona.weights.shares, given)


@functools.lru_cache(maxsize=1024)
def _overridden(
    shares: tuple[float, ...], override: tuple[tuple[str, type, Any], ...]
) -> ActionWeights:
    return _overridden_now(shares, {name: value for name, _, value in override})


def _overridden_now(shares: tuple[float, ...], override: Mapping[str, Any]) -> ActionWeights:
    return ActionWeights.model_validate(
        {**dict(zip(ACTION_NAMES, shares, strict=True)), **override}
    )


def effective_interval(
    persona: Persona, min_seconds: float | None, max_seconds: float | None
) -> Interval | None:
    """The agent's own steady interval, else the persona's (None: the persona has sessions)."""
    if min_seconds is None or max_seconds is None:
        return persona.interval
    return Interval(min_seconds=min_seconds, max_seconds=max_seconds)


def choose_action(weights: ActionWeights, rng: random.Random) -> Action:
    """One action drawn with the normalised weights (browse included)."""
    draw = rng.random()
    cumulative = 0.0
    chosen = Action.BROWSE
    for action, probability in _probabilities(weights.shares):
        if probability <= 0:
            continue
        chosen = action
        cumulative += probability
        if draw < cumulative:
            return action
    # Rounding can leave the cumulative sum a hair below 1: the last positive action wins.
    return chosen
