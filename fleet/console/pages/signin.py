"""Signing in and out, and the CSRF token a script asks for."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from fleet.console.security import checked_form, csrf_of, set_session
from fleet.console.web import Web


def routes(web: Web) -> list[Route]:
    guard = web.guard

    def login_form(request: Request) -> Response:
        return web.page(request, "login.html", next=local(request.query_params.get("next")))

    async def login(request: Request) -> Response:
        form = await checked_form(request)
        target = local(form.get("next"))
        if not guard.password_ok(form.get("password", "")):
            return web.page(request, "login.html", 401, next=target, wrong=True)
        response = RedirectResponse(target, status_code=303)
        set_session(response, request, guard.new_session(user=True))
        return response

    async def logout(request: Request) -> Response:
        await checked_form(request)
        response = RedirectResponse("/login", status_code=303)
        set_session(response, request, guard.new_session())
        return response

    def csrf(request: Request) -> Response:
        return JSONResponse({"csrf": csrf_of(request)})

    return [
        Route("/login", login_form, methods=["GET"]),
        Route("/login", web.guarded(login), methods=["POST"]),
        Route("/logout", web.guarded(logout), methods=["POST"]),
        Route("/csrf", csrf),
    ]


def local(target: str | None) -> str:
    """Only a path of this site (no //host, no scheme) is a place to go after login."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
