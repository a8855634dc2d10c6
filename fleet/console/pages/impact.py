"""The newcomer holdout's impact report (``fleet impact``'s page)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fleet.console.web import Web
from fleet.errors import InputError
from fleet.service import impact


def routes(web: Web) -> list[Route]:
    fleet = web.fleet

    def page(request: Request) -> Response:
        name = request.query_params.get("experiment", "")[:64] or None
        try:
            report = impact.impact_report(fleet, name)
        except InputError as error:
            return web.error(request, 400, str(error))
        return web.page(
            request, "impact.html", im=report, experiments=impact.experiment_names(fleet)
        )

    return [Route("/impact", page)]
