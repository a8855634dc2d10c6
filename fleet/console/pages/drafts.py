"""Drafts: what agents under review wrote, for an owner to approve, edit or reject; one
by one or a filtered page at once. Each change is the use case the CLI calls
(``fleet.service.drafts``), a POST with the CSRF token."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fleet.console.security import checked_form
from fleet.console.web import guarded, reading, row_id, web_of
from fleet.core.statuses import DraftStatus
from fleet.errors import InputError
from fleet.service import drafts as use
from fleet.service.agents import Selection
from fleet.service.drafts import DRAFT_STATUSES, DraftView

# Drafts on one page (the bulk decisions act on the page shown).
PAGE = 50


def listing(request: Request) -> Response:
    web = web_of(request)
    fleet = web.fleet
    query = request.query_params
    status = query.get("status", DraftStatus.PENDING.value) or None
    persona = query.get("persona") or None
    agent = query.get("agent") or None
    try:
        found = use.find(fleet, status=status, agent=agent, persona=persona, limit=PAGE)
    except InputError as error:
        return web.error(request, 400, str(error))
    now = fleet.clock.now()
    return web.page(
        request,
        "drafts.html",
        rows=[_row(draft, now) for draft in found],
        statuses=DRAFT_STATUSES,
        status=status or "",
        persona=persona or "",
        agent=agent or "",
        personas=fleet.personas.slugs(),
        waiting=use.waiting(fleet),
        back=str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
    )


def one(request: Request) -> Response:
    web = web_of(request)
    fleet = web.fleet
    draft_id = row_id(request.path_params["id"], field="draft id") or 0
    try:
        draft = use.show(fleet, draft_id)
    except InputError as error:
        return web.error(request, 404, str(error))
    return web.page(request, "draft.html", d=_row(draft, fleet.clock.now()))


async def approve(request: Request) -> Response:
    web = web_of(request)
    fleet = web.fleet
    await checked_form(request)
    ids = await _ids(request)
    # An approval --here would call the gallery: this one only schedules (no I/O but
    # the database), still off the event loop.
    done = await run_in_threadpool(use.approve, fleet, ids)
    path, filters = await _back(request)
    return web.back(path, _said(done_ids(done), "approved"), **filters)


async def reject(request: Request) -> Response:
    web = web_of(request)
    fleet = web.fleet
    form = await checked_form(request)
    ids = await _ids(request)
    done = await run_in_threadpool(use.reject, fleet, ids, reason=form.get("reason") or None)
    path, filters = await _back(request)
    return web.back(path, _said([(d.draft_id, d.done) for d in done], "rejected"), **filters)


async def edit(request: Request) -> Response:
    web = web_of(request)
    fleet = web.fleet
    form = await checked_form(request)
    draft_id = row_id(request.path_params["id"], field="draft id") or 0
    description = form.get("description")
    edited = await run_in_threadpool(
        use.edit,
        fleet,
        draft_id,
        text=form.get("text", ""),
        description=description if description else None,
    )
    if not edited.done:
        raise InputError(f"draft {draft_id} is {edited.status}: only a pending one is edited")
    said = f"draft {draft_id} edited"
    if form.get("then") == "approve":
        await run_in_threadpool(use.approve, fleet, [draft_id])
        said += " and approved"
    return web.back(f"/drafts/{draft_id}", said)


async def review(request: Request) -> Response:
    web = web_of(request)
    fleet = web.fleet
    form = await checked_form(request)
    mode = form.get("mode", "")
    if mode not in ("on", "off"):
        raise InputError(f"review mode is on or off, not {mode[:20]!r}")
    selection = Selection(
        refs=tuple(form.get("refs", "").replace(",", " ").split()),
        persona=form.get("persona") or None,
        everyone=form.get("all") == "on",
    )
    done = await run_in_threadpool(use.review, fleet, selection, use.ReviewMode(mode))
    said = f"review {mode} for {done.changed} agent(s)"
    return web.back(
        "/drafts", said + (f"; {done.unchanged} already {mode}" if done.unchanged else "")
    )


ROUTES: list[BaseRoute] = [
    Route("/drafts", listing),
    Route("/drafts/review", guarded(review), methods=["POST"]),
    Route("/drafts/approve", guarded(approve), methods=["POST"]),
    Route("/drafts/reject", guarded(reject), methods=["POST"]),
    Route("/drafts/{id}/edit", guarded(edit), methods=["POST"]),
    Route("/drafts/{id}", reading(one)),
]


def done_ids(approvals: list[use.Approval]) -> list[tuple[int, bool]]:
    return [(a.decided.draft_id, a.decided.done) for a in approvals]


def _said(decided: list[tuple[int, bool]], verb: str) -> str:
    done = [draft_id for draft_id, did in decided if did]
    left = len(decided) - len(done)
    said = f"{verb} {len(done)} draft(s)"
    if done:
        said += ": " + ", ".join(str(draft_id) for draft_id in done[:20])
    if left:
        said += f"; {left} decided before, left as they were"
    return said


async def _ids(request: Request) -> list[int]:
    """The drafts a POST names: the checked ones (``ids``), or the page's (``page``)."""
    form = await request.form()
    if form.get("scope") == "page":
        given = [str(value) for value in form.getlist("page")]
    else:
        given = [str(value) for value in form.getlist("ids")]
    parts = [part for value in given for part in value.replace(",", " ").split()]
    if not parts:
        raise InputError("choose at least one draft")
    return [row_id(part, field="draft id") or 0 for part in parts]


async def _back(request: Request) -> tuple[str, dict[str, str]]:
    """The drafts page the POST came from and its filters, never another site."""
    form = await request.form()
    back = urlsplit(str(form.get("back") or "/drafts"))
    path = back.path if re.fullmatch(r"/drafts(/\d+)?", back.path) else "/drafts"
    filters = {
        name: value
        for name, value in parse_qsl(back.query)
        if name in ("status", "persona", "agent")
    }
    return path, filters


def _row(draft: DraftView, now: datetime) -> dict[str, Any]:
    content = draft.content
    post = draft.action == "post"
    reply = draft.action == "reply"
    seconds = max(0, int((now - draft.created_at).total_seconds()))
    image = content.get("image_url") if post else None
    return {
        "id": draft.id,
        "handle": draft.handle,
        "persona": draft.persona,
        "action": draft.action,
        "status": draft.status,
        "text": str((content.get("title") if post else content.get("text")) or ""),
        "description": str(content.get("description") or "") if post else "",
        "image_url": _web_image(image),
        "answers_title": None if post else content.get("title"),
        # A reply answers a comment on the agent's own post: the post is the agent's.
        "answers_author": None if post else (draft.handle if reply else content.get("author")),
        "answers_comment": str(content.get("comment") or "") if reply else "",
        "answers_commenter": str(content.get("to") or "") if reply else "",
        "answers_post": None if post else content.get("post_id") or draft.target_post_id,
        "answers_image": None if post else _web_image(content.get("post_image")),
        "age": _age(seconds),
        "expires_at": draft.expires_at,
        "decided_at": draft.decided_at,
        "publish_at": draft.publish_at,
        "reason": draft.reason,
        "ending": draft.ending,
        "activity_status": draft.activity_status,
        "edited": bool(content.get("edited")),
        "post_id": (draft.result or {}).get("post_id"),
    }


def _web_image(url: object) -> str | None:
    """An image's address a page may show (http or https only), or None."""
    return url if isinstance(url, str) and url.startswith(("http://", "https://")) else None


def _age(seconds: int) -> str:
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86_400:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    return f"{seconds // 86_400} d {seconds % 86_400 // 3600} h"
