"""The agents: a searchable, filterable page of them in keyset pages, and one in full."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fleet.console.web import AGENT_STATUSES, Web, whole
from fleet.errors import ConflictError, InputError
from fleet.service import board as board_use


def routes(web: Web) -> list[Route]:
    fleet = web.fleet

    def agent_list(request: Request) -> Response:
        params = request.query_params
        after = whole(params.get("after"), 0)
        rows, next_after = board_use.roster(
            fleet,
            after=after,
            persona=params.get("persona") or None,
            status=params.get("status") or None,
            search=params.get("q") or None,
        )
        keep = {k: params.get(k, "") for k in ("q", "persona", "status")}
        return web.page(
            request,
            "agents.html",
            rows=rows,
            filters=keep,
            next_url=(
                "/agents?" + urlencode({**keep, "after": next_after})
                if next_after is not None
                else None
            ),
            first_url="/agents?" + urlencode(keep) if after else None,
            personas=fleet.personas.slugs(),
            agent_statuses=AGENT_STATUSES,
        )

    def agent_page(request: Request) -> Response:
        try:
            seen = board_use.profile(fleet, request.path_params["ref"])
        except (InputError, ConflictError) as error:
            return web.error(request, 404, str(error))
        return web.page(request, "agent.html", p=seen, gallery=web.gallery)

    return [Route("/agents", agent_list), Route("/agents/{ref}", agent_page)]
