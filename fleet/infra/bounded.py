"""One bounded-answer policy for every outbound HTTP call (the gallery, the LLM writers,
the embeddings endpoint).

An upstream's answer is data from someone else's machine: it may be endless, a gzip
bomb, a trickle, JSON nested a million deep, garbage or an HTML page sent with a 200.
Whatever it is, a call must cost a bounded amount of memory and time, and end in the
port's one "unavailable" error. The policy:

- a total deadline: the call runs in ``deadline.within(bounds.seconds)`` on a transport
  of ``fleet.infra.bounded``, whose every socket operation ends by it (a trickle is cut);
- a byte cap on the raw body, checked against ``Content-Length`` before reading and
  while reading (``read_body``): nothing is read past it;
- the same cap on the inflated body: gzip and deflate are inflated step by step, never
  more than the cap (``Inflater``); any other encoding is refused, and an adapter that
  asked for none refuses every encoding;
- JSON read with a depth limit (checked before parsing, so the decoder never recurses
  far) and finite numbers only (``loads``);
- every way the body fails (too large, an encoding, a stall or a cut mid-body, not JSON,
  too deep) raises one class, ``AnswerRefused``, which each adapter maps to its port's
  error: ``TransientError`` for the LLM writers (the provider is down: the fallback is
  asked), ``EmbeddingUnavailable`` for the embeddings (the action goes on without
  vectors), ``MalformedAnswer`` or ``TransientError`` for the gallery.
"""

from __future__ import annotations

import json
import math
import re
import ssl
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from types import ModuleType
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import getproxies, proxy_bypass

import httpcore
import httpcore2
import httpx
import httpx2
import numpy as np

from fleet.errors import FleetError

# Deeper than any answer of the APIs Fleet calls (a chat completion nests 5 deep, an
# embeddings answer 4, a gallery page 4), far below what the decoder recurses to.
MAX_DEPTH = 32
READ_SIZE = 65_536


@dataclass(frozen=True, slots=True)
class Bounds:
    """What one call's answer may cost: ``max_bytes`` raw and inflated, ``seconds`` from
    connect to last byte, JSON nested at most ``max_depth``."""

    max_bytes: int
    seconds: float
    max_depth: int = MAX_DEPTH


class AnswerRefused(FleetError):
    """The answer broke a bound (too large, an encoding, a stall, not JSON, too deep);
    the message says which, never what the answer held."""


class AnswerTooLarge(AnswerRefused):
    """More bytes, raw or inflated, than the cap."""


class AnswerEncoding(AnswerRefused):
    """A content encoding that is not asked for or not one that can be inflated bounded."""


class AnswerCut(AnswerRefused):
    """The body stalled past the deadline or broke off mid-way."""


class AnswerStalled(AnswerCut):
    """The body stalled past the call's deadline (a trickle, or no byte at all)."""


class AnswerNotJson(AnswerRefused):
    """Not JSON (garbage, an HTML page), a number that is not finite, or nested too deep."""


class AnswerNotFinite(AnswerNotJson):
    """JSON holding a number that is not finite (1e999, NaN, Infinity)."""


class AnswerTooDeep(AnswerNotJson):
    """JSON nested deeper than the limit."""


def too_large(cap: int, size: str) -> str:
    """The message for an answer past ``cap`` (``size``: what was seen of it)."""
    return f"the answer is larger than {cap:,} bytes ({size})"


_INFLATABLE = {"gzip": 47, "x-gzip": 47, "deflate": 47}  # 47: a zlib or gzip header


def encoding_of(value: str | None) -> str | None:
    """The body's one content encoding to inflate (None: as sent); ``AnswerEncoding`` for
    a chain or an unknown one."""
    name = (value or "").strip().lower()
    if name in ("", "identity"):
        return None
    if name in _INFLATABLE:
        return name
    raise _unasked(value)


def as_sent(value: str | None) -> None:
    """Nothing when the body comes as sent (no content encoding); ``AnswerEncoding`` for
    any encoding, where none was asked."""
    if (value or "").strip().lower() not in ("", "identity"):
        raise _unasked(value)


def _unasked(value: str | None) -> AnswerEncoding:
    said = (value or "").strip()[:20]
    return AnswerEncoding(f"the answer came in {said!r}, an encoding Fleet did not ask for")


class Inflater:
    """A gzip or deflate body inflated piece by piece, never past ``cap`` bytes in all."""

    def __init__(self, encoding: str, cap: int) -> None:
        self._raw = encoding == "deflate"  # a raw deflate stream is tried if zlib's fails
        self._inflate = zlib.decompressobj(_INFLATABLE[encoding])
        self._room = cap
        self._cap = cap
        self._started = False

    def feed(self, data: bytes) -> bytes:
        """The bytes ``data`` inflates to; ``AnswerTooLarge`` past the cap, ``AnswerNotJson``
        for a stream that does not inflate."""
        try:
            out = self._inflate.decompress(data, self._room + 1)
        except zlib.error:
            if not (self._raw and not self._started):
                raise AnswerNotJson("the answer's compressed body is broken") from None
            self._raw = False
            self._inflate = zlib.decompressobj(-zlib.MAX_WBITS)
            return self.feed(data)
        self._started = True
        if len(out) > self._room:
            raise AnswerTooLarge(too_large(self._cap, "inflated"))
        self._room -= len(out)
        return out


def announced_length(length: str | None) -> int | None:
    """A Content-Length header as a number; None when absent or not one."""
    if length is None or not length.strip().isdigit() or len(length.strip()) > 20:
        return None
    return int(length)


@contextmanager
def _reading() -> Iterator[None]:
    """The HTTP libraries' errors while reading a body, as ``AnswerCut``."""
    try:
        yield
    except (httpx.TimeoutException, httpx2.TimeoutException) as error:
        raise AnswerStalled(
            f"the answer stalled past the call's deadline ({type(error).__name__})"
        ) from None
    except (
        httpx.TransportError,
        httpx2.TransportError,
        httpx.StreamError,
        httpx2.StreamError,
    ) as error:
        raise AnswerCut(f"the answer broke off ({type(error).__name__})") from None


def read_body(
    chunks: Iterable[bytes],
    *,
    cap: int,
    encoding: str | None = None,
    length: str | None = None,
) -> bytes:
    """A body from its raw ``chunks`` (as sent, not inflated by the HTTP library), at most
    ``cap`` bytes raw and ``cap`` inflated. ``encoding`` and ``length`` are its
    Content-Encoding and Content-Length headers."""
    name = encoding_of(encoding)
    return _capped(chunks, cap, length, None if name is None else Inflater(name, cap))


def read_plain_body(
    chunks: Iterable[bytes],
    *,
    cap: int,
    encoding: str | None = None,
    length: str | None = None,
) -> bytes:
    """As ``read_body``, for a body asked as sent: any content encoding is refused."""
    as_sent(encoding)
    return _capped(chunks, cap, length, None)


def _capped(
    chunks: Iterable[bytes], cap: int, length: str | None, inflater: Inflater | None
) -> bytes:
    """The chunks joined (inflated by ``inflater``, if any), refused past ``cap`` bytes or
    when ``length`` announces more."""
    announced = announced_length(length)
    if announced is not None and announced > cap:
        raise AnswerTooLarge(too_large(cap, f"{announced:,} bytes announced"))
    pieces: list[bytes] = []
    raw = 0
    with _reading():
        for chunk in chunks:
            raw += len(chunk)
            if raw > cap:
                raise AnswerTooLarge(too_large(cap, "more"))
            pieces.append(chunk if inflater is None else inflater.feed(chunk))
    return b"".join(pieces)


def read_response(response: httpx.Response | httpx2.Response, *, cap: int) -> bytes:
    """``read_body`` of a streamed httpx (or httpx2) answer, its headers read for the
    encoding and the length; the answer is closed."""
    try:
        headers = response.headers
        if response.is_stream_consumed:  # built in memory (a test's transport): as read
            content = response.content
            if len(content) > cap:
                raise AnswerTooLarge(too_large(cap, f"{len(content):,} bytes"))
            return content
        return read_body(
            response.iter_raw(READ_SIZE),
            cap=cap,
            encoding=headers.get("content-encoding"),
            length=headers.get("content-length"),
        )
    finally:
        with _reading():
            response.close()


# A JSON string (escapes included), to blank out before counting brackets.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
# Every byte but the four brackets, to delete (``bytes.translate``).
_NOT_BRACKETS = bytes(range(256)).translate(None, b"[]{}")
_OPENS = (ord("["), ord("{"))


def _depth_of_brackets(brackets: bytes) -> int:
    if len(brackets) > 4_096:  # numpy's pass over a long run (a deep answer)
        codes = np.frombuffer(brackets, dtype=np.uint8)
        steps = np.where((codes == _OPENS[0]) | (codes == _OPENS[1]), 1, -1).astype(np.int32)
        return int(np.cumsum(steps).max(initial=0))
    depth = deepest = 0
    for code in brackets:
        if code in _OPENS:
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def json_depth(content: bytes) -> int:
    """How deep ``content`` nests its arrays and objects (brackets in strings not
    counted); a scan, no parse, so it never recurses."""
    return _depth_of_brackets(_STRING.sub(b'""', content).translate(None, _NOT_BRACKETS))


class _NotFinite(ValueError):
    pass


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise _NotFinite(f"the number {text[:20]} is not finite")
    return number


def _no_constant(text: str) -> float:
    raise _NotFinite(f"{text} is not a number JSON allows")


# One decoder (building one costs more than decoding a page of the gallery's).
_DECODER = json.JSONDecoder(parse_float=_finite, parse_constant=_no_constant)


def loads(content: bytes, *, max_depth: int = MAX_DEPTH) -> object:
    """The JSON of an answer: ``AnswerTooDeep`` past ``max_depth``, ``AnswerNotJson`` when
    it is not JSON (garbage, HTML) or holds a number that is not finite."""
    # Brackets counted in strings too first (a pass in C): only when that bound is past
    # the limit are the strings taken out and the brackets counted again.
    depth = _depth_of_brackets(content.translate(None, _NOT_BRACKETS))
    if depth > max_depth:
        depth = json_depth(content)
    if depth > max_depth:
        raise AnswerTooDeep(f"the answer nests {depth} deep, more than {max_depth}")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise AnswerNotJson("the answer is not UTF-8 text") from None
    try:
        return _DECODER.decode(text)
    except _NotFinite as error:
        raise AnswerNotFinite(f"the answer holds {error}") from None
    except RecursionError:  # not reached under the depth limit; kept as a backstop
        raise AnswerTooDeep("the answer nests too deep") from None
    except ValueError:
        said = (
            "an HTML page"
            if text.lstrip()[:15].lower().startswith(("<!doctype", "<html"))
            else "not JSON"
        )
        raise AnswerNotJson(f"the answer is {said}") from None


# A total deadline for an HTTP call, however slowly its answer arrives.
#
# httpx's timeouts bound each connect, write and read, not the call: an upstream that
# sends a byte every few seconds holds a call open as long as it likes (encode/httpx
# #1450). ``within(seconds)`` sets a deadline for the calls made inside the block (a
# context variable, so one per thread), and the transports made here give each socket
# operation at most the time left, then fail with the HTTP library's own timeout error,
# which the clients already map to a timeout (the gallery's and the SDK's
# ``TransientError``). Nested blocks keep the earliest deadline.
#
# ``transport`` (httpx) and ``transport2`` (httpx2, the LLM SDKs') are built on public
# interfaces only: an httpcore ``ConnectionPool`` given a ``network_backend`` (httpcore's
# documented extension point) that wraps the default one, behind an httpx
# ``BaseTransport``. They do what httpx's ``HTTPTransport`` does for one origin's calls:
# connection pooling, TLS verified against the given context, an optional proxy, and
# httpcore's errors raised as httpx's.
#
# Given ``max_bytes``, a transport also keeps the bounded-answer policy
# (``fleet.infra.bounded``) below the HTTP library: an answer announcing more is refused
# unread, its body is cut past ``max_bytes`` raw, gzip or deflate is inflated here, step by
# step and never past ``max_bytes`` (the header removed, so the library does not inflate it
# again), and any other encoding is refused: whatever reads the answer (an SDK reading an
# error's body whole included) holds at most ``max_bytes``. Each refusal is an
# ``AnswerRefused``.

_deadline: ContextVar[float | None] = ContextVar("fleet_call_deadline", default=None)


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
