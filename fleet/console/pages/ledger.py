"""The activity ledger: every decided action, filtered by agent, persona, kind and status,
newest first in keyset pages (``fleet activity list``), and the actions of a recent window
counted by persona, kind and status (``fleet activity stats``)."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fleet.console.web import STATUSES, reading, row_id, short_text, web_of
from fleet.core.kinds import ACTION_NAMES
from fleet.errors import InputError
from fleet.service import activity as activity_use
from fleet.service import inputs

FILTERS = ("agent", "persona", "action", "status")
WINDOWS = ("5m", "1h", "6h", "1d", "7d")


def ledger(request: Request) -> Response:
    web = web_of(request)
    fleet = web.fleet
    params = request.query_params
    keep = {k: (short_text(params.get(k), field=k) or "").strip() for k in FILTERS}
    since = short_text(params.get("since"), field="since") or "1h"
    before = row_id(params.get("before"), field="before") or None
    rows: list[activity_use.ActivityView] = []
    next_before = None
    refused = []
    given = {k: v or None for k, v in keep.items()}
    query = activity_use.LedgerQuery(
        given["agent"], given["persona"], given["action"], given["status"], before=before
    )
    try:
        rows, next_before = activity_use.ledger_page(fleet, query)
    except InputError as error:
        refused.append(str(error))
    try:
        counted = activity_use.stats(fleet, inputs.window(since, field="since"))
    except InputError as error:
        refused.append(str(error))
        counted = []
    stats: dict[tuple[str, str], dict[str, int]] = {}
    for persona, action, status, n in counted:
        stats.setdefault((persona, action), {})[status] = n
    shown = {k: v for k, v in keep.items() if v}
    return web.page(
        request,
        "activity.html",
        status_code=400 if refused else 200,
        rows=rows,
        refused=refused,
        filters=keep,
        since=since,
        windows=WINDOWS,
        stats=sorted(stats.items()),
        next_url=(
            "/activity?" + urlencode({**shown, "since": since, "before": next_before})
            if next_before is not None
            else None
        ),
        first_url="/activity?" + urlencode({**shown, "since": since}) if before else None,
        personas=fleet.personas.slugs(),
        kinds=ACTION_NAMES,
        statuses=STATUSES,
    )


ROUTES: list[BaseRoute] = [Route("/activity", reading(ledger))]
