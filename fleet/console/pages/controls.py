"""Controls: create agents, start, pause, resume, stop, delete (after a confirmation),
set and lift a fleet hold; each the use case the CLI calls."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fleet.console.security import checked_form
from fleet.console.web import guarded, web_of, when, whole
from fleet.errors import InputError
from fleet.service import agents as agent_use
from fleet.service import holds, inputs

# The failed accounts a start shows by name (the rest are counted).
FAILED_SHOWN = 200
# A hold from the form lasts from six minutes (the form's step) to 30 days.
SHORTEST_HOURS = 0.1
LONGEST_HOURS = holds.LONGEST.total_seconds() / 3600


def controls(request: Request, **more: Any) -> Response:
    web = web_of(request)
    fleet = web.fleet
    # A start's failed accounts, kept for this page by the POST that redirected here.
    token = request.query_params.get("result")
    kept = web.kept.get(request, token)
    failed, total = kept if kept is not None else (None, 0)
    return web.page(
        request,
        "controls.html",
        personas=fleet.personas.slugs(),
        counts=agent_use.counts(fleet),
        hold=holds.in_force(fleet),
        longest_reason=holds.LONGEST_REASON,
        failed=failed,
        more=total,
        result_gone=bool(token) and kept is None,
        **more,
    )


async def create(request: Request) -> Response:
    web = web_of(request)
    fleet = web.fleet
    form = await checked_form(request)
    # The CLI's parsing of --interval, --weights and --activity, naming the form's field;
    # the use case checks the values against the persona before writing anything.
    new = agent_use.NewAgents(
        form.get("persona", ""),
        whole(form.get("count")),
        interval=inputs.interval(_given(form, "interval"), field="interval"),
        weights=inputs.weights(_given(form, "weights"), field="weights"),
        activity=inputs.activity_level(_given(form, "activity"), field="activity level"),
        review=agent_use.ReviewMode.ON if form.get("review") == "on" else agent_use.ReviewMode.OFF,
    )
    if form.get("start") == "on":
        made, started = await run_in_threadpool(agent_use.create_and_start, fleet, new)
    else:
        made, started = await run_in_threadpool(agent_use.create, fleet, new), 0
    said = f"created {made.count} {form.get('persona')} agent(s): {made.first_id}-{made.last_id}"
    said += f", started {started}" if started else ""
    return web.back("/controls", said + (", under review" if form.get("review") == "on" else ""))


async def change(request: Request) -> Response:
    web = web_of(request)
    fleet = web.fleet
    form = await checked_form(request)
    command = form.get("command", "")
    selection = _selection(form)
    if command != "start":
        changed = (
            await run_in_threadpool(agent_use.change_status, fleet, command, selection)
        ).changed
        return web.back("/controls", f"{command}: {changed} agent(s) changed")
    provision = form.get("provision") == "on"
    start = agent_use.start if provision else agent_use.start_without_accounts
    # Provisioning asks the gallery once per agent: off the event loop.
    done = await run_in_threadpool(start, fleet, selection)
    said = f"start: {done.transition.changed} agent(s) changed"
    accounts = done.accounts
    if accounts is None:
        return web.back("/controls", said)
    said += (
        f"; gallery accounts: {accounts.created} created, {accounts.existing} had one, "
        f"{len(accounts.failed)} failed"
    )
    if not accounts.failed:
        return web.back("/controls", said)
    # Which accounts failed and why: too many for a redirect's URL, so kept for the
    # page it leads to (a reload of that page shows them again, and starts nothing).
    failed = sorted(accounts.failed.items())
    token = web.kept.put(request, (failed[:FAILED_SHOWN], len(failed)))
    return web.back("/controls", said, result=token)


async def delete(request: Request) -> Response:
    web = web_of(request)
    fleet = web.fleet
    form = await checked_form(request)
    selection = _selection(form)
    if form.get("confirm") != "yes":
        # The confirmation: what would go, and a second form that says yes.
        return web.page(request, "confirm_delete.html", form=form)
    gone = (await run_in_threadpool(agent_use.delete, fleet, selection)).changed
    return web.back("/controls", f"deleted {gone} agent(s)")


async def hold(request: Request) -> Response:
    web = web_of(request)
    fleet = web.fleet
    form = await checked_form(request)
    hours = _hours(form.get("hours") or "1")
    held = await run_in_threadpool(
        holds.hold, fleet, form.get("reason", ""), timedelta(hours=hours)
    )
    return web.back("/controls", f"fleet held until {when(held.until)} UTC: {held.reason}")


async def lift(request: Request) -> Response:
    web = web_of(request)
    fleet = web.fleet
    await checked_form(request)
    lifted = await run_in_threadpool(holds.lift, fleet)
    return web.back("/controls", f"lifted {lifted} hold(s)")


ROUTES: list[BaseRoute] = [
    Route("/controls", controls),
    Route("/controls/create", guarded(create), methods=["POST"]),
    Route("/controls/status", guarded(change), methods=["POST"]),
    Route("/controls/delete", guarded(delete), methods=["POST"]),
    Route("/controls/hold", guarded(hold), methods=["POST"]),
    Route("/controls/lift", guarded(lift), methods=["POST"]),
]


def _hours(text: str) -> float:
    """The hold form's hours: a number from ``SHORTEST_HOURS`` to ``LONGEST_HOURS``
    (InputError naming the field: inf, nan, abc, 1e-9)."""
    try:
        hours = float(text.strip()[:40])
    except ValueError:
        hours = math.nan
    if not SHORTEST_HOURS <= hours <= LONGEST_HOURS:  # nan compares false: refused too
        raise InputError(
            f"hours {text[:40]!r}: expected a number of hours from {SHORTEST_HOURS:g} "
            f"to {LONGEST_HOURS:g}"
        )
    return hours


def _given(form: dict[str, str], name: str) -> str | None:
    """A form field's value, None when left empty."""
    return form.get(name, "").strip() or None


def _selection(form: dict[str, str]) -> agent_use.Selection:
    refs = tuple(form.get("refs", "").replace(",", " ").split())
    persona = form.get("persona") or None
    everyone = form.get("all") == "on"
    return agent_use.Selection(refs=refs, persona=persona, everyone=everyone)
