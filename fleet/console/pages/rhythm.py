"""The personas' weekly schedules against what the fleet did, and the weekly report."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from fleet.console import charts
from fleet.console import report as weekly_page
from fleet.console.web import web_of
from fleet.errors import InputError
from fleet.service import report, rhythm


def personas(request: Request) -> Response:
    web = web_of(request)
    fleet = web.fleet
    rows = []
    for r in rhythm.rhythms(fleet):
        chart = charts.against(
            "Actions per local hour, last 7 days",
            [f"{h:02d}" for h in range(24)],
            {"actual": [float(n) for n in r.actual], "the clock expects": r.expected},
        )
        rows.append((r, chart, fleet.personas.get(r.slug)))
    return web.page(
        request,
        "personas.html",
        rows=rows,
        days=rhythm.DAYS,
        shade=shade,
        rhythm_of=rhythm.rhythm_of,
    )


def weekly(request: Request) -> Response:
    web = web_of(request)
    fleet = web.fleet
    week = request.query_params.get("week", "")[:40] or report.this_week(fleet)
    try:
        return HTMLResponse(weekly_page.render(fleet, week, in_console=True))
    except InputError as error:
        return web.error(request, 400, str(error))


ROUTES: list[BaseRoute] = [Route("/personas", personas), Route("/report", weekly)]


def shade(multiplier: float) -> str:
    """A heatmap cell's colour: grey when dormant, pale to deep blue up to 3x."""
    if multiplier <= 0:
        return "#e5e7eb"
    strength = min(multiplier / 3.0, 1.0)
    light = round(88 - 58 * strength)
    return f"hsl(220, 70%, {light}%)"
