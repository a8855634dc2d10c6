"""A total deadline for an HTTP call, however slowly its answer arrives.

httpx's timeouts bound each connect, write and read, not the call: an upstream that
sends a byte every few seconds holds a call open as long as it likes (encode/httpx
#1450). ``within(seconds)`` sets a deadline for the calls made inside the block (a
context variable, so one per thread), and a transport passed through ``bound`` gives
each socket operation at most the time left, then fails with the HTTP library's own
timeout error, which the client already maps to a timeout (the gallery's and the SDK's
``TransientError``). Nested blocks keep the earliest deadline.

``bound`` wraps the network backend of an httpx / httpx2 transport's connection pool
(httpcore's public ``NetworkBackend`` interface, reached through the transport's pool,
which neither library exposes as a parameter).
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

_deadline: ContextVar[float | None] = ContextVar("fleet_call_deadline", default=None)

T = TypeVar("T")


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """Calls made in the block end within ``seconds`` (or by an earlier deadline)."""
    end = time.monotonic() + seconds
    current = _deadline.get()
    token = _deadline.set(end if current is None else min(current, end))
    try:
        yield
    finally:
        _deadline.reset(token)


def time_left() -> float | None:
    """Seconds until the current deadline (negative once past), or None without one."""
    end = _deadline.get()
    return None if end is None else end - time.monotonic()


@dataclass(frozen=True, slots=True)
class _Errors:
    """The timeout errors of one httpcore flavour (httpcore for httpx, httpcore2 for httpx2)."""

    connect: type[Exception]
    read: type[Exception]
    write: type[Exception]


def _budget(timeout: float | None, error: type[Exception]) -> float | None:
    left = time_left()
    if left is None:
        return timeout
    if left <= 0:
        raise error("the call's deadline passed")
    return left if timeout is None else min(timeout, left)


class _Stream:
    """A network stream whose every operation ends by the deadline."""

    def __init__(self, inner: Any, errors: _Errors) -> None:
        self._inner = inner
        self._errors = errors

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data: bytes = self._inner.read(max_bytes, _budget(timeout, self._errors.read))
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _budget(timeout, self._errors.write))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> _Stream:
        tls = self._inner.start_tls(
            ssl_context, server_hostname, _budget(timeout, self._errors.connect)
        )
        return _Stream(tls, self._errors)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend:
    """A network backend whose connections keep to the deadline."""

    def __init__(self, inner: Any, errors: _Errors) -> None:
        self._inner = inner
        self._errors = errors

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> _Stream:
        stream = self._inner.connect_tcp(
            host,
            port,
            _budget(timeout, self._errors.connect),
            local_address=local_address,
            socket_options=socket_options,
        )
        return _Stream(stream, self._errors)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> _Stream:
        stream = self._inner.connect_unix_socket(
            path, _budget(timeout, self._errors.connect), socket_options=socket_options
        )
        return _Stream(stream, self._errors)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def bound(transport: T) -> T:
    """``transport`` (an httpx or httpx2 ``HTTPTransport``), held to ``within``'s deadline."""
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if pool is None or backend is None:
        raise TypeError(
            f"cannot hold a {type(transport).__name__} to a deadline: it has no connection "
            "pool with a network backend (an httpx or httpx2 HTTPTransport has)"
        )
    if isinstance(backend, _Backend):
        return transport
    core = importlib.import_module(type(pool).__module__.split(".", 1)[0])
    errors = _Errors(core.ConnectTimeout, core.ReadTimeout, core.WriteTimeout)
    pool._network_backend = _Backend(backend, errors)
    return transport
