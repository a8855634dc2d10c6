"""Each persona's week as its clock sees it, and what the fleet actually did per local
hour over the last seven days against what that clock expects."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from fleet import activities
from fleet.core.persona import Persona
from fleet.service.root import Fleet

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONDAY = datetime(2026, 1, 5)  # any Monday: the schedule repeats every week


@dataclass(frozen=True)
class PersonaRhythm:
    """One persona: ``week[day][hour]`` is m(t) at half past that local hour;
    ``actual[hour]`` actions begun in that local hour over the last seven days;
    ``expected[hour]`` the same total spread as the clock's multiplier says."""

    slug: str
    name: str
    timezone: str
    week: list[list[float]]
    actual: list[int]
    expected: list[float]


def rhythms(fleet: Fleet) -> list[PersonaRhythm]:
    """Every persona of the catalogue, in slug order."""
    now = fleet.clock.now()
    since = now - timedelta(days=7)
    done: dict[str, list[int]] = defaultdict(lambda: [0] * 24)
    for name, hour, count in activities.hourly_counts(fleet.sessions, since):
        if name in fleet.personas:
            local = hour.astimezone(fleet.personas.zone(name))
            done[name][local.hour] += count
    out = []
    for slug in sorted(fleet.personas.slugs()):
        persona = fleet.personas.get(slug)
        zone = fleet.personas.zone(persona.slug)
        clock = fleet.personas.clock(persona.slug)
        week = [
            [
                round(
                    clock.multiplier(
                        (MONDAY + timedelta(days=day, hours=hour, minutes=30)).replace(tzinfo=zone)
                    ),
                    2,
                )
                for hour in range(24)
            ]
            for day in range(7)
        ]
        # What the clock expects over the same seven days, hour by hour, in local hours.
        weight = [0.0] * 24
        at = since.replace(minute=30, second=0, microsecond=0)
        while at < now:
            weight[at.astimezone(zone).hour] += clock.multiplier(at)
            at += timedelta(hours=1)
        actual = done[persona.slug]
        total, mass = sum(actual), sum(weight)
        expected = [round(total * w / mass, 1) if mass else 0.0 for w in weight]
        out.append(
            PersonaRhythm(persona.slug, persona.display_name, str(zone), week, actual, expected)
        )
    return out


def rhythm_of(persona: Persona) -> str:
    """A persona's rhythm in a few words."""
    if persona.sessions is not None:
        x = persona.sessions
        return (
            f"{x.per_day:g} sessions/day at x1 of ~{x.mean_actions:g} actions "
            f"(<= {x.max_actions}), {x.gap_min_seconds:g}-{x.gap_max_seconds:g} s apart"
        )
    assert persona.interval is not None
    return f"every {persona.interval.min_seconds:g}-{persona.interval.max_seconds:g} s at x1"
