"""The console's Starlette app: server-rendered pages on fleet.service, a live feed over
server-sent events, every change a POST with a CSRF token."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from sse_starlette.sse import EventSourceResponse
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from fleet.console import charts
from fleet.console import report as weekly_page
from fleet.console.feed import Hub
from fleet.console.security import (
    Guard,
    GuardMiddleware,
    checked_form,
    csrf_of,
    session_of,
    set_session,
)
from fleet.core.kinds import ACTION_NAMES
from fleet.errors import ConflictError, FleetError, InputError
from fleet.infra.events import describe
from fleet.infra.redaction import redact
from fleet.service import agents as agent_use
from fleet.service import board as board_use
from fleet.service import dead_letters, holds, report, rhythm
from fleet.service.root import Fleet

HERE = Path(__file__).parent
OVERVIEW_SECONDS = 3.0
STATUSES = ("succeeded", "skipped", "dead", "pending")
AGENT_STATUSES = ("created", "active", "paused", "stopped", "error")
Handler = Callable[[Request], Awaitable[Response]]


def build_app(fleet: Fleet, guard: Guard, *, hub: Hub | None = None) -> Starlette:
    """The console of ``fleet`` behind ``guard``."""
    secrets = fleet.secrets
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        # Whatever a page prints passes here: a secret never reaches a page.
        finalize=lambda value: _masked(value, secrets),
    )
    env.filters["when"] = _when
    feed = hub or Hub(fleet)
    # The overview's reads count a day of activities (~150 ms at a million); every viewer
    # within a few seconds shares one reading (the page refreshes every 10 s).
    recent = Recent(lambda: board_use.board(fleet), seconds=OVERVIEW_SECONDS)

    def page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        template = env.get_template(name)
        html = template.render(
            request=request,
            csrf=csrf_of(request),
            signed_in=guard.open or session_of(request).user or request.state.via_basic,
            password_set=not guard.open,
            said=request.query_params.get("said"),
            path=request.url.path,
            **context,
        )
        return HTMLResponse(html, status_code=status_code)

    def back(path: str, said: str) -> RedirectResponse:
        return RedirectResponse(f"{path}?{urlencode({'said': said})}", status_code=303)

    def guarded(handler: Handler) -> Handler:
        """A POST: its CSRF token checked first; the fleet's refusals shown as pages."""

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except PermissionError as error:
                return page(request, "error.html", 403, message=str(error))
            except (InputError, ConflictError) as error:
                return page(request, "error.html", 400, message=str(error))
            except FleetError as error:
                return page(request, "error.html", 500, message=str(error))

        return run

    # --- sign in and out ---------------------------------------------------------------

    def login_form(request: Request) -> Response:
        return page(request, "login.html", next=_local(request.query_params.get("next")))

    async def login(request: Request) -> Response:
        form = await checked_form(request)
        target = _local(form.get("next"))
        if not guard.password_ok(form.get("password", "")):
            return page(request, "login.html", 401, next=target, wrong=True)
        response = RedirectResponse(target, status_code=303)
        set_session(response, request, guard.new_session(user=True))
        return response

    async def logout(request: Request) -> Response:
        await checked_form(request)
        response = RedirectResponse("/login", status_code=303)
        set_session(response, request, guard.new_session())
        return response

    def csrf(request: Request) -> Response:
        return JSONResponse({"csrf": csrf_of(request)})

    # --- overview ----------------------------------------------------------------------

    def overview(request: Request) -> Response:
        seen = recent.get()
        kinds = [k for k in ACTION_NAMES if k in seen.last_day] or list(ACTION_NAMES)
        chart = charts.stacked_bars(
            "Actions in the last day",
            kinds,
            {s: [seen.last_day.get(k, {}).get(s, 0) for k in kinds] for s in STATUSES},
        )
        return page(
            request,
            "overview.html",
            board=seen,
            chart=chart,
            total_agents=sum(sum(by.values()) for by in seen.agents.values()),
            active_agents=sum(by.get("active", 0) for by in seen.agents.values()),
            hour_total=sum(sum(by.values()) for by in seen.last_hour.values()),
            day_total=sum(sum(by.values()) for by in seen.last_day.values()),
            kinds=ACTION_NAMES,
            statuses=STATUSES,
            agent_statuses=AGENT_STATUSES,
        )

    # --- live feed ---------------------------------------------------------------------

    def feed_page(request: Request) -> Response:
        query = _feed_filter(request)
        return page(
            request,
            "feed.html",
            filters=query,
            source="/feed/events?" + urlencode({k: v for k, v in query.items() if v}),
            personas=fleet.personas.slugs(),
            kinds=ACTION_NAMES,
            statuses=STATUSES,
        )

    async def feed_events(request: Request) -> Response:
        query = _feed_filter(request)
        item = env.get_template("_event.html")

        async def stream() -> AsyncIterator[dict[str, str]]:
            async for kind, payload in feed.watch():
                if kind == "status":
                    yield {"event": "status", "data": f"{payload[0]}|{payload[1]}"}
                elif _matches(payload, query):
                    html = item.render(event=payload, line=describe(payload))
                    yield {"event": "activity", "data": html.replace("\n", " ")}

        return EventSourceResponse(stream(), ping=15)

    # --- personas -----------------------------------------------------------------------

    def personas(request: Request) -> Response:
        rows = []
        for r in rhythm.rhythms(fleet):
            chart = charts.against(
                "Actions per local hour, last 7 days",
                [f"{h:02d}" for h in range(24)],
                {"actual": [float(n) for n in r.actual], "the clock expects": r.expected},
            )
            rows.append((r, chart))
        return page(request, "personas.html", rows=rows, days=rhythm.DAYS, shade=_shade)

    # --- the weekly report ----------------------------------------------------------------

    def weekly(request: Request) -> Response:
        week = request.query_params.get("week") or report.this_week(fleet)
        try:
            return HTMLResponse(weekly_page.render(fleet, week, in_console=True))
        except InputError as error:
            return page(request, "error.html", 400, message=str(error))

    # --- agents ------------------------------------------------------------------------

    def agent_list(request: Request) -> Response:
        params = request.query_params
        after = _int(params.get("after"), 0)
        rows, next_after = board_use.roster(
            fleet,
            after=after,
            persona=params.get("persona") or None,
            status=params.get("status") or None,
            search=params.get("q") or None,
        )
        keep = {k: params.get(k, "") for k in ("q", "persona", "status")}
        return page(
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
            return page(request, "error.html", 404, message=str(error))
        gallery = str(fleet.settings.gallery.url).rstrip("/")
        return page(request, "agent.html", p=seen, gallery=gallery)

    # --- dead letters ------------------------------------------------------------------

    def letter_list(request: Request) -> Response:
        every = request.query_params.get("all") == "1"
        rows = dead_letters.find(fleet, include_replayed=every, limit=200)
        return page(request, "dead_letters.html", rows=rows, every=every)

    def letter_page(request: Request) -> Response:
        try:
            letter = dead_letters.get(fleet, _int(request.path_params["id"], 0))
        except InputError as error:
            return page(request, "error.html", 404, message=str(error))
        arguments = json.dumps(letter.arguments, indent=2, default=str)
        return page(request, "dead_letter.html", letter=letter, arguments=arguments)

    @guarded
    async def replay(request: Request) -> Response:
        form = await checked_form(request)
        ids = _ids(form.get("ids", ""))
        done = dead_letters.replay(fleet, ids, fleet.sender(instead="a worker must be running"))
        return back("/dead-letters", f"replayed {len(done)} dead letter(s)")

    @guarded
    async def purge(request: Request) -> Response:
        form = await checked_form(request)
        if form.get("all") == "yes" and form.get("confirm") == "yes":
            gone = dead_letters.purge(fleet, None)
        else:
            gone = dead_letters.purge(fleet, _ids(form.get("ids", "")))
        return back("/dead-letters", f"purged {gone} dead letter(s)")

    # --- controls ----------------------------------------------------------------------

    def controls(request: Request) -> Response:
        return page(
            request,
            "controls.html",
            personas=fleet.personas.slugs(),
            counts=agent_use.counts(fleet),
            hold=holds.in_force(fleet),
        )

    @guarded
    async def create(request: Request) -> Response:
        form = await checked_form(request)
        made, started = agent_use.create(
            fleet,
            form.get("persona", ""),
            _int(form.get("count"), 0, strict=True),
            start=form.get("start") == "on",
        )
        said = (
            f"created {made.count} {form.get('persona')} agent(s): {made.first_id}-{made.last_id}"
        )
        return back("/controls", said + (f", started {started}" if started else ""))

    @guarded
    async def change(request: Request) -> Response:
        form = await checked_form(request)
        command = form.get("command", "")
        selection = _selection(form)
        if command == "start":
            done = agent_use.start(fleet, selection, provision=form.get("provision") == "on")
            changed = done.transition.changed
        else:
            changed = agent_use.change_status(fleet, command, selection).changed
        return back("/controls", f"{command}: {changed} agent(s) changed")

    @guarded
    async def delete(request: Request) -> Response:
        form = await checked_form(request)
        selection = _selection(form)
        if form.get("confirm") != "yes":
            # The confirmation: what would go, and a second form that says yes.
            return page(request, "confirm_delete.html", form=form)
        gone = agent_use.delete(fleet, selection).changed
        return back("/controls", f"deleted {gone} agent(s)")

    @guarded
    async def hold(request: Request) -> Response:
        form = await checked_form(request)
        hours = float(form.get("hours") or "1")
        held = holds.hold(fleet, form.get("reason", ""), timedelta(hours=hours))
        return back("/controls", f"fleet held until {_when(held.until)} UTC: {held.reason}")

    @guarded
    async def lift(request: Request) -> Response:
        await checked_form(request)
        return back("/controls", f"lifted {holds.lift(fleet)} hold(s)")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if fleet.settings.redis_url is not None:
            feed.start()
        else:
            feed.state = ("down", "no Redis configured (FLEET_REDIS_URL=none): no live feed")
        try:
            yield
        finally:
            feed.stop()

    # Pages are plain functions: Starlette runs them on its thread pool, so a slow read
    # never holds up the event loop (and the live feed's streams on it).
    routes = [
        Route("/", overview),
        Route("/login", login_form, methods=["GET"]),
        Route("/login", guarded(login), methods=["POST"]),
        Route("/logout", guarded(logout), methods=["POST"]),
        Route("/csrf", csrf),
        Route("/feed", feed_page),
        Route("/feed/events", feed_events),
        Route("/personas", personas),
        Route("/report", weekly),
        Route("/agents", agent_list),
        Route("/agents/{ref}", agent_page),
        Route("/dead-letters", letter_list),
        Route("/dead-letters/replay", replay, methods=["POST"]),
        Route("/dead-letters/purge", purge, methods=["POST"]),
        Route("/dead-letters/{id}", letter_page),
        Route("/controls", controls),
        Route("/controls/create", create, methods=["POST"]),
        Route("/controls/status", change, methods=["POST"]),
        Route("/controls/delete", delete, methods=["POST"]),
        Route("/controls/hold", hold, methods=["POST"]),
        Route("/controls/lift", lift, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(
        routes=routes, middleware=[Middleware(GuardMiddleware, guard=guard)], lifespan=lifespan
    )
    app.state.hub = feed
    return app


def _masked(value: Any, secrets: tuple[str, ...]) -> Any:
    if value is None:
        return ""
    if isinstance(value, Markup):
        return value  # the console's own markup (charts, rendered events)
    if isinstance(value, str) and secrets:
        return redact(value, secrets)
    return value


class Recent:
    """A value read at most once every ``seconds``, shared by the threads that ask."""

    def __init__(self, read: Callable[[], board_use.Board], *, seconds: float) -> None:
        self._read, self._seconds = read, seconds
        self._lock = threading.Lock()
        self._value: board_use.Board | None = None
        self._at = 0.0

    def get(self) -> board_use.Board:
        with self._lock:
            if self._value is None or time.monotonic() - self._at > self._seconds:
                self._value, self._at = self._read(), time.monotonic()
            return self._value


def _shade(multiplier: float) -> str:
    """A heatmap cell's colour: grey when dormant, pale to deep blue up to 3x."""
    if multiplier <= 0:
        return "#e5e7eb"
    strength = min(multiplier / 3.0, 1.0)
    light = round(88 - 58 * strength)
    return f"hsl(220, 70%, {light}%)"


def _when(value: Any) -> str:
    if value is None:
        return "—"
    return str(value.strftime("%Y-%m-%d %H:%M:%S"))


def _local(target: str | None) -> str:
    """Only a path of this site (no //host, no scheme) is a place to go after login."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _int(text: Any, default: int, *, strict: bool = False) -> int:
    try:
        return int(str(text).strip())
    except (TypeError, ValueError):
        if strict:
            raise InputError(f"not a whole number: {text!r}") from None
        return default


def _ids(text: str) -> list[int]:
    parts = text.replace(",", " ").split()
    if not parts:
        raise InputError("name at least one dead letter")
    return [_int(part, 0, strict=True) for part in parts]


def _selection(form: dict[str, str]) -> agent_use.Selection:
    refs = tuple(form.get("refs", "").replace(",", " ").split())
    persona = form.get("persona") or None
    everyone = form.get("all") == "on"
    return agent_use.Selection(refs=refs, persona=persona, everyone=everyone)


def _feed_filter(request: Request) -> dict[str, str]:
    return {k: request.query_params.get(k, "") for k in ("persona", "kind", "status")}


def _matches(event: dict[str, Any], query: dict[str, str]) -> bool:
    return (
        (not query["persona"] or event.get("persona") == query["persona"])
        and (not query["kind"] or event.get("action") == query["kind"])
        and (not query["status"] or event.get("status") == query["status"])
    )
