"""Dead letters: list, inspect (secrets redacted), replay, purge."""

from __future__ import annotations

import json

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fleet.console.security import checked_form
from fleet.console.web import guarded, reading, row_id, web_of
from fleet.errors import InputError
from fleet.service import dead_letters


def letter_list(request: Request) -> Response:
    web = web_of(request)
    fleet = web.fleet
    every = request.query_params.get("all") == "1"
    rows = (dead_letters.find_all if every else dead_letters.find)(fleet, limit=200)
    return web.page(request, "dead_letters.html", rows=rows, every=every)


def letter_page(request: Request) -> Response:
    web = web_of(request)
    fleet = web.fleet
    letter_id = row_id(request.path_params["id"], field="dead letter id") or 0
    try:
        letter = dead_letters.get(fleet, letter_id)
    except InputError as error:
        return web.error(request, 404, str(error))
    arguments = json.dumps(letter.arguments, indent=2, default=str)
    return web.page(request, "dead_letter.html", letter=letter, arguments=arguments)


async def replay(request: Request) -> Response:
    web = web_of(request)
    fleet = web.fleet
    form = await checked_form(request)
    ids = _ids(form.get("ids", ""))

    def work() -> list[tuple[int, str, str]]:
        # Reaching the broker and the database both block: off the event loop.
        send = fleet.sender(instead="a worker must be running")
        return dead_letters.replay(fleet, ids, send)

    done = await run_in_threadpool(work)
    return web.back("/dead-letters", f"replayed {len(done)} dead letter(s)")


async def purge(request: Request) -> Response:
    web = web_of(request)
    fleet = web.fleet
    form = await checked_form(request)
    if form.get("all") == "yes" and form.get("confirm") == "yes":
        gone = await run_in_threadpool(dead_letters.purge, fleet, None)
    else:
        ids = _ids(form.get("ids", ""))
        gone = await run_in_threadpool(dead_letters.purge, fleet, ids)
    return web.back("/dead-letters", f"purged {gone} dead letter(s)")


ROUTES: list[BaseRoute] = [
    Route("/dead-letters", letter_list),
    Route("/dead-letters/replay", guarded(replay), methods=["POST"]),
    Route("/dead-letters/purge", guarded(purge), methods=["POST"]),
    Route("/dead-letters/{id}", reading(letter_page)),
]


def _ids(text: str) -> list[int]:
    parts = text.replace(",", " ").split()
    if not parts:
        raise InputError("name at least one dead letter")
    return [row_id(part, field="dead letter id") or 0 for part in parts]
