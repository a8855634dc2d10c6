"""Fault injection and the admin API: how tests and operators bend and inspect the sandbox.

``FaultInjector`` is ASGI middleware in front of the API routes (a call passes straight
through while no fault is set, its route unmatched). In this order it adds
the configured latency, answers an injected 5xx (before any effect), answers a plain 429
with ``Retry-After: 1``, or lets the call run and commit and then drops its answer: the
status line goes out, the body never does, and the server closes the connection. The
dice are the sandbox's seeded ``random.Random``.

The admin API (service token required, camelCase JSON):

- ``GET /admin/state``: idempotency, pause, budgets, faults, today's spend, and the
  feed pages served by sort;
- ``PUT /admin/faults`` (a whole ``Faults``), ``DELETE /admin/faults`` (none);
- ``PUT /admin/pause`` ``{"paused": true}``; ``PUT /admin/idempotency`` ``{"enabled": false}``;
- ``PUT /admin/budgets`` (a whole ``Budgets``: ``fleetDaily``, ``agentDaily``, ``perAgent``);
- ``GET /admin/report``: posts, likes and comments per user, and the duplicates;
- ``POST /admin/reset``: delete all data; controls back to the start-up config;
- ``POST /admin/people`` ``{"count": 4}``: people already on the gallery, each with a post
  (``fleet_sandbox.people``), made once;
- ``POST /admin/people/post`` ``{"username": "mara_lens"}``: that person posts their next
  picture now (the demo has people post through its day);
- ``/admin/people/join``, ``/admin/people/like``, ``/admin/people/comment``,
  ``/admin/people/view`` and ``/admin/fleet/activity``: people beside the fleet joining,
  liking and commenting, and what they see (``fleet_sandbox.visitors``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import Any

import anyio
from pydantic import Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fleet_sandbox import storage
from fleet_sandbox.config import Budgets, CamelModel, Faults, rate_for
from fleet_sandbox.people import PEOPLE, post_next, seed_people
from fleet_sandbox.report import report
from fleet_sandbox.schemas import BadRequest, parse
from fleet_sandbox.state import Sandbox, authorize, sandbox_of
from fleet_sandbox.visitors import visitor_routes


class FaultInjector:
    """ASGI middleware that injects the sandbox's configured faults into API calls."""

    def __init__(self, app: ASGIApp, sandbox: Sandbox, routes: Sequence[Route]) -> None:
        self.app = app
        self.sandbox = sandbox
        self.routes = routes

    def _route(self, scope: Scope) -> str | None:
        for route in self.routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return route.name
        return None

    def _roll(self, rate: float) -> bool:
        return rate >= 1.0 or (rate > 0.0 and self.sandbox.dice.random() < rate)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        faults = self.sandbox.controls.faults
        # No fault set (the usual case): no route to match.
        bent = scope["type"] == "http" and faults.bend_calls()
        route = self._route(scope) if bent else None
        if route is None:
            await self.app(scope, receive, send)
            return
        if faults.latency_ms:
            await anyio.sleep(faults.latency_ms / 1000)
        if self._roll(rate_for(faults.error_rates, route)):
            answer = JSONResponse({"error": "injected fault"}, faults.error_status)
            await answer(scope, receive, send)
        elif self._roll(rate_for(faults.throttle_rates, route)):
            answer = JSONResponse({"error": "too many requests"}, 429, headers={"Retry-After": "1"})
            await answer(scope, receive, send)
        elif self._roll(rate_for(faults.lose_answer_rates, route)):
            await self.app(scope, receive, _without_body(send))
        else:
            await self.app(scope, receive, send)


def _without_body(send: Send) -> Send:
    """A ``send`` that lets the status line out and loses the body."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            await send(message)

    return sending


class PauseBody(CamelModel):
    paused: bool


class IdempotencyBody(CamelModel):
    enabled: bool


def _state(sandbox: Sandbox) -> dict[str, Any]:
    controls = sandbox.controls
    day = sandbox.clock().astimezone(UTC).date()
    with sandbox.storage.begin() as conn:
        by_agent = storage.spent_by_agent(conn, day=day)
    return {
        "idempotency": controls.idempotency,
        "paused": controls.paused,
        "budgets": controls.budgets.model_dump(by_alias=True),
        "faults": controls.faults.model_dump(by_alias=True),
        "spent": {"day": day.isoformat(), "fleet": sum(by_agent.values()), "agents": by_agent},
        "feedReads": dict(sandbox.feed_reads),
        "origins": dict(sandbox.origins),
    }


async def get_state(request: Request) -> Response:
    """GET /admin/state."""
    authorize(request)
    return JSONResponse(_state(sandbox_of(request)))


async def put_faults(request: Request) -> Response:
    """PUT /admin/faults: replace the injected faults."""
    authorize(request)
    sandbox = sandbox_of(request)
    sandbox.controls.faults = await parse(request, Faults)
    return JSONResponse(_state(sandbox))


async def clear_faults(request: Request) -> Response:
    """DELETE /admin/faults: inject nothing."""
    authorize(request)
    sandbox = sandbox_of(request)
    sandbox.controls.faults = Faults()
    return JSONResponse(_state(sandbox))


async def put_pause(request: Request) -> Response:
    """PUT /admin/pause: the platform's kill switch."""
    authorize(request)
    sandbox = sandbox_of(request)
    sandbox.controls.paused = (await parse(request, PauseBody)).paused
    return JSONResponse(_state(sandbox))


async def put_idempotency(request: Request) -> Response:
    """PUT /admin/idempotency: honour Idempotency-Key headers, or not."""
    authorize(request)
    sandbox = sandbox_of(request)
    sandbox.controls.idempotency = (await parse(request, IdempotencyBody)).enabled
    return JSONResponse(_state(sandbox))


async def put_budgets(request: Request) -> Response:
    """PUT /admin/budgets: replace the daily budgets (0 exhausts at once)."""
    authorize(request)
    sandbox = sandbox_of(request)
    sandbox.controls.budgets = await parse(request, Budgets)
    return JSONResponse(_state(sandbox))


async def get_report(request: Request) -> Response:
    """GET /admin/report: counts per user and duplicates."""
    authorize(request)
    with sandbox_of(request).storage.begin() as conn:
        return JSONResponse(report(conn))


async def reset(request: Request) -> Response:
    """POST /admin/reset: no data, start-up controls."""
    authorize(request)
    sandbox = sandbox_of(request)
    sandbox.reset()
    return JSONResponse(_state(sandbox))


class PeopleBody(CamelModel):
    count: int = Field(ge=0, le=len(PEOPLE))


async def post_people(request: Request) -> Response:
    """POST /admin/people: the first ``count`` people, each with a post."""
    authorize(request)
    body = await parse(request, PeopleBody)
    sandbox = sandbox_of(request)
    base = sandbox.config.image_base_url or str(request.base_url)

    def seed() -> list[str]:
        with sandbox.storage.begin() as conn:
            return seed_people(conn, count=body.count, image_base=base, now=sandbox.clock())

    made = await anyio.to_thread.run_sync(seed)  # the pictures take a moment to draw
    return JSONResponse({"made": made})


class NextPostBody(CamelModel):
    username: str = Field(min_length=1, max_length=64)


async def post_person_next(request: Request) -> Response:
    """POST /admin/people/post: a seeded person posts their next picture now (``made``:
    its title, or null when they have posted all theirs); 400 for anyone else."""
    authorize(request)
    body = await parse(request, NextPostBody)
    sandbox = sandbox_of(request)
    base = sandbox.config.image_base_url or str(request.base_url)

    def make() -> str | None:
        with sandbox.storage.begin() as conn:
            return post_next(conn, username=body.username, image_base=base, now=sandbox.clock())

    try:
        made = await anyio.to_thread.run_sync(make)
    except ValueError as error:
        raise BadRequest(str(error)[:200], status=400) from error
    return JSONResponse({"made": made})


def admin_routes() -> list[Route]:
    """The ``/admin/*`` routes."""
    return [
        Route("/admin/state", get_state, methods=["GET"]),
        Route("/admin/faults", put_faults, methods=["PUT"]),
        Route("/admin/faults", clear_faults, methods=["DELETE"]),
        Route("/admin/pause", put_pause, methods=["PUT"]),
        Route("/admin/idempotency", put_idempotency, methods=["PUT"]),
        Route("/admin/budgets", put_budgets, methods=["PUT"]),
        Route("/admin/report", get_report, methods=["GET"]),
        Route("/admin/reset", reset, methods=["POST"]),
        Route("/admin/people", post_people, methods=["POST"]),
        Route("/admin/people/post", post_person_next, methods=["POST"]),
        *visitor_routes(),
    ]
