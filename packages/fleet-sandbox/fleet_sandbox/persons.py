"""The gallery as a person uses it in a browser: sign up or sign in, comment and reply,
like, and say what agents may do (docs/gallery-api.md, "A person's gallery").

A person signs up with a name, a username and a password (kept as a salted scrypt
digest); the session is a cookie (``sandbox_person``: the user id signed with the
sandbox's secret, HttpOnly, SameSite=Lax). Every form that changes something carries a
CSRF token bound to the session (or, before sign-in, to a cookie of its own: a double
submit), and a POST is taken only from the gallery's own pages (``Origin``, else
``Referer``, must be this gallery; ``Sec-Fetch-Site`` cross-site is refused). A person
acts only as themself: the session names the account, never a form field; agents'
accounts and the people seeded through the admin API have no password, so nobody signs
in as them. Text from a person is bounded (a name 80 characters, a comment 2,000) and
escaped on every page. The agents' API (``/api/*``) is untouched.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from html import escape

from sqlalchemy import Connection, insert, select
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from fleet_sandbox import page, storage
from fleet_sandbox.state import sandbox_of
from fleet_sandbox.tables import person_passwords

SESSION_COOKIE = "sandbox_person"
FORM_COOKIE = "sandbox_form"
USERNAME = re.compile(r"^[a-z0-9_]{3,30}$")
MAX_NAME = 80
MAX_COMMENT = 2000
MIN_PASSWORD, MAX_PASSWORD = 4, 128
MAX_FORM_BYTES = 16_384
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


class Refused(Exception):
    """A person's request the gallery will not take: the status and a short reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True, slots=True)
class Viewer:
    """The person signed in on this request, and the CSRF token their forms carry."""

    user: storage.User
    csrf: str


def _secret(request: Request) -> bytes:
    secret: bytes = request.app.state.person_secret
    return secret


def _sign(request: Request, purpose: str, value: str) -> str:
    return hmac.new(_secret(request), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def _session_value(request: Request, user_id: int) -> str:
    return f"{user_id}.{_sign(request, 'session', str(user_id))}"


def viewer_of(request: Request) -> Viewer | None:
    """The person this request's session cookie names (None: nobody signed in, or a
    cookie that is not the gallery's own)."""
    raw = request.cookies.get(SESSION_COOKIE, "")
    user_id, _, signature = raw.partition(".")
    if not (user_id.isdigit() and len(user_id) <= 18 and len(signature) == 64):
        return None
    if not hmac.compare_digest(signature, _sign(request, "session", user_id)):
        return None
    with sandbox_of(request).storage.begin() as conn:
        user = _user_by_id(conn, int(user_id))
    if user is None or user.is_agent:
        return None
    return Viewer(user, _sign(request, "csrf", raw)[:32])


def _user_by_id(conn: Connection, user_id: int) -> storage.User | None:
    row = conn.execute(
        select(storage.users.c.username).where(storage.users.c.id == user_id)
    ).first()
    return None if row is None else storage.user_by_username(conn, row.username)


def _same_origin(request: Request) -> None:
    """Refuse a POST that did not come from this gallery's own pages."""
    here = f"{request.url.scheme}://{request.url.netloc}"
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        raise Refused(403, "a form of another site may not act here")
    origin = request.headers.get("origin")
    if origin is not None:
        if origin != here:
            raise Refused(403, "a form of another site may not act here")
        return
    referer = request.headers.get("referer")
    if referer is not None and not (referer == here or referer.startswith(here + "/")):
        raise Refused(403, "a form of another site may not act here")


async def _form(request: Request) -> FormData:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        raise Refused(413, f"the form is over {MAX_FORM_BYTES} bytes")
    _same_origin(request)
    return await request.form(max_files=0, max_fields=20, max_part_size=MAX_FORM_BYTES)


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _checked_session(request: Request, form: FormData) -> Viewer:
    """The signed-in person whose form this is (its CSRF token theirs), or Refused."""
    viewer = viewer_of(request)
    if viewer is None:
        raise Refused(401, "sign in first")
    if not hmac.compare_digest(_field(form, "csrf"), viewer.csrf):
        raise Refused(403, "the form's token is not this session's: reload the page")
    return viewer


def _checked_form_cookie(request: Request, form: FormData) -> None:
    """A sign-up or sign-in form's double-submit token matches its cookie."""
    cookie = request.cookies.get(FORM_COOKIE, "")
    if not (len(cookie) >= 16 and hmac.compare_digest(_field(form, "csrf"), cookie)):
        raise Refused(403, "the form's token is missing or stale: reload the page")


def _digest(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)


def _html(request: Request, inner: str, *, status: int = 200, form_token: str = "") -> Response:
    nonce = secrets.token_urlsafe(12)
    html = page.document(
        inner,
        refresh_seconds=0,
        probe=False,
        nonce=nonce,
        alone=True,
        viewer=viewer_of(request),
    )
    response = HTMLResponse(
        html, status, headers={"Content-Security-Policy": page.profile_csp(nonce)}
    )
    if form_token:
        response.set_cookie(FORM_COOKIE, form_token, httponly=True, samesite="strict", path="/")
    return response


def _refused(request: Request, refused: Refused) -> Response:
    inner = (
        f'<section class="people-form" data-refused="{refused.status}">'
        f"<h2>That did not work</h2><p>{escape(str(refused)[:200])}</p>"
        '<p><a href="/">Back to the gallery</a></p></section>'
    )
    return _html(request, inner, status=refused.status)


def _signing_form(
    kind: str, token: str, *, problem: str = "", name: str = "", username: str = ""
) -> str:
    title = "Sign up" if kind == "signup" else "Sign in"
    other = (
        '<p>Have an account? <a href="/signin">Sign in</a></p>'
        if kind == "signup"
        else '<p>New here? <a href="/signup">Sign up</a></p>'
    )
    name_field = (
        f'<p><label>Your name <input name="name" maxlength="{MAX_NAME}" required '
        f'value="{escape(name)}" autocomplete="name"></label></p>'
        if kind == "signup"
        else ""
    )
    said = f'<p class="problem" role="alert">{escape(problem)}</p>' if problem else ""
    return (
        f'<section class="people-form" id="{kind}"><h2>{title}</h2>{said}'
        f'<form method="post" action="/{kind}">'
        f'<input type="hidden" name="csrf" value="{escape(token)}">{name_field}'
        f'<p><label>Username <input name="username" maxlength="30" required '
        f'pattern="[a-z0-9_]{{3,30}}" value="{escape(username)}" autocomplete="username"></label>'
        " <small>3 to 30 of a-z, 0-9 and _</small></p>"
        f'<p><label>Password <input name="password" type="password" required '
        f'minlength="{MIN_PASSWORD}" maxlength="{MAX_PASSWORD}"></label></p>'
        f'<p><button type="submit">{title}</button></p></form>{other}</section>'
    )


async def signing_page(request: Request) -> Response:
    """GET /signup, /signin: the form (with a fresh double-submit token)."""
    kind = "signup" if request.url.path == "/signup" else "signin"
    token = secrets.token_urlsafe(24)
    return _html(request, _signing_form(kind, token), form_token=token)


def _signed_in(request: Request, user_id: int, to: str) -> Response:
    response = RedirectResponse(to, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        _session_value(request, user_id),
        httponly=True,
        samesite="lax",
        path="/",
        secure=request.url.scheme == "https",
    )
    response.delete_cookie(FORM_COOKIE, path="/")
    return response


async def signup(request: Request) -> Response:
    """POST /signup: a new person's account (name, username, password), signed in."""
    try:
        form = await _form(request)
        _checked_form_cookie(request, form)
    except Refused as refused:
        return _refused(request, refused)
    name = " ".join(_field(form, "name").split())
    username = _field(form, "username").strip()
    password = _field(form, "password")
    problem = ""
    if not 1 <= len(name) <= MAX_NAME:
        problem = f"Your name: 1 to {MAX_NAME} characters."
    elif not USERNAME.fullmatch(username):
        problem = "Username: 3 to 30 of a-z, 0-9 and _."
    elif not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        problem = f"Password: {MIN_PASSWORD} to {MAX_PASSWORD} characters."
    sandbox = sandbox_of(request)
    if not problem:
        salt = secrets.token_bytes(16)
        digest = _digest(password, salt)
        with sandbox.storage.begin() as conn:
            if storage.user_by_username(conn, username) is not None:
                problem = "That username is taken."
            else:
                user, _ = storage.invite(
                    conn,
                    agent_id=None,
                    name=name,
                    username=username,
                    persona=None,
                    is_agent=False,
                    now=sandbox.clock(),
                )
                conn.execute(
                    insert(person_passwords).values(
                        user_id=user.id, salt=salt, digest=digest, created_at=sandbox.clock()
                    )
                )
                return _signed_in(request, user.id, f"/people/{user.username}")
    token = secrets.token_urlsafe(24)
    inner = _signing_form(
        "signup", token, problem=problem, name=name[:MAX_NAME], username=username[:30]
    )
    return _html(request, inner, status=400, form_token=token)


async def signin(request: Request) -> Response:
    """POST /signin: a person's session, for their username and password."""
    try:
        form = await _form(request)
        _checked_form_cookie(request, form)
    except Refused as refused:
        return _refused(request, refused)
    username = _field(form, "username").strip()
    password = _field(form, "password")
    user = None
    if USERNAME.fullmatch(username) and MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        with sandbox_of(request).storage.begin() as conn:
            found = storage.user_by_username(conn, username)
            row = (
                None
                if found is None or found.is_agent
                else conn.execute(
                    select(person_passwords).where(person_passwords.c.user_id == found.id)
                ).first()
            )
        if row is not None and hmac.compare_digest(_digest(password, row.salt), row.digest):
            user = found
    if user is None:
        token = secrets.token_urlsafe(24)
        inner = _signing_form(
            "signin",
            token,
            problem="That username and password do not match.",
            username=username[:30],
        )
        return _html(request, inner, status=401, form_token=token)
    return _signed_in(request, user.id, "/")


async def signout(request: Request) -> Response:
    """POST /signout: the session ends."""
    try:
        _checked_session(request, await _form(request))
    except Refused as refused:
        return _refused(request, refused)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _post_of(request: Request) -> int:
    raw = request.path_params["post_id"]
    if not raw.isdigit() or len(raw) > 18:
        raise Refused(404, "no such post")
    return int(raw)


async def comment(request: Request) -> Response:
    """POST /posts/{id}/comment: the signed-in person comments (or replies, ``parentId``)."""
    try:
        form = await _form(request)
        viewer = _checked_session(request, form)
        post_id = _post_of(request)
        text = _field(form, "content").strip()
        if not 1 <= len(text) <= MAX_COMMENT:
            raise Refused(400, f"a comment is 1 to {MAX_COMMENT} characters")
        raw_parent = _field(form, "parentId")
        if raw_parent and not (raw_parent.isdigit() and len(raw_parent) <= 18):
            raise Refused(400, "the comment to answer is not a comment id")
        parent = int(raw_parent) if raw_parent else None
        sandbox = sandbox_of(request)
        with sandbox.storage.begin() as conn:
            if not storage.post_exists(conn, post_id):
                raise Refused(404, "no such post")
            if parent is not None and not storage.comment_on_post(
                conn, comment_id=parent, post_id=post_id
            ):
                raise Refused(400, "the comment to answer is not on this post")
            made = storage.create_comment(
                conn,
                post_id=post_id,
                user=viewer.user,
                content=text,
                key=None,
                now=sandbox.clock(),
                parent_id=parent,
            )
    except Refused as refused:
        return _refused(request, refused)
    return RedirectResponse(f"/posts/{post_id}#comment-{made.id}", status_code=303)


async def like(request: Request) -> Response:
    """POST /posts/{id}/like: the signed-in person likes the post (again: unlikes)."""
    try:
        form = await _form(request)
        viewer = _checked_session(request, form)
        post_id = _post_of(request)
        sandbox = sandbox_of(request)
        with sandbox.storage.begin() as conn:
            toggled = storage.toggle_like(
                conn, post_id=post_id, user_id=viewer.user.id, key=None, now=sandbox.clock()
            )
        if toggled is None:
            raise Refused(404, "no such post")
    except Refused as refused:
        return _refused(request, refused)
    return RedirectResponse(f"/posts/{post_id}", status_code=303)


async def consent(request: Request) -> Response:
    """POST /people/{username}: the signed-in person's own say over agents (how they may
    engage: all, replies only, none; an agent to block or unblock). Nobody else's."""
    try:
        form = await _form(request)
        viewer = _checked_session(request, form)
        if request.path_params["username"] != viewer.user.username:
            raise Refused(403, "you may change only your own say")
        raw = _field(form, "agentInteractions")
        said = raw if raw in ("all", "replies", "none") else None
        if raw and said is None:
            raise Refused(400, "agentInteractions is one of all, replies, none")
        sandbox = sandbox_of(request)
        with sandbox.storage.begin() as conn:
            ids: dict[str, list[int]] = {"block": [], "unblock": []}
            for field in ids:
                name = _field(form, field)
                if not name:
                    continue
                agent = storage.user_by_username(conn, name[:64])
                if agent is None or not agent.is_agent:
                    raise Refused(400, f"no agent account {name[:64]!r} to {field}")
                ids[field].append(agent.id)
            storage.set_consent(
                conn,
                viewer.user.id,
                agent_interactions=said,
                block=ids["block"],
                unblock=ids["unblock"],
                now=sandbox.clock(),
            )
    except Refused as refused:
        return _refused(request, refused)
    return RedirectResponse(f"/people/{viewer.user.username}?saved=1", status_code=303)


async def about(request: Request) -> Response:
    """GET /about/agents: "About these automated accounts": who runs them, what they do,
    how to opt out or block one, a contact."""
    with sandbox_of(request).storage.begin() as conn:
        ids = list(
            conn.execute(
                select(storage.users.c.id).where(storage.users.c.is_agent.is_(True)).limit(5000)
            ).scalars()
        )
        shown = storage.disclosures_of(conn, ids)
    operators = sorted({d.operator_name for d in shown.values()})
    agents = ids
    return _html(
        request, page.about(operators, len(agents), contact=sandbox_of(request).config.contact)
    )


def routes() -> list[Route]:
    """The person's routes (the gallery's pages add the forms that post to them)."""
    return [
        Route("/signup", signing_page, methods=["GET"], name="signup_page"),
        Route("/signup", signup, methods=["POST"], name="signup"),
        Route("/signin", signing_page, methods=["GET"], name="signin_page"),
        Route("/signin", signin, methods=["POST"], name="signin"),
        Route("/signout", signout, methods=["POST"], name="signout"),
        Route("/posts/{post_id}/comment", comment, methods=["POST"], name="person_comment"),
        Route("/posts/{post_id}/like", like, methods=["POST"], name="person_like"),
        Route("/about/agents", about, methods=["GET"], name="about_agents"),
    ]


__all__ = ["Viewer", "consent", "routes", "viewer_of"]
