"""The newcomer holdout's impact report (``fleet impact``'s page)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fleet.console.web import web_of
from fleet.errors import InputError
from fleet.impact import use_cases as impact


def page(request: Request) -> Response:
    web = web_of(request)
    fleet = web.fleet
    name = request.query_params.get("experiment", "")[:64] or None
    try:
        report = impact.impact_report(fleet, name)
    except InputError as error:
        return web.error(request, 400, str(error))
    return web.page(request, "impact.html", im=report, experiments=impact.experiment_names(fleet))


ROUTES: list[BaseRoute] = [Route("/impact", page)]
