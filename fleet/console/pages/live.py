"""The live feed: each finished action as it happens, over server-sent events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

from sse_starlette.sse import EventSourceResponse
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fleet.console.feed import hub_of
from fleet.console.web import STATUSES, web_of
from fleet.core.kinds import ACTION_NAMES
from fleet.infra.events import gist


def feed_page(request: Request) -> Response:
    web = web_of(request)
    fleet = web.fleet
    query = _feed_filter(request)
    return web.page(
        request,
        "feed.html",
        filters=query,
        source="/feed/events?" + urlencode({k: v for k, v in query.items() if v}),
        personas=fleet.personas.slugs(),
        kinds=ACTION_NAMES,
        statuses=STATUSES,
    )


async def feed_events(request: Request) -> Response:
    web = web_of(request)
    feed = hub_of(request)
    query = _feed_filter(request)
    item = web.env.get_template("_event.html")

    async def stream() -> AsyncIterator[dict[str, str]]:
        async for kind, payload in feed.watch():
            if kind == "status":
                yield {"event": "status", "data": f"{payload[0]}|{payload[1]}"}
            elif _matches(payload, query):
                html = item.render(
                    event=payload,
                    said=headline(payload),
                    gallery=web.gallery,
                    gallery_post=web.post_url,
                )
                yield {"event": "activity", "data": html.replace("\n", " ")}

    return EventSourceResponse(stream(), ping=15)


ROUTES: list[BaseRoute] = [Route("/feed", feed_page), Route("/feed/events", feed_events)]


def headline(event: dict[str, Any]) -> str:
    """What the agent did, once: the card's first line without the words it wrote (the
    card quotes them below) or its local time (the card's last line says it)."""
    detail = {k: v for k, v in (event.get("detail") or {}).items() if k not in ("text", "thought")}
    return gist({**event, "detail": detail, "local_time": None})


def _feed_filter(request: Request) -> dict[str, str]:
    return {k: request.query_params.get(k, "") for k in ("persona", "kind", "status")}


def _matches(event: dict[str, Any], query: dict[str, str]) -> bool:
    return (
        (not query["persona"] or event.get("persona") == query["persona"])
        and (not query["kind"] or event.get("action") == query["kind"])
        and (not query["status"] or event.get("status") == query["status"])
    )
