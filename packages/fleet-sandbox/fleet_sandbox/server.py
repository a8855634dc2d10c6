"""Serving the sandbox with uvicorn: in the foreground (the CLI) or on a background thread.

Both bind the listening socket first, so port 0 works: the bound port is known before
the first request. ``BackgroundSandbox`` is for tests and benchmarks: a context manager
that starts uvicorn on a thread, waits until it accepts connections, and stops it.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from fleet_sandbox.app import create_app
from fleet_sandbox.config import SandboxConfig


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (0 picks a free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP spelled out: asyncio sets TCP_NODELAY on accepted sockets only when the
    # protocol says TCP, and without it every answer waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


def url_of(sock: socket.socket) -> str:
    """The base URL a bound socket serves."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class HeadWithBody:
    """A connection's transport on which an answer's head waits for the first piece of
    its body, so that the two leave in one write: one segment, and one wake-up of the
    reader, where uvicorn writes them apart (two sends, each a trip through the loopback
    stack that the writer's CPU pays, and a reader that reads the body a second time). A
    head that no body follows in the same turn of the event loop (a HEAD answer, a 100
    Continue, a stream's first chunk still to come) leaves at the loop's next turn, and a
    close sends it first (the lost-answer fault's status line still goes out). Whatever
    else is asked of the transport is the transport's."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        held = self._held
        if held is not None:
            self._held = None
            self._transport.writelines((held, data))
        elif bytes(data[:9]) == b"HTTP/1.1 ":
            self._held = bytes(data)
            self._loop.call_soon(self._release)
        else:
            self._transport.write(data)

    def _release(self) -> None:
        held, self._held = self._held, None
        if held is not None and not self._transport.is_closing():
            self._transport.write(held)

    def close(self) -> None:
        self._release()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class OneWriteAnswers(HttpToolsProtocol):
    """uvicorn's httptools protocol on connections whose answers leave in one write
    (``HeadWithBody``)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(HeadWithBody(transport, self.loop))  # type: ignore[arg-type]


def _uvicorn_config(app: Any, **options: Any) -> uvicorn.Config:
    # httptools, on uvloop when installed: the sandbox shares the machine's CPU with the
    # fleet it serves in benchmarks and demos, and its HTTP parsing in C costs a fraction
    # of h11's. It closes the connection after the status line when the lost-answer fault
    # drops a body.
    return uvicorn.Config(app, http=OneWriteAnswers, loop="auto", lifespan="on", **options)


def serve(
    config: SandboxConfig,
    *,
    host: str,
    port: int,
    on_ready: Callable[[str], None],
    access_log: bool = True,
) -> None:
    """Serve in the foreground until interrupted (Ctrl-C returns after a graceful stop).

    ``on_ready`` gets the base URL once the socket listens.
    """
    sock = bind(host, port)
    server = uvicorn.Server(
        _uvicorn_config(create_app(config), timeout_graceful_shutdown=5, access_log=access_log)
    )
    on_ready(url_of(sock))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn re-raises the SIGINT it handled, after shutting down cleanly
    finally:
        sock.close()


class BackgroundSandbox:
    """The sandbox on a loopback port, served by uvicorn on a background thread."""

    def __init__(
        self,
        config: SandboxConfig | None = None,
        *,
        host: str = "127.0.0.1",
        clock: Callable[[], datetime] | None = None,
        start_timeout: float = 10.0,
    ) -> None:
        self.config = config or SandboxConfig()
        self.app = create_app(self.config, clock=clock)
        self._sock = bind(host, 0)
        self.url = url_of(self._sock)
        self._server = uvicorn.Server(
            _uvicorn_config(
                self.app, log_config=None, access_log=False, timeout_graceful_shutdown=2
            )
        )
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )
        self._start_timeout = start_timeout

    def __enter__(self) -> BackgroundSandbox:
        self._thread.start()
        deadline = time.monotonic() + self._start_timeout
        while not self._server.started:
            if not self._thread.is_alive():
                self._sock.close()
                raise RuntimeError("the sandbox did not start; see the log")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the sandbox did not start in {self._start_timeout} s")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread (open connections are closed)."""
        self._server.should_exit = True
        if self._thread.ident is not None:
            self._thread.join(timeout=15)
        self._sock.close()
        if self._thread.is_alive():
            raise RuntimeError("the sandbox did not stop in 15 s")

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.stop()
