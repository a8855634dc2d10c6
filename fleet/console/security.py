"""Who may use the console, and how a request proves it.

People log in with the password and get a signed session cookie; scripts send HTTP Basic
(user ``admin``, the same password). Without a password the console serves loopback
only and every request is let in, but only with a loopback ``Host`` (a page elsewhere
cannot reach it through DNS rebinding). Every POST carries a CSRF token bound to the
session (scripts on Basic get theirs from ``GET /csrf``). Comparisons are constant-time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

COOKIE = "fleet_console"
USER = "admin"
SESSION_SECONDS = 12 * 3600
OPEN_PATHS = ("/login", "/static/")

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
    """What the cookie holds: a random nonce (the CSRF token's seed) and whether the
    bearer logged in."""

    nonce: str
    user: bool
    issued: int


class Guard:
    """Signs sessions, checks passwords and CSRF tokens."""

    def __init__(
        self, password: str | None, key: bytes | None = None, *, secure: bool | None = None
    ) -> None:
        self.password = password or None
        self._key = key or secrets.token_bytes(32)
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
        if not header or not header.lower().startswith("basic "):
            return None
        try:
            user, _, given = base64.b64decode(header[6:].strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        # Both compared, whatever the first gives: no timing tells which was wrong.
        user_ok = hmac.compare_digest(user.encode(), USER.encode())
        return self.password_ok(given) and user_ok

    def new_session(self, *, user: bool = False) -> Session:
        return Session(secrets.token_urlsafe(18), user, int(time.time()))

    def dump(self, session: Session) -> str:
        body = (
            base64.urlsafe_b64encode(
                json.dumps([session.nonce, session.user, session.issued]).encode()
            )
            .decode()
            .rstrip("=")
        )  # "=" would make the cookie quoted
        return f"{body}.{self._mac(body.encode())}"

    def load(self, value: str | None) -> Session | None:
        """The session a cookie holds, if its signature is ours and it is fresh."""
        if not value or "." not in value:
            return None
        body, _, mac = value.rpartition(".")
        if not hmac.compare_digest(mac, self._mac(body.encode())):
            return None
        try:
            nonce, user, issued = json.loads(
                base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            )
        except (ValueError, binascii.Error):
            return None
        if time.time() - int(issued) > SESSION_SECONDS:
            return None
        return Session(str(nonce), bool(user), int(issued))

    def csrf_token(self, nonce: str) -> str:
        return self._mac(f"csrf:{nonce}".encode())

    def csrf_ok(self, nonce: str, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(str(given), self.csrf_token(nonce))


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
        if guard.open:
            host = urlsplit(f"//{headers.get('host', '')}").hostname or ""
            if not is_loopback(host):
                await PlainTextResponse("loopback only", status_code=400)(scope, receive, send)
                return
        cookie = _cookie(headers.get("cookie", ""), COOKIE)
        session = guard.load(cookie)
        fresh = session is None
        if session is None:
            session = guard.new_session()
        basic = guard.basic_ok(headers.get("authorization"))
        path: str = scope["path"]
        allowed = guard.open or session.user or basic is True
        state = scope.setdefault("state", {})
        state["session"] = session
        state["via_basic"] = basic is True
        state["guard"] = guard
        if not allowed and not path.startswith(OPEN_PATHS):
            response: Response
            if (
                basic is None
                and scope["method"] == "GET"
                and "text/html" in headers.get("accept", "text/html")
            ):
                target = path + (
                    f"?{scope['query_string'].decode()}" if scope["query_string"] else ""
                )
                response = RedirectResponse(f"/login?next={quote(target)}", status_code=303)
            else:
                response = PlainTextResponse(
                    "login required",
                    status_code=401,
                    headers={"WWW-Authenticate": 'Basic realm="fleet console"'},
                )
            if fresh:
                _set_cookie(response, guard, session, scope.get("scheme", "http"))
            await response(scope, receive, send)
            return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and fresh and basic is None:
                extra = Response()
                _set_cookie(extra, guard, session, scope.get("scheme", "http"))
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    *[(k, v) for k, v in extra.raw_headers if k == b"set-cookie"],
                ]
            await send(message)

        await self.app(scope, receive, send_with_cookie)


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
    return {key: value for key, value in form.items() if isinstance(value, str)}


def csrf_of(request: Request) -> str:
    guard: Guard = request.state.guard
    nonce = "basic" if request.state.via_basic else session_of(request).nonce
    return guard.csrf_token(nonce)


def set_session(response: Response, request: Request, session: Session) -> None:
    """Give the browser a new session (at login, logout)."""
    _set_cookie(response, request.state.guard, session, request.url.scheme)
