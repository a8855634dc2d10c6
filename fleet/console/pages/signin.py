"""Signing in and out, and the CSRF token a script asks for."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from fleet.console.security import (
    checked_form,
    client_of,
    csrf_of,
    session_of,
    set_session,
)
from fleet.console.web import guarded, web_of


def login_form(request: Request) -> Response:
    web = web_of(request)
    return web.page(request, "login.html", next=local(request.query_params.get("next")))


async def login(request: Request) -> Response:
    web = web_of(request)
    guard = web.guard
    form = await checked_form(request)
    target = local(form.get("next"))
    heard = await guard.attempt(
        client_of(request.scope),
        form.get("password", ""),
        via="login form",
        # Signed in already (logging in again): everyone's failures do not hold it.
        trusted=session_of(request).user,
    )
    if not isinstance(heard, bool):  # too many wrong ones: not even compared
        minutes = max(1, round(heard / 60))
        answer = web.page(request, "login.html", 429, next=target, wait_minutes=minutes)
        answer.headers["Retry-After"] = str(int(heard) + 1)
        return answer
    if not heard:
        return web.page(request, "login.html", 401, next=target, wrong=True)
    response = RedirectResponse(target, status_code=303)
    set_session(response, request, guard.signed_in_session())
    return response


async def logout(request: Request) -> Response:
    web = web_of(request)
    guard = web.guard
    await checked_form(request)
    guard.revoke(session_of(request))  # the old cookie is no longer a session
    response = RedirectResponse("/login", status_code=303)
    set_session(response, request, guard.new_session())
    return response


def csrf(request: Request) -> Response:
    return JSONResponse({"csrf": csrf_of(request)})


ROUTES: list[BaseRoute] = [
    Route("/login", login_form, methods=["GET"]),
    Route("/login", guarded(login), methods=["POST"]),
    Route("/logout", guarded(logout), methods=["POST"]),
    Route("/csrf", csrf),
]


def local(target: str | None) -> str:
    """Only a path of this site (no //host, no scheme) is a place to go after login."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
