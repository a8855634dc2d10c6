"""The agents: a searchable, filterable page of them in keyset pages, and one in full,
with its buttons: tick now, act now (the CLI's ``agents tick`` and ``agents act``)."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fleet.console.security import checked_form
from fleet.console.web import AGENT_STATUSES, guarded, reading, row_id, short_text, web_of
from fleet.core.kinds import ACTION_NAMES
from fleet.core.statuses import ActivityStatus
from fleet.errors import ConflictError, InputError
from fleet.service import agents as agent_use
from fleet.service import board as board_use
from fleet.service import schedule


def agent_list(request: Request) -> Response:
    web = web_of(request)
    fleet = web.fleet
    params = request.query_params
    after = row_id(params.get("after"), field="after") or 0
    rows, next_after = board_use.roster(
        fleet,
        after=after,
        persona=short_text(params.get("persona"), field="persona"),
        status=short_text(params.get("status"), field="status"),
        search=short_text(params.get("q"), field="search (q)"),
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
    web = web_of(request)
    fleet = web.fleet
    try:
        seen = board_use.profile(fleet, request.path_params["ref"])
    except (InputError, ConflictError) as error:
        return web.error(request, 404, str(error))
    day: schedule.AgentDay | None = None
    day_refused: str | None = None
    try:
        day = schedule.agent_day(
            fleet, str(seen.agent.id), request.query_params.get("day") or None, field="day"
        )
    except InputError as error:  # a persona no longer loaded, or a bad ?day=
        day_refused = str(error)
    return web.page(
        request,
        "agent.html",
        p=seen,
        gallery=web.gallery,
        kinds=ACTION_NAMES,
        day=day,
        day_sessions=_sessions(day) if day else [],
        day_refused=day_refused,
    )


async def tick(request: Request) -> Response:
    web = web_of(request)
    fleet = web.fleet
    await checked_form(request)
    decision = await run_in_threadpool(agent_use.tick_now, fleet, request.path_params["ref"])
    key = decision.key
    handle = (await run_in_threadpool(agent_use.get, fleet, str(key.agent_id))).handle
    said = (
        f"tick now: {handle} decided to {key.action.value} "
        f"(activity {decision.activity_id}, key {key.text})"
    )
    return web.back(_page_of(handle), said)


async def act(request: Request) -> Response:
    web = web_of(request)
    fleet = web.fleet
    form = await checked_form(request)
    ref, kind, here = request.path_params["ref"], form.get("kind", ""), form.get("here") == "on"

    def work() -> agent_use.Acted:
        # Run here, the action may call the LLM and the gallery; sent, the broker is
        # reached: either way off the event loop.
        if here:
            return agent_use.act_here(fleet, ref, kind)
        return agent_use.send_now(fleet, ref, kind, fleet.sender(instead=", or tick “run it here”"))

    acted = await run_in_threadpool(work)
    return web.back(_page_of(acted.handle), f"act now: {kind} " + _outcome(acted))


ROUTES: list[BaseRoute] = [
    Route("/agents", reading(agent_list)),
    Route("/agents/{ref}", agent_page),
    Route("/agents/{ref}/tick", guarded(tick), methods=["POST"]),
    Route("/agents/{ref}/act", guarded(act), methods=["POST"]),
]


def _sessions(day: schedule.AgentDay) -> list[dict[str, object]]:
    """The simulated day's sessions (each steady tick its own): when each opens, the gap
    before it, and its actions in order (None: quotas spent)."""
    out: list[dict[str, object]] = []
    for tick in day.ticks:
        if tick["opens"] or not day.in_sessions or not out:
            gap = tick["gap_seconds"]
            out.append({"at": tick["local_time"], "gap": gap, "actions": []})
        actions = out[-1]["actions"]
        assert isinstance(actions, list)
        actions.append(tick["action"])
    return out


def _page_of(handle: str) -> str:
    return "/agents/" + quote(handle, safe="")


def _outcome(acted: agent_use.Acted) -> str:
    """How an action asked for now went, in the words of ``fleet agents act``."""
    where = f"(activity {acted.activity_id}, key {acted.key})"
    if acted.status == "sent":
        return f"sent to the workers {where}"
    if acted.status == ActivityStatus.DEAD:
        return f"dead, dead letter {acted.dead_letter_id}: {acted.reason} {where}"
    reason = acted.reason or (acted.detail or {}).get("reason")
    return f"{acted.status}{f': {reason}' if reason else ''} {where}"
