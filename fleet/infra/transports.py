"""The httpx transports of outbound calls: every socket operation held to the call's deadline.

httpx's timeouts bound each connect, write and read, not the call: an upstream that
sends a byte every few seconds holds a call open as long as it likes (encode/httpx
#1450). ``fleet.infra.bounded.within(seconds)`` sets a deadline for the calls made
inside the block, and the transports made here give each socket operation at most the
time left, then fail with the HTTP library's own timeout error, which the clients
already map to a timeout (the gallery's and the SDK's ``TransientError``).

``Transport`` (httpx) and ``Transport2`` (httpx2, the LLM SDKs') are built on public
interfaces only: an httpcore ``ConnectionPool`` given a ``network_backend`` (httpcore's
documented extension point) that wraps the default one, behind an httpx
``BaseTransport``. They do what httpx's ``HTTPTransport`` does for one origin's calls:
connection pooling, TLS verified against the given context, an optional proxy
(``proxy_for``), and httpcore's errors raised as httpx's.

Given ``max_bytes``, a transport also keeps the bounded-answer policy
(``fleet.infra.bounded``) below the HTTP library: an answer announcing more is refused
unread, its body is cut past ``max_bytes`` raw, gzip or deflate is inflated here, step by
step and never past ``max_bytes`` (the header removed, so the library does not inflate it
again), and any other encoding is refused: whatever reads the answer (an SDK reading an
error's body whole included) holds at most ``max_bytes``. Each refusal is an
``AnswerRefused``.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterable, Iterator
from types import ModuleType
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import getproxies, proxy_bypass

import httpcore
import httpcore2
import httpx
import httpx2

from fleet.infra.bounded import (
    AnswerRefused,
    AnswerTooLarge,
    Inflater,
    announced_length,
    encoding_of,
    time_left,
    too_large,
)


def proxy_for(url: str) -> str | None:
    """The proxy the environment names for ``url`` (``HTTP(S)_PROXY``, ``ALL_PROXY``,
    ``NO_PROXY``), as httpx's client would use."""
    parts = urlsplit(url)
    if parts.hostname is None or proxy_bypass(parts.hostname):
        return None
    proxies = getproxies()
    return proxies.get(parts.scheme) or proxies.get("all")


def _budget(timeout: float | None, error: type[Exception]) -> float | None:
    left = time_left()
    if left is None:
        return timeout
    if left <= 0:
        raise error("the call's deadline passed")
    return left if timeout is None else min(timeout, left)


class _Stream:
    """A network stream whose every operation ends by the deadline."""

    def __init__(self, inner: Any, core: ModuleType) -> None:
        self._inner = inner
        self._core = core

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data: bytes = self._inner.read(max_bytes, _budget(timeout, self._core.ReadTimeout))
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _budget(timeout, self._core.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> _Stream:
        budget = _budget(timeout, self._core.ConnectTimeout)
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, budget), self._core)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend:
    """A network backend (httpcore's interface) whose connections keep to the deadline,
    to the address ``address`` gives for a host and port when given (which may refuse)."""

    def __init__(self, core: ModuleType, address: Callable[[str, int], str] | None = None) -> None:
        self._inner = core.SyncBackend()
        self._core = core
        self._address = address

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> _Stream:
        if self._address is not None:
            host = self._address(host, port)
        stream = self._inner.connect_tcp(
            host,
            port,
            _budget(timeout, self._core.ConnectTimeout),
            local_address=local_address,
            socket_options=socket_options,
        )
        return _Stream(stream, self._core)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> _Stream:
        stream = self._inner.connect_unix_socket(
            path, _budget(timeout, self._core.ConnectTimeout), socket_options=socket_options
        )
        return _Stream(stream, self._core)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _mapped(exc: Exception, http: ModuleType) -> Exception:
    """httpcore's error as httpx's class of the same name (httpx names them alike)."""
    for kind in type(exc).__mro__:
        mapped = getattr(http, kind.__name__, None)
        if isinstance(mapped, type) and issubclass(mapped, http.TransportError):
            return mapped(str(exc))  # type: ignore[no-any-return]
    return exc


class _Flavour:
    """What the transports of one httpx flavour share (httpx on httpcore, or httpx2 on
    httpcore2): the pool, the request handed to it, the answer and errors handed back."""

    http: ModuleType
    core: ModuleType

    def __init__(
        self,
        *,
        verify: ssl.SSLContext | None,
        proxy: str | None = None,
        limits: Any = None,
        socket_options: Iterable[Any] | None = None,
        max_bytes: int | None = None,
        address: Callable[[str, int], str] | None = None,
    ) -> None:
        """``address``: the address to connect to for a host and port (it resolves the
        name, and may refuse it by raising), instead of the name itself."""
        self._max_bytes = max_bytes
        limits = limits or self.http.Limits(max_connections=100, max_keepalive_connections=20)
        self._pool = self.core.ConnectionPool(
            ssl_context=verify,  # None: httpcore's default, made for the first TLS call
            proxy=None if proxy is None else self._proxy(proxy),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_Backend(self.core, address),
            socket_options=socket_options,
        )

    def _proxy(self, url: str) -> Any:
        parts = urlsplit(url)
        auth = None
        if parts.username is not None:
            auth = (unquote(parts.username), unquote(parts.password or ""))
            url = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"
        return self.core.Proxy(url=url, auth=auth)

    def _send(self, request: Any) -> Any:
        url = request.url
        headers = request.headers.raw
        if self._max_bytes is not None:
            # Only what can be inflated within the cap is asked for.
            headers = [(k, v) for k, v in headers if k.lower() != b"accept-encoding"]
            headers.append((b"Accept-Encoding", b"gzip, deflate"))
        sent = self.core.Request(
            method=request.method,
            url=self.core.URL(
                scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
            ),
            headers=headers,
            content=request.stream,
            extensions=request.extensions,
        )
        try:
            answer = self._pool.handle_request(sent)
        except Exception as exc:
            mapped = _mapped(exc, self.http)
            if mapped is exc:
                raise
            raise mapped from exc
        headers, stream = answer.headers, answer.stream
        if self._max_bytes is not None:
            headers, stream = _stream_capped(headers, stream, self._max_bytes)
        return self.http.Response(
            status_code=answer.status,
            headers=headers,
            stream=self._body(stream),
            extensions=answer.extensions,
        )

    def _body(self, stream: Any) -> Any:
        raise NotImplementedError

    def close(self) -> None:
        self._pool.close()


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _stream_capped(
    headers: list[tuple[bytes, bytes]], stream: Any, cap: int
) -> tuple[list[tuple[bytes, bytes]], Iterable[bytes]]:
    """The answer's headers and body under the cap: refused when it announces more or
    comes in an encoding that cannot be inflated bounded; inflated here when it can."""
    try:
        length = _header(headers, b"content-length")
        announced = announced_length(length)
        if announced is not None and announced > cap:
            raise AnswerTooLarge(too_large(cap, f"{announced:,} bytes announced"))
        encoding = encoding_of(_header(headers, b"content-encoding"))
    except AnswerRefused:
        stream.close()
        raise
    if encoding is None:
        return headers, _Capped(stream, cap, None)
    kept = [(k, v) for k, v in headers if k.lower() not in (b"content-encoding", b"content-length")]
    return kept, _Capped(stream, cap, Inflater(encoding, cap))


class _Capped:
    """A body read at most ``cap`` bytes raw, inflated (at most ``cap``) when encoded."""

    def __init__(self, stream: Any, cap: int, inflater: Inflater | None) -> None:
        self._stream = stream
        self._cap = cap
        self._inflater = inflater

    def __iter__(self) -> Iterator[bytes]:
        raw = 0
        for chunk in self._stream:
            raw += len(chunk)
            if raw > self._cap:
                raise AnswerTooLarge(too_large(self._cap, "more"))
            yield chunk if self._inflater is None else self._inflater.feed(chunk)

    def close(self) -> None:
        self._stream.close()


class _Body:
    """An answer's body as it arrives, httpcore's errors raised as httpx's."""

    http: ModuleType

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._stream
        except Exception as exc:
            mapped = _mapped(exc, self.http)
            if mapped is exc:
                raise
            raise mapped from exc

    def close(self) -> None:
        self._stream.close()


class _Body1(_Body, httpx.SyncByteStream):
    http = httpx


class _Body2(_Body, httpx2.SyncByteStream):
    http = httpx2


class Transport(_Flavour, httpx.BaseTransport):
    """An httpx transport whose calls end by the deadline of ``within``."""

    http, core = httpx, httpcore

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response: httpx.Response = self._send(request)
        return response

    def _body(self, stream: Any) -> _Body1:
        return _Body1(stream)


class Transport2(_Flavour, httpx2.BaseTransport):
    """An httpx2 transport (the LLM SDKs') whose calls end by the deadline of ``within``."""

    http, core = httpx2, httpcore2

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        response: httpx2.Response = self._send(request)
        return response

    def _body(self, stream: Any) -> _Body2:
        return _Body2(stream)
