"""The overview: the fleet at a glance, refreshing by itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from fleet.console import charts
from fleet.console.security import checked_form
from fleet.console.web import AGENT_STATUSES, STATUSES, Polled, Recent, guarded, web_of
from fleet.core.kinds import ACTION_NAMES
from fleet.service import board as board_use
from fleet.service.root import Fleet

# The overview's reads count a day of activities; every viewer within a few seconds
# shares one reading (the page refreshes every 10 s).
OVERVIEW_SECONDS = 3.0
# A ping waits a second for the workers' answers: it is asked in the background.
WORKERS_SECONDS = 10.0
# The honesty audit reads every agent's profile and the posts people said no on: read
# again every minute, so that the panel's figures are never older than that (it says how
# old they are, and a person can ask for a fresh reading).
HONESTY_SECONDS = 60.0


@dataclass(frozen=True)
class Readings:
    """The overview's readings of one console, shared by its viewers: the board (read at
    most once every ``OVERVIEW_SECONDS``), the workers' last ping and the honesty audit of
    the last day (both in the background)."""

    board: Recent[board_use.Board]
    workers: Polled[list[str] | None]
    honesty: Polled[dict[str, Any]]

    @classmethod
    def of(cls, fleet: Fleet) -> Readings:
        return cls(
            Recent(lambda: board_use.board(fleet), seconds=OVERVIEW_SECONDS),
            Polled(lambda: board_use.workers_answering(fleet), seconds=WORKERS_SECONDS),
            Polled(lambda: board_use.honesty(fleet), seconds=HONESTY_SECONDS),
        )


def readings_of(request: Request) -> Readings:
    """The overview's readings of the console serving ``request`` (put on its state by
    ``build_app``)."""
    found: Readings = request.app.state.overview
    return found


def overview(request: Request) -> Response:
    web = web_of(request)
    readings = readings_of(request)
    workers = readings.workers
    seen = readings.board.get()
    kinds = [k for k in ACTION_NAMES if k in seen.last_day] or list(ACTION_NAMES)
    chart = charts.stacked_bars(
        "Actions in the last day",
        kinds,
        {s: [seen.last_day.get(k, {}).get(s, 0) for k in kinds] for s in STATUSES},
    )
    # The verdict of ``fleet status --check``, with the workers of the last ping.
    answering = None if workers.failed else workers.value
    broken = board_use.verdict(seen, answering)
    if workers.failed:
        broken.append(f"the workers could not be pinged: {workers.failed}")
    return web.page(
        request,
        "overview.html",
        board=seen,
        broken=broken,
        workers=workers,
        honesty=readings.honesty,
        chart=chart,
        total_agents=sum(sum(by.values()) for by in seen.agents.values()),
        active_agents=sum(by.get("active", 0) for by in seen.agents.values()),
        hour_total=sum(sum(by.values()) for by in seen.last_hour.values()),
        day_total=sum(sum(by.values()) for by in seen.last_day.values()),
        kinds=ACTION_NAMES,
        statuses=STATUSES,
        agent_statuses=AGENT_STATUSES,
    )


async def refresh_honesty(request: Request) -> Response:
    """POST /honesty/refresh: the honesty panel's audit read again now."""
    await checked_form(request)
    readings_of(request).honesty.refresh()
    return RedirectResponse("/#honesty", status_code=303)


ROUTES: list[BaseRoute] = [
    Route("/", overview),
    Route("/honesty/refresh", guarded(refresh_honesty), methods=["POST"]),
]
