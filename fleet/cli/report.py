"""``fleet report``: the weekly report as one self-contained HTML page."""

from __future__ import annotations

from pathlib import Path

import click

from fleet.cli.context import fleet_of
from fleet.cli.output import echo


@click.command()
@click.option("--week", help="An ISO week: 2026-W47 (default: this week).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the page here (default: stdout).",
)
@click.pass_context
def report(ctx: click.Context, week: str | None, out: Path | None) -> None:
    """Per persona: actions by kind, LLM tokens and cost, dead letters and their reasons."""
    from fleet.console.report import checked_week, render
    from fleet.service import report as use

    fleet = fleet_of(ctx)
    chosen = checked_week(week or use.this_week(fleet))
    seen = use.weekly(fleet, chosen)
    html = render(fleet, chosen)
    if out is None:
        echo(html)
        return
    out.write_text(html, encoding="utf-8")
    said = f"no activity in week {seen.week}" if seen.empty else f"week {seen.week}"
    echo(f"wrote {out}: {said}", err=True)
