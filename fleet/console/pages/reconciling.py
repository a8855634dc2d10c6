"""Reconcile: the activity ledger against the gallery (``fleet reconcile``). A check
reads and shows the differences; a fix, after a confirmation, repairs what can be
(``fleet reconcile --fix``) and shows what it did on the page its redirect leads to."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fleet.console.security import checked_form
from fleet.console.web import guarded, web_of
from fleet.errors import InputError
from fleet.service import inputs
from fleet.service.findings import Reconciliation
from fleet.service.reconcile import check, check_and_fix

WINDOWS = ("1h", "6h", "24h", "3d", "7d")
# What a fix does to each kind of difference (as ``fleet reconcile --help`` says).
REPAIRS = {
    "unrecorded": "on the gallery, dead or skipped in the ledger: marked succeeded",
    "missing": "succeeded in the ledger, not on the gallery: made dead, with a dead letter",
    "stale": "pending past its lease: sent to the workers again",
    "orphan": "by an agent, explained by no activity: reported only",
    "like_shortfall": "fewer likes than the ledger's: reported only",
    "like_excess": "more likes than the fleet made (perhaps a person's): reported only",
}


def page(request: Request) -> Response:
    web = web_of(request)
    fleet = web.fleet
    params = request.query_params
    since = params.get("since") or "24h"
    token = params.get("result")
    found: Reconciliation | None = web.kept.get(request, token)
    fixed = found is not None
    refused = None
    if found is None and params.get("run"):
        # A check writes nothing: a GET, run on the thread pool (it reads the gallery).
        try:
            found = check(fleet, inputs.window(since, field="since"))
        except InputError as error:
            refused = str(error)
    return web.page(
        request,
        "reconcile.html",
        status_code=400 if refused else 200,
        found=found,
        rows=_rows(found),
        after_fix=fixed,
        result_gone=bool(token) and found is None,
        refused=refused,
        since=since,
        windows=WINDOWS,
        repairs=REPAIRS,
    )


async def fix(request: Request) -> Response:
    web = web_of(request)
    fleet = web.fleet
    form = await checked_form(request)
    since = form.get("since") or "24h"
    window = inputs.window(since, field="since")
    if form.get("confirm") != "yes":
        return web.page(request, "reconcile.html", confirming=True, since=since, repairs=REPAIRS)
    # It reads the gallery page by page: off the event loop.
    found = await run_in_threadpool(check_and_fix, fleet, window)
    token = web.kept.put(request, found)
    said = f"reconcile --fix: {found.count} difference(s), {len(found.fixed)} repaired"
    return web.back("/reconcile", said, since=since, result=token)


ROUTES: list[BaseRoute] = [
    Route("/reconcile", page),
    Route("/reconcile/fix", guarded(fix), methods=["POST"]),
]


def _rows(found: Reconciliation | None) -> list[tuple[object, bool]]:
    """Each finding, and whether the fix repaired it."""
    if found is None:
        return []
    repaired = {id(f) for f in found.fixed}
    return [(f, id(f) in repaired) for f in found.findings]
