"""``fleet schedule``: see a persona's rhythm, or one agent's day, before it runs."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from fleet.cli.context import fleet_as_is, fleet_of
from fleet.cli.output import as_json, echo, json_option, print_json, print_table
from fleet.core.activity_clock import ActivityClock
from fleet.core.activity_level import mean_daily_rates
from fleet.core.persona import Action, Persona
from fleet.core.timeline import simulate
from fleet.errors import InputError
from fleet.infra.persona_files import PersonaCatalogue
from fleet.service.schedule import agent_day, day_bounds, first_monday

_SHADES = ["grey23", "dark_green", "green4", "green3", "yellow3", "orange3", "red3"]
# Agents simulated for the expected actions per local day by kind (quotas included).
SAMPLE_AGENTS = 200


def _local_hours(
    zone: ZoneInfo, first: date, days: int
) -> list[tuple[date, int, datetime, datetime]]:
    """Each local clock hour of ``days`` days: (day, hour, start, end), aware datetimes."""
    out = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        for hour in range(24):
            start = datetime(day.year, day.month, day.day, hour, tzinfo=zone)
            end = start.replace(tzinfo=None) + timedelta(hours=1)
            out.append((day, hour, start, end.replace(tzinfo=zone)))
    return out


def _rate_per_active_second(persona: Persona, clock: ActivityClock) -> tuple[float, float, str]:
    """(expected sessions, expected actions) per active second for the mean agent, and the
    unit the heatmap counts in."""
    if persona.sessions is not None:
        sessions, actions = mean_daily_rates(persona.sessions, clock)
        return sessions / 86_400, actions / 86_400, "actions"
    assert persona.interval is not None
    ticks = 2 / (persona.interval.min_seconds + persona.interval.max_seconds)
    return ticks, ticks, "ticks"


def _expected_days(
    catalogue: PersonaCatalogue, persona: Persona, first: date, days: int
) -> list[dict[str, Any]]:
    """Mean sessions and actions by kind per local day over a sample of agents (their
    seeds drawn as ``fleet agents create`` would), with the daily quotas applied."""
    zone = ZoneInfo(persona.schedule.timezone)
    start, _ = day_bounds(zone, first)
    _, end = day_bounds(zone, first + timedelta(days=days - 1))
    per_day: dict[str, Counter[str]] = {}
    for index in range(SAMPLE_AGENTS):
        rhythm = catalogue.cadences[persona.slug].rhythm(1_000_003 * (index + 1))
        seen: set[tuple[str, int]] = set()
        for tick in simulate(persona, rhythm, start, end):
            day = datetime.fromtimestamp(tick.due, zone).date().isoformat()
            counts = per_day.setdefault(day, Counter())
            if (day, tick.opened) not in seen:
                seen.add((day, tick.opened))
                counts["sessions"] += 1
            if tick.action is not None:
                counts[tick.action.value] += 1
    out = []
    for offset in range(days):
        day = (first + timedelta(days=offset)).isoformat()
        counts = per_day.get(day, Counter())
        row: dict[str, Any] = {"local_date": day}
        for name in ["sessions", *(a.value for a in Action)]:
            row[name] = round(counts[name] / SAMPLE_AGENTS, 2)
        row["actions"] = round(sum(counts[a.value] for a in Action) / SAMPLE_AGENTS, 2)
        out.append(row)
    return out


@click.group()
def schedule() -> None:
    """Inspect the personas' activity clocks and an agent's simulated day."""


@schedule.command()
@click.option("--persona", "slug", help="Persona slug.")
@click.option("--agent", "agent_ref", help="An agent (id or handle): its simulated day.")
@click.option("--days", type=click.IntRange(1, 28), default=7, show_default=True)
@click.option("--start", "start", help="First local day, YYYY-MM-DD (default: this week's Monday).")
@json_option
@click.pass_context
def preview(
    ctx: click.Context,
    slug: str | None,
    agent_ref: str | None,
    days: int,
    start: str | None,
) -> None:
    """Expected sessions and actions of a persona per local hour and day, or (--agent) one
    agent's simulated timeline for a day (its sessions, actions and gaps)."""
    if (slug is None) == (agent_ref is None):
        raise InputError("give --persona SLUG or --agent ID (one of the two)")
    if agent_ref is not None:
        _agent_day(ctx, agent_ref, start)
        return
    assert slug is not None
    _persona_days(ctx, slug, days, start)


def _persona_days(ctx: click.Context, slug: str, days: int, start: str | None) -> None:
    """A persona's expected sessions and actions per local hour (a heatmap) and per day."""
    catalogue = fleet_as_is(ctx).personas
    persona = catalogue.get(slug)
    zone = ZoneInfo(persona.schedule.timezone)
    first = first_monday(zone, start)
    clock = catalogue.clock(slug)
    sessions_rate, actions_rate, unit = _rate_per_active_second(persona, clock)
    hours = [
        _expected_hour(clock, day, hour, (lo, hi), (sessions_rate, actions_rate))
        for day, hour, lo, hi in _local_hours(zone, first, days)
    ]
    by_day = _expected_days(catalogue, persona, first, days)
    if as_json(ctx):
        print_json(
            {
                "persona": slug,
                "timezone": persona.schedule.timezone,
                "rhythm": "sessions" if persona.sessions is not None else "steady",
                "quotas": persona.quotas.as_dict(),
                "sample_agents": SAMPLE_AGENTS,
                "hours": hours,
                "days": by_day,
            }
        )
        return
    _heatmap(persona, hours, days, unit)
    print_table(
        f"Per local day, the mean of {SAMPLE_AGENTS} agents (activity levels as drawn, "
        "daily quotas applied)",
        ["day", "sessions", *(a.value for a in Action), "actions"],
        [
            (
                date.fromisoformat(row["local_date"]).strftime("%a %m-%d"),
                f"{row['sessions']:.1f}",
                *(f"{row[a.value]:.1f}" for a in Action),
                f"{row['actions']:.1f}",
            )
            for row in by_day
        ],
    )


def _expected_hour(
    clock: ActivityClock,
    day: date,
    hour: int,
    span: tuple[datetime, datetime],
    rates: tuple[float, float],
) -> dict[str, Any]:
    """One local hour: its multiplier and the mean agent's expected sessions and actions
    (``rates``: per active second)."""
    lo, hi = span
    active = clock.active_seconds(lo, hi)
    sessions_rate, actions_rate = rates
    return {
        "local_date": day.isoformat(),
        "local_hour": hour,
        "utc_start": lo.astimezone(ZoneInfo("UTC")).isoformat(),
        "multiplier": clock.multiplier(lo) if hi > lo else 0.0,
        "expected_sessions": round(active * sessions_rate, 3),
        "expected_actions": round(active * actions_rate, 3),
    }


def _heatmap(persona: Persona, hours: list[dict[str, Any]], days: int, unit: str) -> None:
    peak = max((h["expected_actions"] for h in hours), default=0.0) or 1.0
    table = Table(
        title=f"{persona.display_name}: expected {unit} per local hour, mean agent "
        f"({persona.schedule.timezone})",
        title_justify="left",
        show_lines=False,
        pad_edge=False,
        padding=(0, 0),
    )
    table.add_column("day", no_wrap=True)
    for hour in range(24):
        table.add_column(f"{hour:>3}", justify="right", no_wrap=True)
    table.add_column("  total", justify="right", no_wrap=True)
    for index in range(days):
        row = hours[index * 24 : index * 24 + 24]
        cells = []
        for h in row:
            value = float(h["expected_actions"])
            shade = _SHADES[min(len(_SHADES) - 1, round(value / peak * (len(_SHADES) - 1)))]
            cells.append(Text(f"{value:>3.0f}" if value >= 0.5 else "  ·", style=f"on {shade}"))
        day = date.fromisoformat(str(row[0]["local_date"]))
        total = sum(float(h["expected_actions"]) for h in row)
        table.add_row(day.strftime("%a %m-%d "), *cells, f"{total:>7.0f}")
    console = Console()
    if not console.is_terminal:
        console = Console(width=140)
    console.print(table)
    console.print("· means under half of one; sessions per hour are in --json")


def _agent_day(ctx: click.Context, ref: str, start: str | None) -> None:
    seen = agent_day(fleet_of(ctx), ref, start)
    events = [{k: v for k, v in e.items() if k not in ("opens", "opened")} for e in seen.ticks]
    if as_json(ctx):
        print_json({**seen.summary(), "ticks": events})
        return
    agent, day = seen.agent, seen.local_date
    echo(
        f"{agent.handle} ({agent.persona}, activity {seen.activity_level:.2f}), "
        f"{day:%a %Y-%m-%d} in {seen.timezone}: "
        f"{len(seen.session_sizes)} sessions, {len(events)} actions "
        f"({', '.join(f'{n} {kind}' for kind, n in seen.actions.items())})"
    )
    for event in seen.ticks:
        gap = event["gap_seconds"]
        opens = event["opens"]
        if opens:
            after = "" if gap is None else f", {_duration(gap)} after the last action"
            echo(
                f"session {event['session']} at {event['local_time']}: "
                f"{seen.session_sizes[event['opened']]} action(s){after}"
            )
        step = "" if gap is None or opens else f"+{_duration(gap)}"
        action = event["action"] or "nothing (quotas spent)"
        note = f"  ({event['reason']})" if event["reason"] else ""
        echo(f"  {event['local_time']}  {action:<8} {step:>7}{note}")


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"
