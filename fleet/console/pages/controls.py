"""Controls: create agents, start, pause, resume, stop, delete (after a confirmation),
set and lift a fleet hold; each the use case the CLI calls."""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fleet.console.security import checked_form
from fleet.console.web import Web, when, whole
from fleet.service import agents as agent_use
from fleet.service import holds


def routes(web: Web) -> list[Route]:
    fleet = web.fleet

    def controls(request: Request) -> Response:
        return web.page(
            request,
            "controls.html",
            personas=fleet.personas.slugs(),
            counts=agent_use.counts(fleet),
            hold=holds.in_force(fleet),
        )

    async def create(request: Request) -> Response:
        form = await checked_form(request)
        made, started = agent_use.create(
            fleet,
            form.get("persona", ""),
            whole(form.get("count"), 0, strict=True),
            start=form.get("start") == "on",
        )
        said = (
            f"created {made.count} {form.get('persona')} agent(s): {made.first_id}-{made.last_id}"
        )
        return web.back("/controls", said + (f", started {started}" if started else ""))

    async def change(request: Request) -> Response:
        form = await checked_form(request)
        command = form.get("command", "")
        selection = _selection(form)
        if command == "start":
            done = agent_use.start(fleet, selection, provision=form.get("provision") == "on")
            changed = done.transition.changed
        else:
            changed = agent_use.change_status(fleet, command, selection).changed
        return web.back("/controls", f"{command}: {changed} agent(s) changed")

    async def delete(request: Request) -> Response:
        form = await checked_form(request)
        selection = _selection(form)
        if form.get("confirm") != "yes":
            # The confirmation: what would go, and a second form that says yes.
            return web.page(request, "confirm_delete.html", form=form)
        gone = agent_use.delete(fleet, selection).changed
        return web.back("/controls", f"deleted {gone} agent(s)")

    async def hold(request: Request) -> Response:
        form = await checked_form(request)
        hours = float(form.get("hours") or "1")
        held = holds.hold(fleet, form.get("reason", ""), timedelta(hours=hours))
        return web.back("/controls", f"fleet held until {when(held.until)} UTC: {held.reason}")

    async def lift(request: Request) -> Response:
        await checked_form(request)
        return web.back("/controls", f"lifted {holds.lift(fleet)} hold(s)")

    return [
        Route("/controls", controls),
        Route("/controls/create", web.guarded(create), methods=["POST"]),
        Route("/controls/status", web.guarded(change), methods=["POST"]),
        Route("/controls/delete", web.guarded(delete), methods=["POST"]),
        Route("/controls/hold", web.guarded(hold), methods=["POST"]),
        Route("/controls/lift", web.guarded(lift), methods=["POST"]),
    ]


def _selection(form: dict[str, str]) -> agent_use.Selection:
    refs = tuple(form.get("refs", "").replace(",", " ").split())
    persona = form.get("persona") or None
    everyone = form.get("all") == "on"
    return agent_use.Selection(refs=refs, persona=persona, everyone=everyone)
