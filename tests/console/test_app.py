"""The console's endpoints are module-level functions (as the sandbox's app's are), each
page module listing its routes in ``ROUTES``, reaching the console through the request."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Any

from starlette.routing import Route

import fleet.console.pages


def _handler(endpoint: Any) -> Any:
    """The endpoint itself, or the handler a ``reading``/``guarded`` wrapper runs."""
    if endpoint.__qualname__.startswith(("reading.", "guarded.")):
        return inspect.getclosurevars(endpoint).nonlocals["handler"]
    return endpoint


def test_every_page_endpoint_is_a_module_level_function() -> None:
    routes: list[Route] = []
    for info in pkgutil.iter_modules(fleet.console.pages.__path__):
        module = importlib.import_module(f"fleet.console.pages.{info.name}")
        routes += [route for route in module.ROUTES if isinstance(route, Route)]
    assert len(routes) >= 30  # every page's, from the overview to the controls
    nested = [
        f"{route.path}: {_handler(route.endpoint).__qualname__}"
        for route in routes
        if "<locals>" in _handler(route.endpoint).__qualname__
    ]
    assert nested == []
    wrapped = [route for route in routes if route.endpoint is not _handler(route.endpoint)]
    assert wrapped  # the POSTs' guard and the readers' 400s unwrap to their handlers
