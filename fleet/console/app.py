"""The console's Starlette app: server-rendered pages on fleet.service (one module per
area in ``fleet.console.pages``), a live feed over server-sent events, every change a
POST with a CSRF token."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from fleet.console.feed import Hub
from fleet.console.pages import (
    agents,
    controls,
    drafts,
    impact,
    ledger,
    letters,
    live,
    overview,
    reconciling,
    rhythm,
    signin,
)
from fleet.console.security import Guard, GuardMiddleware, HeadersMiddleware, headers_for
from fleet.console.web import HERE, Web
from fleet.service.root import Fleet

log = logging.getLogger("fleet.console")


def build_app(fleet: Fleet, guard: Guard, *, hub: Hub | None = None) -> Starlette:
    """The console of ``fleet`` behind ``guard``."""
    web = Web.of(fleet, guard)
    feed = hub or Hub(fleet)
    readings = overview.Readings.of(fleet)
    web.polled.extend([readings.workers, readings.honesty])
    app = Starlette(
        routes=_routes(),
        middleware=_middleware(fleet, guard),
        lifespan=_lifespan(fleet, web, feed),
    )
    # What the endpoints reach through the request (``web_of``, ``hub_of``, ``readings_of``).
    app.state.web = web
    app.state.hub = feed
    app.state.overview = readings
    app.state.polled = web.polled
    return app


def _routes() -> list[BaseRoute]:
    """Every page's routes, and the static files.

    Pages that only read are plain functions: Starlette runs them on its thread pool, so
    a slow read never holds up the event loop (and the live feed's streams on it). The
    POSTs are async (they read the form) and hand their blocking work to the thread pool
    themselves (run_in_threadpool)."""
    return [
        *overview.ROUTES,
        *signin.ROUTES,
        *live.ROUTES,
        *rhythm.ROUTES,
        *impact.ROUTES,
        *agents.ROUTES,
        *ledger.ROUTES,
        *reconciling.ROUTES,
        *letters.ROUTES,
        *drafts.ROUTES,
        *controls.ROUTES,
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]


def _middleware(fleet: Fleet, guard: Guard) -> list[Middleware]:
    """The security headers on every answer, then the guard."""
    return [
        # Images from the console and the gallery only (a draft's from nowhere else).
        Middleware(
            HeadersMiddleware,
            headers=headers_for(
                [str(fleet.settings.gallery.url)]
                + [str(host) for host in fleet.settings.console.image_hosts]
            ),
        ),
        Middleware(GuardMiddleware, guard=guard),
    ]


def _lifespan(
    fleet: Fleet, web: Web, feed: Hub
) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    """The app's life: the live feed (with a Redis) and the polled readings run while it
    serves."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if fleet.settings.redis_url is not None:
            feed.start()
        else:
            feed.state = ("down", "no Redis configured (FLEET_REDIS_URL=none): no live feed")
        for reading in web.polled:
            reading.start()
        try:
            yield
        finally:
            for reading in web.polled:
                if not reading.stop():
                    log.warning("a background reading of the console still runs as it stops")
            feed.stop()

    return lifespan
