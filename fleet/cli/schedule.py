"""``fleet schedule``: see a persona's rhythm before it runs."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from fleet.cli.context import fleet_of
from fleet.cli.output import json_option, print_json
from fleet.core.clock import ActivityClock
from fleet.errors import InputError

_SHADES = ["grey23", "dark_green", "green4", "green3", "yellow3", "orange3", "red3"]


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


@click.group()
def schedule() -> None:
    """Inspect the personas' activity clocks."""


@schedule.command()
@click.option("--persona", "slug", required=True, help="Persona slug.")
@click.option("--days", type=click.IntRange(1, 28), default=7, show_default=True)
@click.option("--start", "start", help="First local day, YYYY-MM-DD (default: this week's Monday).")
@json_option
@click.pass_context
def preview(ctx: click.Context, slug: str, days: int, start: str | None, as_json: bool) -> None:
    """Expected ticks per local hour of one agent of a persona: a heatmap, or JSON."""
    persona = fleet_of(ctx, migrated=False).personas.get(slug)
    zone = ZoneInfo(persona.schedule.timezone)
    if start is None:
        today = datetime.now(zone).date()
        first = today - timedelta(days=today.weekday())
    else:
        try:
            first = date.fromisoformat(start)
        except ValueError:
            raise InputError(f"--start {start!r}: expected a date YYYY-MM-DD") from None
    clock = ActivityClock(persona.schedule)
    mean = (persona.interval.min_seconds + persona.interval.max_seconds) / 2
    hours: list[dict[str, Any]] = []
    for day, hour, lo, hi in _local_hours(zone, first, days):
        active = clock.active_seconds(lo, hi)
        hours.append(
            {
                "local_date": day.isoformat(),
                "local_hour": hour,
                "utc_start": lo.astimezone(ZoneInfo("UTC")).isoformat(),
                "multiplier": clock.multiplier(lo) if hi > lo else 0.0,
                "expected_ticks": round(active / mean, 3),
            }
        )
    if as_json:
        print_json(
            {
                "persona": slug,
                "timezone": persona.schedule.timezone,
                "mean_interval_seconds": mean,
                "hours": hours,
            }
        )
        return
    peak = max((h["expected_ticks"] for h in hours), default=0.0) or 1.0
    table = Table(
        title=f"{persona.display_name}: expected ticks per local hour ({persona.schedule.timezone})",
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
            value = float(h["expected_ticks"])
            shade = _SHADES[min(len(_SHADES) - 1, round(value / peak * (len(_SHADES) - 1)))]
            cells.append(Text(f"{value:>3.0f}" if value >= 0.5 else "  ·", style=f"on {shade}"))
        day = date.fromisoformat(str(row[0]["local_date"]))
        total = sum(float(h["expected_ticks"]) for h in row)
        table.add_row(day.strftime("%a %m-%d "), *cells, f"{total:>7.0f}")
    console = Console()
    if not console.is_terminal:
        console = Console(width=140)
    console.print(table)
    console.print(f"mean interval {mean:g} s of active time; · means under half a tick")
