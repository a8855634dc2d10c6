"""Serving the console with uvicorn, in the foreground (the CLI) or on a thread (tests,
the demo, the bench)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from types import TracebackType

import uvicorn

from fleet.console.app import build_app
from fleet.console.security import Guard, is_loopback
from fleet.errors import InputError
from fleet.infra.sockets import bind, url_of
from fleet.service.root import Fleet

log = logging.getLogger("fleet.console")


def guard_for(fleet: Fleet, host: str) -> Guard:
    """The guard the settings ask for; InputError (exit 2) for a host other than loopback
    without a password."""
    console = fleet.settings.console
    password = console.password.get_secret_value() if console.password else None
    if password is None and not is_loopback(host):
        raise InputError(
            f"refusing to serve the console on {host} without a password: "
            "set FLEET_CONSOLE__PASSWORD, or serve on 127.0.0.1"
        )
    key = console.secret_key.get_secret_value().encode() if console.secret_key else None
    return Guard(password, key, secure=console.secure_cookie)


def first_line(guard: Guard, url: str) -> str:
    """What the console says first: where, and whether a password guards it."""
    if guard.open:
        return f"fleet console on {url}: no password set, serving loopback only"
    return f"fleet console on {url}: password required (FLEET_CONSOLE__PASSWORD)"


def serve(fleet: Fleet, *, host: str, port: int, on_ready: Callable[[str], None]) -> None:
    """Serve until interrupted."""
    guard = guard_for(fleet, host)
    sock = bind(host, port)
    on_ready(first_line(guard, url_of(sock)))
    config = uvicorn.Config(
        build_app(fleet, guard), lifespan="on", timeout_graceful_shutdown=3, log_level="info"
    )
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()


class BackgroundConsole:
    """The console on a loopback port, on a background thread."""

    def __init__(self, fleet: Fleet, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.guard = guard_for(fleet, host)
        self.app = build_app(fleet, self.guard)
        self._sock = bind(host, port)
        self.url = url_of(self._sock)
        self._server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                lifespan="on",
                log_config=None,
                access_log=False,
                timeout_graceful_shutdown=1,
            )
        )
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    def __enter__(self) -> BackgroundConsole:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the console did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.stop()
