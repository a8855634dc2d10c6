"""The sandbox gallery: the gallery API (docs/gallery-api.md in the Fleet
repository) as a Starlette app.

``create_app(config)`` serves ``/api/*`` (the gallery API: service token, ``X-Agent-Id``,
camelCase JSON, the like toggle, budget 429s with ``resetAt``, the 503 ``FLEET_PAUSED``
switch), ``/images/{id}.png`` (rendered pictures), ``/`` (the HTML gallery) and
``/admin/*`` (controls and introspection, see ``fleet_sandbox.faults``).

A call is checked in this order: token (401), pause (503), acting agent (403), body
(422), replay of a remembered Idempotency-Key, budget (429), then its effect. One
workflow run or one post spends one unit of the agent's and the fleet's daily budget.
With idempotency on, a POST carrying ``Idempotency-Key`` that was answered before (by
the same actor) gets the same answer again, with ``Idempotent-Replayed: true``, and no
new effect; a key reused for another kind of call is refused (422). Only successful
answers are remembered. The database calls run on the event loop, one at a time: the
sandbox is one process, and that keeps the like toggle and the budgets exact.
"""

from __future__ import annotations

import functools
import random
import secrets
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import anyio.to_thread
from sqlalchemy import Connection
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from fleet_sandbox import (
    follows,
    images,
    page,
    page_follows,
    persons,
    provenance,
    social_api,
    storage,
)
from fleet_sandbox.config import Controls, SandboxConfig
from fleet_sandbox.faults import FaultInjector, admin_routes
from fleet_sandbox.schemas import (
    BadRequest,
    CommentBody,
    ConsentBody,
    DisclosureBody,
    ExecuteBody,
    InviteBody,
    PostBody,
    Render,
    comment_json,
    fit,
    item_json,
    parse,
    plan,
    stamp,
    user_json,
)
from fleet_sandbox.state import (
    SERVICE,
    ApiError,
    Call,
    Sandbox,
    act,
    acting_agent,
    agent_reads,
    authorize,
    commit,
    page_query,
    post_id_of,
    replay,
    sandbox_of,
)
from fleet_sandbox.storage import Storage

SORTS: dict[str, storage.Sort] = {"recent": "recent", "popular": "popular", "trending": "trending"}
# The longest ``after`` of the consent list's paging (a username; Fleet sends at most 256).
MAX_AFTER = 256


async def invite(request: Request) -> Response:
    """POST /api/admin/users/invite: the agent's account, created once."""
    authorize(request)
    body = await parse(request, InviteBody)

    def effect(conn: Connection, _key: str | None, now: datetime) -> dict[str, Any]:
        user, created = storage.invite(
            conn,
            agent_id=body.agent_id,
            name=body.name,
            username=body.username,
            persona=body.agent_persona_id,
            is_agent=body.is_agent,
            now=now,
        )
        if not created and body.agent_id is not None and user.agent_id != body.agent_id:
            raise ApiError(422, f"username {body.username!r} is taken")
        if body.disclosure is not None and user.is_agent:
            # At invite, and again at every invite of the account: kept in sync.
            storage.set_disclosure(conn, user.id, _disclosure(body.disclosure), now=now)
        return {"id": str(user.id), "username": user.username, "created": created}

    return commit(request, "invite", SERVICE, effect)


def _disclosure(body: DisclosureBody) -> storage.Disclosure:
    return storage.Disclosure(body.automated, body.label, body.operator_name, body.operator_url)


def _named_user(conn: Connection, request: Request) -> storage.User:
    username = request.path_params["username"]
    user = storage.user_by_username(conn, username) if len(username) <= 64 else None
    if user is None:
        raise ApiError(404, "user not found")
    return user


def _consent_json(person: storage.PersonConsent) -> dict[str, Any]:
    return {
        "username": person.username,
        "agentInteractions": person.agent_interactions,
        "blockedAgents": list(person.blocked),
        "updatedAt": None if person.updated_at is None else stamp(person.updated_at),
    }


async def get_user(request: Request) -> Response:
    """GET /api/admin/users/{username}: an account, its disclosure, a person's consent."""
    authorize(request)
    with sandbox_of(request).storage.begin() as conn:
        user = _named_user(conn, request)
        shown = storage.disclosures_of(conn, [user.id]).get(user.id)
        said = storage.consent_list(conn, limit=1, offset=0, user_id=user.id)
    body: dict[str, Any] = user_json(user)
    body["disclosure"] = (
        None
        if shown is None
        else {
            "automated": shown.automated,
            "label": shown.label,
            "operatorName": shown.operator_name,
            "operatorUrl": shown.operator_url,
        }
    )
    if not user.is_agent:
        person = said[0] if said else storage.PersonConsent(user.username, "all", (), None)
        body["agentInteractions"] = person.agent_interactions
        body["blockedAgents"] = list(person.blocked)
    return JSONResponse(body)


async def put_disclosure(request: Request) -> Response:
    """PUT /api/admin/users/{username}/disclosure: an agent account's profile line."""
    authorize(request)
    body = await parse(request, DisclosureBody)
    sandbox = sandbox_of(request)
    with sandbox.storage.begin() as conn:
        user = _named_user(conn, request)
        if not user.is_agent:
            raise ApiError(422, "only an agent account carries a disclosure")
        storage.set_disclosure(conn, user.id, _disclosure(body), now=sandbox.clock())
    return JSONResponse({"updated": True})


def _change_consent(request: Request, body: ConsentBody) -> storage.PersonConsent:
    sandbox = sandbox_of(request)
    with sandbox.storage.begin() as conn:
        person = _named_user(conn, request)
        if person.is_agent:
            raise ApiError(422, "an agent account has no say over agents")
        ids = {}
        for name in [*body.block, *body.unblock]:
            agent = storage.user_by_username(conn, name)
            if agent is None or not agent.is_agent:
                raise ApiError(422, f"no agent account {name[:64]!r} to block or unblock")
            ids[name] = agent.id
        storage.set_consent(
            conn,
            person.id,
            agent_interactions=body.agent_interactions,
            block=[ids[n] for n in body.block],
            unblock=[ids[n] for n in body.unblock],
            now=sandbox.clock(),
        )
        said = storage.consent_list(conn, limit=1, offset=0, user_id=person.id)
    return said[0] if said else storage.PersonConsent(person.username, "all", (), None)


async def put_consent(request: Request) -> Response:
    """PUT /api/admin/users/{username}/agent-consent: a person's say, set on their behalf
    (the sandbox's people are simulated; the page's control does the same)."""
    authorize(request)
    body = await parse(request, ConsentBody)
    return JSONResponse(_consent_json(_change_consent(request, body)))


async def consent_list(request: Request) -> Response:
    """GET /api/admin/agent-consent: every person who said something about agents, by
    username; ``after`` (a username) pages by that key, ``offset`` for older clients."""
    authorize(request)
    limit, offset = page_query(request, max_limit=500)
    after = request.query_params.get("after")
    if after is not None and not 0 < len(after) <= MAX_AFTER:
        raise ApiError(422, f"after must be a username of 1-{MAX_AFTER} characters")
    with sandbox_of(request).storage.begin() as conn:
        found = storage.consent_list(conn, limit=limit, offset=offset, after=after)
    return JSONResponse({"people": [_consent_json(p) for p in found]})


async def delete_user(request: Request) -> Response:
    """DELETE /api/admin/users/{id}: the user and all they made; 404 when already gone."""
    authorize(request)
    raw = request.path_params["user_id"]
    with sandbox_of(request).storage.begin() as conn:
        deleted = raw.isdigit() and len(raw) <= 18 and storage.delete_user(conn, int(raw))
    if not deleted:
        raise ApiError(404, "user not found")
    return JSONResponse({"deleted": True})


async def execute(request: Request) -> Response:
    """POST /api/execute/sync: run an image workflow; each saved picture gets a URL."""
    agent = acting_agent(request)
    body = await parse(request, ExecuteBody)
    sandbox = sandbox_of(request)
    renders = plan(body, sandbox.config.retired_models)
    answered = replay(request, "execute", agent.username)
    if answered is not None:
        return answered
    persona = agent.persona or "unknown"
    strip = sandbox.controls.faults.strip_provenance
    pictures = []
    for r in renders:
        width, height = fit(r.width, r.height)
        picture_id = images.image_id(
            r.prompt, style=r.style, persona=persona, width=width, height=height
        )
        if r.provenance is not None:
            # The marks name the agent: its own picture, apart from the same drawing unmarked.
            picture_id = provenance.marked_id(picture_id, r.provenance.model_dump_json(), strip)
        draw = functools.partial(
            _draw, sandbox, r, persona=persona, width=width, height=height, strip=strip
        )
        pictures.append((picture_id, await anyio.to_thread.run_sync(draw), r))
    base = sandbox.config.image_base_url or str(request.base_url)

    def effect(conn: Connection, _key: str | None, now: datetime) -> dict[str, Any]:
        for picture_id, png, r in pictures:
            storage.save_image(
                conn,
                image_id=picture_id,
                png=png,
                prompt=r.prompt,
                style=r.style,
                persona=persona,
                now=now,
            )
        return {
            "status": "completed",
            "executionId": uuid.uuid4().hex,
            "imageUrls": [f"{base.rstrip('/')}/images/{p}.png" for p, _, _ in pictures],
        }

    return commit(request, "execute", agent.username, effect, spends=True)


def _draw(
    sandbox: Sandbox, r: Render, *, persona: str, width: int, height: int, strip: bool
) -> bytes:
    """The saved picture's PNG: marked when its save step asked (unless the fault strips)."""
    png = images.render(r.prompt, style=r.style, persona=persona, width=width, height=height)
    if r.provenance is None or strip or sandbox.marker is None:
        return png
    asked = r.provenance
    marks = provenance.Marks(
        asked.digital_source_type, r.model, asked.agent, asked.operator, asked.operator_url
    )
    return sandbox.marker.mark(png, marks, title=f"{r.style} by {asked.agent}")


async def create_post(request: Request) -> Response:
    """POST /api/showcase: publish a post."""
    agent = acting_agent(request)
    body = await parse(request, PostBody)

    def effect(conn: Connection, key: str | None, now: datetime) -> dict[str, Any]:
        post_id = storage.create_post(
            conn,
            user=agent,
            title=body.title,
            description=body.description,
            image_url=body.image_url,
            workflow_id=body.workflow_id,
            key=key,
            now=now,
        )
        created = storage.post(conn, post_id)
        assert created is not None
        return {"showcaseItem": item_json(created)}

    return commit(request, "create_post", agent.username, effect, status=201, spends=True)


async def list_posts(request: Request) -> Response:
    """GET /api/showcase: a page of posts."""
    sandbox = sandbox_of(request)
    with agent_reads(request) as (conn, _agent):
        limit, offset = page_query(request)
        sort = request.query_params.get("sort", "recent")
        if sort not in SORTS:
            raise ApiError(422, "sort must be recent, popular or trending")
        sandbox.feed_reads[sort] += 1
        found = storage.list_posts(
            conn,
            limit=limit,
            offset=offset,
            sort=SORTS[sort],
            now=sandbox.clock(),
            agent_weight=sandbox.config.agent_like_weight,
        )
    return JSONResponse({"items": [item_json(p) for p in found]})


async def get_post(request: Request) -> Response:
    """GET /api/showcase/{id}: one post (counts a view)."""
    with agent_reads(request) as (conn, _agent):
        post_id = post_id_of(request)
        storage.add_view(conn, post_id)
        found = storage.post(conn, post_id)
    if found is None:
        raise ApiError(404, "showcase item not found")
    return JSONResponse({"item": item_json(found)})


async def like(request: Request) -> Response:
    """POST /api/showcase/{id}/like: a toggle; a second call unlikes."""

    def effect(call: Call) -> dict[str, Any]:
        assert call.post_id is not None
        toggled = storage.toggle_like(
            call.conn, post_id=call.post_id, user_id=call.agent.id, key=call.key, now=call.now
        )
        if toggled is None:
            raise ApiError(404, "showcase item not found")
        liked, count = toggled
        return {"success": True, "liked": liked, "likeCount": count}

    return act(request, "like", effect, on_post=True)


async def create_comment(request: Request) -> Response:
    """POST /api/showcase/{id}/comments: comment on a post."""
    agent = acting_agent(request)
    post_id = post_id_of(request)
    body = await parse(request, CommentBody)

    def effect(conn: Connection, key: str | None, now: datetime) -> dict[str, Any]:
        if not storage.post_exists(conn, post_id):
            raise ApiError(404, "showcase item not found")
        parent = None if body.parent_id is None else int(body.parent_id)
        if parent is not None and not storage.comment_on_post(
            conn, comment_id=parent, post_id=post_id
        ):
            raise ApiError(422, f"parentId {parent} is not a comment of this showcase item")
        made = storage.create_comment(
            conn,
            post_id=post_id,
            user=agent,
            content=body.content,
            key=key,
            now=now,
            parent_id=parent,
        )
        return {"comment": comment_json(made)}

    return commit(request, "create_comment", agent.username, effect, status=201)


async def list_comments(request: Request) -> Response:
    """GET /api/showcase/{id}/comments: a page of comments, oldest first."""
    with agent_reads(request) as (conn, _agent):
        post_id = post_id_of(request)
        limit, offset = page_query(request)
        if not storage.post_exists(conn, post_id):
            raise ApiError(404, "showcase item not found")
        found = storage.list_comments(conn, post_id=post_id, limit=limit, offset=offset)
    return JSONResponse({"comments": [comment_json(c) for c in found]})


async def image(request: Request) -> Response:
    """GET /images/{id}.png: a rendered picture (public, cached forever: ids are hashes)."""
    picture = request.path_params["image_id"]
    if picture == "placeholder":
        png: bytes | None = images.placeholder()
    else:
        with sandbox_of(request).storage.begin() as conn:
            png = storage.image_png(conn, picture)
    if png is None:
        return Response("no such image", 404, media_type="text/plain")
    return Response(
        png,
        media_type="image/png",
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )


def _shown(conn: Connection, posts: list[storage.Post], talk: list[storage.Comment]) -> page.Shown:
    """The profile lines of the agent accounts among these posts' and comments' authors."""
    agents = {p.user.id for p in posts if p.user.is_agent}
    agents |= {c.user.id for c in talk if c.user.is_agent}
    return storage.disclosures_of(conn, sorted(agents))


def _gallery(request: Request, offset: int) -> tuple[str, page.Shown]:
    sandbox = sandbox_of(request)
    with sandbox.storage.begin() as conn:
        posts = storage.list_posts(
            conn, limit=page.PAGE_SIZE, offset=offset, sort="recent", now=sandbox.clock()
        )
        talk = {p.id: storage.list_comments(conn, post_id=p.id, limit=3, offset=0) for p in posts}
        total = storage.count_posts(conn)
        shown = _shown(conn, posts, [c for cs in talk.values() for c in cs])
    inner = page.gallery(posts, talk, total=total, now=sandbox.clock(), offset=offset, shown=shown)
    return inner, shown


def _offset(request: Request) -> int | Response:
    """The page's ``?offset=``, or the 400 that says what is allowed."""
    try:
        return page.offset_of(request.query_params.get("offset"))
    except ValueError as bad:
        return Response(str(bad), 400, media_type="text/plain")


async def home(request: Request) -> Response:
    """GET /: the gallery page, newest first, ``?offset=`` posts in; the first page refreshes."""
    offset = _offset(request)
    if isinstance(offset, Response):
        return offset
    nonce = secrets.token_urlsafe(12)
    inner, shown = _gallery(request, offset)
    html = page.document(
        inner,
        refresh_seconds=sandbox_of(request).config.refresh_seconds,
        probe=request.query_params.get("probe") == "1",
        nonce=nonce,
        offset=offset,
        meta=page.metadata(shown),
        viewer=persons.viewer_of(request),
    )
    return HTMLResponse(html, headers={"Content-Security-Policy": page.csp(nonce)})


async def fragment(request: Request) -> Response:
    """GET /fragment: the gallery's inner HTML (``?offset=`` as the page), for its refresh."""
    offset = _offset(request)
    if isinstance(offset, Response):
        return offset
    return HTMLResponse(_gallery(request, offset)[0], headers={"Cache-Control": "no-store"})


async def post_page(request: Request) -> Response:
    """GET /posts/{id}: one post's page, with its comments (it does not refresh)."""
    raw = request.path_params["post_id"]
    if not raw.isdigit() or len(raw) > 18:
        return Response("no such post", 404, media_type="text/plain")
    with sandbox_of(request).storage.begin() as conn:
        found = storage.post(conn, int(raw))
        talk = (
            []
            if found is None
            else storage.list_comments(conn, post_id=found.id, limit=100, offset=0)
        )
        shown = {} if found is None else _shown(conn, [found], talk)
    if found is None:
        return Response("no such post", 404, media_type="text/plain")
    picture = _own_image(found.image_url)
    marks = ""
    if picture is not None:
        with sandbox_of(request).storage.begin() as conn:
            png = storage.image_png(conn, picture)
        marks = "" if png is None else await anyio.to_thread.run_sync(provenance.describe, png)
    nonce = secrets.token_urlsafe(12)
    viewer = persons.viewer_of(request)
    raw_reply = request.query_params.get("reply", "")
    replying = int(raw_reply) if raw_reply.isdigit() and len(raw_reply) <= 18 else None
    html = page.document(
        page.alone(found, talk, shown, marks, viewer=viewer, replying=replying),
        refresh_seconds=0,
        probe=request.query_params.get("probe") == "1",
        nonce=nonce,
        alone=True,
        meta=page.metadata(shown, found),
        viewer=viewer,
    )
    return HTMLResponse(html, headers={"Content-Security-Policy": page.csp(nonce)})


def _own_image(url: str) -> str | None:
    """The id of a picture this sandbox stored, from its URL (None: another's picture)."""
    name = url.rsplit("/images/", 1)[-1]
    stem = name.removesuffix(".png")
    return stem if name.endswith(".png") and stem.isalnum() and len(stem) <= 64 else None


async def people_page(request: Request) -> Response:
    """GET /people/{username}: an agent's profile line, or a person's page (their control
    over agents when they are signed in as themself); POST: that person's own choice
    (``fleet_sandbox.persons.consent``: their session, its CSRF token, this gallery's
    own page; nobody changes another's say)."""
    if request.method == "POST":
        return await persons.consent(request)
    sandbox = sandbox_of(request)
    with sandbox.storage.begin() as conn:
        try:
            user = _named_user(conn, request)
        except ApiError:
            return Response("no such account", 404, media_type="text/plain")
        shown = storage.disclosures_of(conn, [user.id]).get(user.id)
        found = storage.consent_list(conn, limit=1, offset=0, user_id=user.id)
        agents = [] if user.is_agent else storage.agent_usernames(conn, limit=500)
        counts = follows.counts(conn, user.id)
        lists = [
            follows.listed(conn, user_id=user.id, which=w, limit=page_follows.SHOWN, offset=0)
            for w in ("followers", "following")
        ]
    person = found[0] if found else storage.PersonConsent(user.username, "all", (), None)
    viewer = persons.viewer_of(request)
    nonce = secrets.token_urlsafe(12)
    inner = page.profile(
        user,
        disclosure=shown,
        said=person.agent_interactions,
        blocked=list(person.blocked),
        agents=agents,
        viewer=viewer,
        saved=request.query_params.get("saved") == "1",
    )
    inner += page_follows.follows(*counts, *lists)
    meta = page.metadata({user.id: shown} if shown is not None else {})
    html = page.document(
        inner, refresh_seconds=0, probe=False, nonce=nonce, alone=True, meta=meta, viewer=viewer
    )
    return HTMLResponse(html, headers={"Content-Security-Policy": page.profile_csp(nonce)})


async def _api_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return JSONResponse(exc.body, exc.status, headers=exc.headers)


async def _bad_request(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BadRequest)
    body: dict[str, Any] = {"error": str(exc)}
    if exc.errors:
        body["errors"] = exc.errors
    return JSONResponse(body, exc.status)


# The agents' calls on posts first: the router tries the routes in order until one
# matches, and these are most of the calls (a like matched the eleventh pattern).
API_ROUTES = [
    Route("/api/showcase/{post_id}/like", like, methods=["POST"], name="like"),
    Route("/api/showcase", list_posts, methods=["GET"], name="list_posts"),
    Route("/api/showcase/{post_id}", get_post, methods=["GET"], name="get_post"),
    Route(
        "/api/showcase/{post_id}/comments", create_comment, methods=["POST"], name="create_comment"
    ),
    Route("/api/showcase/{post_id}/comments", list_comments, methods=["GET"], name="list_comments"),
    Route("/api/showcase", create_post, methods=["POST"], name="create_post"),
    Route("/api/execute/sync", execute, methods=["POST"], name="execute"),
    Route("/api/admin/users/invite", invite, methods=["POST"], name="invite"),
    Route("/api/admin/users/{user_id}", delete_user, methods=["DELETE"], name="delete_user"),
    Route("/api/admin/users/{username}", get_user, methods=["GET"], name="get_user"),
    Route(
        "/api/admin/users/{username}/disclosure",
        put_disclosure,
        methods=["PUT"],
        name="put_disclosure",
    ),
    Route(
        "/api/admin/users/{username}/agent-consent",
        put_consent,
        methods=["PUT"],
        name="put_consent",
    ),
    Route("/api/admin/agent-consent", consent_list, methods=["GET"], name="consent_list"),
    *social_api.ROUTES,
]


def create_app(
    config: SandboxConfig | None = None, *, clock: Callable[[], datetime] | None = None
) -> Starlette:
    """The sandbox as an ASGI app; tables are created when it starts."""
    config = config or SandboxConfig()
    sandbox = Sandbox(
        config=config,
        storage=Storage(config.database_url),
        controls=Controls.of(config),
        clock=clock or (lambda: datetime.now(UTC)),
        dice=random.Random(config.seed),
        marker=provenance.Marker(functools.partial(provenance.pair_of, config)),
    )

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        sandbox.storage.create()
        try:
            yield
        finally:
            sandbox.storage.dispose()

    routes = [
        *API_ROUTES,
        Route("/images/{image_id}.png", image, methods=["GET"], name="image"),
        Route("/", home, methods=["GET"], name="home"),
        Route("/fragment", fragment, methods=["GET"], name="fragment"),
        Route("/posts/{post_id}", post_page, methods=["GET"], name="post_page"),
        Route("/people/{username}", people_page, methods=["GET", "POST"], name="people_page"),
        *persons.routes(),
        *admin_routes(),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(FaultInjector, sandbox=sandbox, routes=API_ROUTES)],
        exception_handlers={ApiError: _api_error, BadRequest: _bad_request},
        lifespan=lifespan,
    )
    app.state.sandbox = sandbox
    # Signs people's session cookies and CSRF tokens: new at every start (sessions end
    # with the process, as the in-memory gallery does).
    app.state.person_secret = secrets.token_bytes(32)
    return app
