"""The weekly report: per persona, actions by kind against what its clock expects,
LLM tokens and cost, and the week's dead letters with their reasons."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from fleet import activities
from fleet.errors import InputError
from fleet.service.root import Fleet

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass
class PersonaWeek:
    """One persona's week."""

    slug: str
    actions: dict[str, dict[str, int]] = field(default_factory=dict)
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0

    def succeeded(self, kind: str) -> int:
        return self.actions.get(kind, {}).get("succeeded", 0)

    @property
    def total(self) -> int:
        return sum(sum(by.values()) for by in self.actions.values())


@dataclass
class WeekReport:
    """The fleet's ISO week: per persona, and the dead letters by reason."""

    week: str
    start: datetime
    end: datetime
    personas: list[PersonaWeek]
    dead_letters: list[tuple[str, str, int]]

    @property
    def empty(self) -> bool:
        return not any(p.total for p in self.personas) and not self.dead_letters


def week_bounds(week: str) -> tuple[datetime, datetime]:
    """Monday 00:00 UTC of an ISO week (``2026-W47``) and the Monday after; InputError
    for anything else."""
    found = _WEEK.match(week.strip())
    if not found:
        raise InputError(f"week {week!r}: expected an ISO week like 2026-W47")
    try:
        monday = date.fromisocalendar(int(found[1]), int(found[2]), 1)
    except ValueError as error:
        raise InputError(f"week {week!r}: {error}") from None
    start = datetime(monday.year, monday.month, monday.day, tzinfo=UTC)
    return start, start + timedelta(days=7)


def weekly(fleet: Fleet, week: str) -> WeekReport:
    """The report of ``week`` (every persona of the catalogue, active or not)."""
    start, end = week_bounds(week)
    counts, usage = activities.week_outcomes(fleet.sessions, start, end)
    by: dict[str, PersonaWeek] = {slug: PersonaWeek(slug) for slug in fleet.personas.slugs()}
    for persona, action, status, count in counts:
        row = by.setdefault(persona, PersonaWeek(persona))
        row.actions.setdefault(action, {})[status] = count
    for persona, spent in usage:
        row = by.setdefault(persona, PersonaWeek(persona))
        row.input_tokens += int(spent.get("input_tokens", 0) or 0)  # type: ignore[call-overload]
        row.output_tokens += int(spent.get("output_tokens", 0) or 0)  # type: ignore[call-overload]
        row.cost_usd += float(spent.get("cost_usd", 0.0) or 0.0)  # type: ignore[arg-type]
    letters = activities.dead_letter_reasons(fleet.sessions, start, end)
    return WeekReport(week.strip(), start, end, [by[k] for k in sorted(by)], letters)


def this_week(fleet: Fleet) -> str:
    """The ISO week of the fleet's clock now (``2026-W47``)."""
    year, number, _ = fleet.clock.now().isocalendar()
    return f"{year}-W{number:02d}"
