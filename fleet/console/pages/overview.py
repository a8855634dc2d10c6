"""The overview: the fleet at a glance, refreshing by itself."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fleet.console import charts
from fleet.console.web import AGENT_STATUSES, STATUSES, Polled, Recent, Web
from fleet.core.kinds import ACTION_NAMES
from fleet.service import board as board_use

# The overview's reads count a day of activities; every viewer within a few seconds
# shares one reading (the page refreshes every 10 s).
OVERVIEW_SECONDS = 3.0
# A ping waits a second for the workers' answers: it is asked in the background.
WORKERS_SECONDS = 10.0
# The honesty audit reads every agent's profile and the posts people said no on.
HONESTY_SECONDS = 600.0


def routes(web: Web) -> list[Route]:
    fleet = web.fleet
    recent = Recent(lambda: board_use.board(fleet), seconds=OVERVIEW_SECONDS)
    workers = Polled(lambda: board_use.workers_answering(fleet), seconds=WORKERS_SECONDS)
    web.polled.append(workers)
    honesty = Polled(lambda: board_use.honesty(fleet), seconds=HONESTY_SECONDS)
    web.polled.append(honesty)

    def overview(request: Request) -> Response:
        seen = recent.get()
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
            honesty=honesty,
            chart=chart,
            total_agents=sum(sum(by.values()) for by in seen.agents.values()),
            active_agents=sum(by.get("active", 0) for by in seen.agents.values()),
            hour_total=sum(sum(by.values()) for by in seen.last_hour.values()),
            day_total=sum(sum(by.values()) for by in seen.last_day.values()),
            kinds=ACTION_NAMES,
            statuses=STATUSES,
            agent_statuses=AGENT_STATUSES,
        )

    return [Route("/", overview)]
