"""The weekly report as one self-contained HTML page (styles inline, charts as inline
SVG): the console's /report and ``fleet report --out``."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from fleet.console import charts
from fleet.core.kinds import ACTION_NAMES
from fleet.errors import InputError
from fleet.impact import use_cases as impact
from fleet.service import report
from fleet.service.root import Fleet

HERE = Path(__file__).parent


def checked_week(week: str) -> str:
    """``week`` if it is an ISO week whose days a date can hold; else InputError naming
    it (9999-W52 ends past the last date)."""
    try:
        report.week_bounds(week)
    except OverflowError:
        raise InputError(f"week {week[:40]!r}: past the last date there is") from None
    return week


def render(fleet: Fleet, week: str, *, in_console: bool = False) -> str:
    """The page of ``week`` (InputError for a malformed week)."""
    seen = report.weekly(fleet, checked_week(week))
    chart = volume = None
    if not seen.empty:
        names = [p.slug for p in seen.personas]
        chart = charts.stacked_bars(
            f"Actions that succeeded, {seen.week}",
            names,
            {kind: [p.succeeded(kind) for p in seen.personas] for kind in ACTION_NAMES},
            height=320,
        )
        if any(p.target for p in seen.personas):
            volume = charts.side_by_side(
                f"The fleet's actions by kind against the target, {seen.week}",
                list(ACTION_NAMES),
                {
                    "done": [
                        float(sum(p.succeeded(k) for p in seen.personas)) for k in ACTION_NAMES
                    ],
                    "target": [
                        round(sum(p.target.get(k, 0.0) for p in seen.personas), 1)
                        for k in ACTION_NAMES
                    ],
                },
            )
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True)
    )
    css = Markup((HERE / "static" / "console.css").read_text(encoding="utf-8"))
    return env.get_template("report.html").render(
        r=seen,
        im=impact.impact_report(fleet),
        chart=chart,
        volume=volume,
        kinds=ACTION_NAMES,
        css=css,
        in_console=in_console,
        status_total=_status_total,
    )


def _status_total(persona: report.PersonaWeek, status: str) -> int:
    return sum(by.get(status, 0) for by in persona.actions.values())
