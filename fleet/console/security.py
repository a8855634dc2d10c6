"""Who may use the console, and how a request proves it.

People log in with the password and get a signed session cookie, bound to the password
(a change logs everyone out) and revoked at logout; scripts send HTTP Basic (user
``admin``, the same password). Wrong passwords, by form or Basic, are slowed and then
refused per client and overall (``fleet.console.throttle``), and logged. Without a password the console serves loopback
only and every request is let in, but only with a loopback ``Host`` (a page elsewhere
cannot reach it through DNS rebinding). Every POST carries a CSRF token bound to the
session (scripts on Basic get theirs from ``GET /csrf``). Comparisons are constant-time.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from fleet.console.throttle import Throttle
from fleet.errors import InputError

log = logging.getLogger("fleet.console")
COOKIE = "fleet_console"
USER = "admin"
SESSION_SECONDS = 12 * 3600
OPEN_PATHS = ("/login", "/static/")
# A message signed for the page a change redirects to is shown for this long.
SAID_SECONDS = 3600
# Sent with every answer: no page of the console in another site's frame (clickjacking),
# and no answer read as another type than the one it says.
HEADERS = (
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'; img-src 'self'"),
    (b"x-content-type-options", b"nosniff"),
)


def origin_of(url: str) -> str | None:
    """The origin (``scheme://host[:port]``) of an http(s) address, None for another."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}" + ("" if parts.port is None else f":{parts.port}")


def headers_for(image_origins: Iterable[str] = ()) -> tuple[tuple[bytes, bytes], ...]:
    """``HEADERS`` with images allowed from the console itself and ``image_origins`` (the
    gallery's) only: a draft's image from any other host is never fetched by the owner's
    browser (it would tell that host who reviews, and when)."""
    origins = " ".join(o for o in (origin_of(url) for url in image_origins) if o)
    policy = "frame-ancestors 'none'; img-src 'self'" + (f" {origins}" if origins else "")
    return tuple(
        (name, policy.encode() if name == b"content-security-policy" else value)
        for name, value in HEADERS
    )


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only: a literal loopback address (127.0.0.0/8,
    ::1) or exactly ``localhost``. A name that merely begins with ``127.``
    (``127.attacker.example``) is a name anyone's DNS can point here and then elsewhere:
    a hostile page rebinding it could read the console, so it is not loopback."""
    host = host.strip().strip("[]").lower().rstrip(".")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Session:
    """What the cookie holds: a random nonce (the CSRF token's seed), whether the bearer
    logged in, when, and (logged in) a keyed hash of the password it logged in with."""

    nonce: str
    user: bool
    issued: int
    bound: str = ""


class Guard:
    """Signs sessions, checks passwords and CSRF tokens."""

    def __init__(
        self,
        password: str | None,
        key: bytes | None = None,
        *,
        secure: bool | None = None,
        throttle: Throttle | None = None,
    ) -> None:
        self.password = password or None
        self._key = key or secrets.token_bytes(32)
        self.throttle = throttle or Throttle()
        # Sessions logged out before they expired: nonce -> when issued. In memory (the
        # console is one process); a restart forgets them, so a cookie logged out within
        # the last 12 h works again after a restart with the same key and password.
        self._revoked: dict[str, int] = {}
        self._revoked_lock = threading.Lock()
        # The session cookie's Secure flag: always, never, or (None) when the request came
        # over HTTPS (uvicorn takes X-Forwarded-Proto from a proxy it trusts).
        self.secure = secure

    def secure_for(self, scheme: str) -> bool:
        """Whether a cookie given over ``scheme`` is marked Secure."""
        return self.secure if self.secure is not None else scheme in {"https", "wss"}

    @property
    def open(self) -> bool:
        """No password: everyone on loopback is let in."""
        return self.password is None

    def _mac(self, data: bytes) -> str:
        return hmac.new(self._key, data, hashlib.sha256).hexdigest()

    def password_ok(self, given: str) -> bool:
        if self.password is None:
            return True
        return hmac.compare_digest(given.encode(), self.password.encode())

    def basic_ok(self, header: str | None) -> bool | None:
        """None without a Basic header; else whether it names admin and the password."""
        given = basic_credentials(header)
        if given is None:
            return None
        user, password = given
        # Both compared, whatever the first gives: no timing tells which was wrong.
        user_ok = hmac.compare_digest(user.encode(), USER.encode())
        return self.password_ok(password) and user_ok

    def _password_tag(self) -> str:
        # Keyed, and cut short: the cookie is readable, and must not help guess the password.
        return self._mac(f"password:{self.password or ''}".encode())[:22]

    def new_session(self) -> Session:
        """A browser's session, not signed in."""
        return Session(secrets.token_urlsafe(18), False, int(time.time()))

    def signed_in_session(self) -> Session:
        """A session signed in with the password in force (it ends when that changes)."""
        return Session(secrets.token_urlsafe(18), True, int(time.time()), self._password_tag())

    def revoke(self, session: Session) -> None:
        """Log ``session`` out for good: its cookie is no longer a session."""
        now = time.time()
        with self._revoked_lock:
            self._revoked = {
                n: at for n, at in self._revoked.items() if now - at <= SESSION_SECONDS
            }
            self._revoked[session.nonce] = session.issued

    def dump(self, session: Session) -> str:
        body = (
            base64.urlsafe_b64encode(
                json.dumps([session.nonce, session.user, session.issued, session.bound]).encode()
            )
            .decode()
            .rstrip("=")
        )  # "=" would make the cookie quoted
        return f"{body}.{self._mac(body.encode())}"

    def load(self, value: str | None, client: str | None = None) -> Session | None:
        """The session a cookie holds, if its signature is ours and it is fresh.

        A signed-in cookie whose password tag is not the password's is a password tried
        (someone who found the key forges one tag a guess), so from ``client`` it counts
        as a failed attempt and is logged; while the client is refused, such a cookie is
        not even compared."""
        if not value or "." not in value:
            return None
        body, _, mac = value.rpartition(".")
        if not hmac.compare_digest(mac, self._mac(body.encode())):
            return None
        try:
            nonce, user, issued, bound = json.loads(
                base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            )
        except (ValueError, TypeError, binascii.Error):
            return None
        if time.time() - int(issued) > SESSION_SECONDS:
            return None
        with self._revoked_lock:
            if str(nonce) in self._revoked:
                return None
        # The client's own failures only: everyone's never end a session.
        if user and client is not None and self.throttle.refused(client, trusted=True) is not None:
            log.warning("console: session cookie from %s refused: too many wrong passwords", client)
            return None
        if user and not hmac.compare_digest(str(bound), self._password_tag()):
            # Logged in with another password (the change logged it out), or forged with a
            # guess: either way a wrong password, counted.
            if client is not None:
                count, _ = self.throttle.failed(client)
                log.warning(
                    "console: session cookie of another password from %s, %d in the last %d min",
                    client,
                    count,
                    int(self.throttle.window // 60),
                )
            return None
        return Session(str(nonce), bool(user), int(issued), str(bound))

    def csrf_token(self, nonce: str) -> str:
        return self._mac(f"csrf:{nonce}".encode())

    def csrf_ok(self, nonce: str, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(str(given), self.csrf_token(nonce))

    def sign_said(self, text: str) -> str:
        """``text``, what a change did, signed for the page its redirect leads to: a page
        shows only what the console itself said, never what a link says."""
        body = (
            base64.urlsafe_b64encode(json.dumps([text, int(time.time())]).encode())
            .decode()
            .rstrip("=")
        )
        return f"{body}.{self._mac(f'said:{body}'.encode())}"

    def said(self, signed: str | None) -> str | None:
        """The text of a message ``sign_said`` signed lately (None for anything else)."""
        if not signed or "." not in signed:
            return None
        body, _, mac = signed.rpartition(".")
        if not hmac.compare_digest(mac, self._mac(f"said:{body}".encode())):
            return None
        try:
            text, at = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except (ValueError, TypeError, binascii.Error):
            return None
        if not 0 <= time.time() - int(at) <= SAID_SECONDS:
            return None
        return str(text)

    async def attempt(
        self,
        client: str,
        given: str,
        *,
        via: str,
        right_user: bool = True,
        trusted: bool = False,
    ) -> bool | float:
        """Whether ``given`` is the password, asked by ``client`` (by ``via``: the form
        or Basic); or, while the client (or, unless it is ``trusted`` or known, everyone)
        has failed too often, the seconds until a try is heard again (the password is
        then not even compared). A wrong one is logged and answered late, the later the
        more there were."""
        wait = self.throttle.refused(client, trusted=trusted)
        if wait is not None:
            log.warning("console: password attempt from %s (%s) refused: too many", client, via)
            return max(wait, 1.0)
        if self.password_ok(given) and right_user:
            self.throttle.succeeded(client)
            return True
        count, delay = self.throttle.failed(client)
        log.warning(
            "console: wrong password from %s (%s), %d in the last %d min",
            client,
            via,
            count,
            int(self.throttle.window // 60),
        )
        if delay:
            await asyncio.sleep(delay)
        return False


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """The user and password of an HTTP Basic header (None without one; unreadable: the
    empty user and password)."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        user, _, given = base64.b64decode(header[6:].strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    return user, given


class GuardMiddleware:
    """Lets a request in (or redirects it to the login form, or answers 401/400) and
    gives every browser a session cookie; ``request.state.session`` and
    ``request.state.via_basic`` tell the routes who is asking."""

    def __init__(self, app: App, guard: Guard) -> None:
        self.app = app
        self.guard = guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        guard = self.guard
        headers = Headers(scope=scope)
        refused = self._malformed(scope, headers)
        if refused is not None:
            await refused(scope, receive, send)
            return
        cookie = _cookie(headers.get("cookie", ""), COOKIE)
        session = guard.load(cookie, None if guard.open else client_of(scope))
        fresh = session is None
        if session is None:
            session = guard.new_session()
        basic = await self._basic(scope, headers, session)
        if basic is not None and not isinstance(basic, bool):
            await too_many(basic)(scope, receive, send)
            return
        path: str = scope["path"]
        allowed = guard.open or session.user or basic is True
        state = scope.setdefault("state", {})
        state["session"] = session
        state["via_basic"] = basic is True
        state["guard"] = guard
        if not allowed and not path.startswith(OPEN_PATHS):
            # A Basic header refused is answered as Basic, never sent to the form.
            response = (_to_login(scope, headers) if basic is None else None) or _login_required()
            if fresh:
                _set_cookie(response, guard, session, scope.get("scheme", "http"))
            await response(scope, receive, send)
            return
        if fresh and basic is None:
            send = _sending_cookie(send, guard, session, scope.get("scheme", "http"))
        await self.app(scope, receive, send)

    def _malformed(self, scope: Scope, headers: Headers) -> Response | None:
        """The 400 for a request no page answers: to an open console from off loopback,
        or with a NUL character in its path or query."""
        if self.guard.open:
            host = urlsplit(f"//{headers.get('host', '')}").hostname or ""
            if not is_loopback(host):
                return PlainTextResponse("loopback only", status_code=400)
        nul = _nul_in(scope)
        if nul is not None:
            return PlainTextResponse(f"{nul}: contains a NUL character", status_code=400)
        return None

    async def _basic(self, scope: Scope, headers: Headers, session: Session) -> bool | float | None:
        """What an HTTP Basic header says: None without one, whether it names admin and
        the password, or (the client failed too often) the seconds until it is heard."""
        guard = self.guard
        if guard.open:
            return guard.basic_ok(headers.get("authorization"))
        credentials = basic_credentials(headers.get("authorization"))
        if credentials is None:
            return None
        user, given = credentials
        return await guard.attempt(
            client_of(scope),
            given,
            via="HTTP Basic",
            right_user=hmac.compare_digest(user.encode(), USER.encode()),
            trusted=session.user,
        )


def _to_login(scope: Scope, headers: Headers) -> Response | None:
    """A browser's GET goes to the login form, to come back here after it."""
    if scope["method"] != "GET" or "text/html" not in headers.get("accept", "text/html"):
        return None
    path: str = scope["path"]
    target = path + (f"?{scope['query_string'].decode()}" if scope["query_string"] else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


def _login_required() -> Response:
    """The 401 that asks for HTTP Basic."""
    return PlainTextResponse(
        "login required",
        status_code=401,
        headers={"WWW-Authenticate": 'Basic realm="fleet console"'},
    )


def _sending_cookie(send: Send, guard: Guard, session: Session, scheme: str) -> Send:
    """``send`` that gives the answer's start ``session``'s cookie."""

    async def send_with_cookie(message: Message) -> None:
        if message["type"] == "http.response.start":
            extra = Response()
            _set_cookie(extra, guard, session, scheme)
            message.setdefault("headers", [])
            message["headers"] = [
                *message["headers"],
                *[(k, v) for k, v in extra.raw_headers if k == b"set-cookie"],
            ]
        await send(message)

    return send_with_cookie


class HeadersMiddleware:
    """Adds ``headers`` (``HEADERS`` by default) to every answer (pages, redirects,
    refusals, static files)."""

    def __init__(self, app: App, headers: tuple[tuple[bytes, bytes], ...] = HEADERS) -> None:
        self.app = app
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                given = [(k, v) for k, v in message.get("headers", []) if k not in _OURS]
                message["headers"] = [*given, *self.headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)


_OURS = {name for name, _ in HEADERS}


def client_of(scope: Scope) -> str:
    """The address a request came from (through a proxy uvicorn trusts, the client's)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def too_many(seconds: float) -> Response:
    """The answer to a password attempt while too many have failed."""
    minutes = max(1, round(seconds / 60))
    return PlainTextResponse(
        f"too many wrong passwords: try again in about {minutes} min",
        status_code=429,
        headers={"Retry-After": str(int(seconds) + 1)},
    )


def _nul_in(scope: Scope) -> str | None:
    """Where a request carries a NUL (a database refuses it in text): the path, or the
    query parameter by name."""
    if "\x00" in scope["path"]:
        return "path"
    for name, value in parse_qsl(scope.get("query_string", b"").decode("latin-1"), True):
        if "\x00" in name or "\x00" in value:
            return f"query parameter {name.replace(chr(0), '')[:40]!r}"
    return None


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value.strip('"')
    return None


def _set_cookie(response: Response, guard: Guard, session: Session, scheme: str) -> None:
    response.set_cookie(
        COOKIE,
        guard.dump(session),
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="strict",
        path="/",
        secure=guard.secure_for(scheme),
    )


def session_of(request: Request) -> Session:
    session: Session = request.state.session
    return session


async def checked_form(request: Request) -> dict[str, str]:
    """The POST's form if its CSRF token is the session's (else PermissionError: 403).

    Scripts on HTTP Basic send the token of ``GET /csrf`` (as the ``csrf`` field or the
    ``X-CSRF-Token`` header).
    """
    guard: Guard = request.state.guard
    form = await request.form()
    given = form.get("csrf") or request.headers.get("x-csrf-token")
    nonce = "basic" if request.state.via_basic else session_of(request).nonce
    if not guard.csrf_ok(nonce, given if isinstance(given, str) else None):
        raise PermissionError("missing or wrong CSRF token")
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    for key, value in fields.items():
        if "\x00" in key or "\x00" in value:
            raise InputError(f"{key.replace(chr(0), '')[:40]}: contains a NUL character")
    return fields


def csrf_of(request: Request) -> str:
    guard: Guard = request.state.guard
    nonce = "basic" if request.state.via_basic else session_of(request).nonce
    return guard.csrf_token(nonce)


def set_session(response: Response, request: Request, session: Session) -> None:
    """Give the browser a new session (at login, logout)."""
    _set_cookie(response, request.state.guard, session, request.url.scheme)
