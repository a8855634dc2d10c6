"""What an outbound HTTP call's answer may cost, in time, bytes or depth: one policy for every call.

The gallery, the LLM writers, the embeddings endpoint and the image endpoint all keep it.
An upstream's answer is data from someone else's machine: it may be endless, a gzip
bomb, a trickle, JSON nested a million deep, garbage or an HTML page sent with a 200.
Whatever it is, a call must cost a bounded amount of memory and time, and end in the
port's one "unavailable" error. The policy:

- a total deadline: the call runs in ``within(seconds)`` on a transport of
  ``fleet.infra.transports``, whose every socket operation ends by it (a trickle is cut);
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
import time
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

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


# The HTTP libraries' errors while reading a body: a time-out is ``AnswerStalled``, any
# other failure of the transport or the stream ``AnswerCut`` (``_cut``).
_READ_ERRORS = (
    httpx.TransportError,
    httpx2.TransportError,
    httpx.StreamError,
    httpx2.StreamError,
)


def _cut(error: Exception) -> AnswerCut:
    """The refusal for an HTTP library's ``error`` while reading a body."""
    if isinstance(error, httpx.TimeoutException | httpx2.TimeoutException):
        return AnswerStalled(
            f"the answer stalled past the call's deadline ({type(error).__name__})"
        )
    return AnswerCut(f"the answer broke off ({type(error).__name__})")


def read_body(
    chunks: Iterable[bytes],
    *,
    cap: int,
    encoding: str | None = None,
    length: str | None = None,
    inflate: bool = True,
) -> bytes:
    """A body from its raw ``chunks`` (as sent, not inflated by the HTTP library), at most
    ``cap`` bytes raw and ``cap`` inflated. ``encoding`` and ``length`` are its
    Content-Encoding and Content-Length headers; with ``inflate`` False the body was asked
    as sent, and any content encoding is refused."""
    inflater = None
    if not inflate:
        as_sent(encoding)
    elif (name := encoding_of(encoding)) is not None:
        inflater = Inflater(name, cap)
    announced = announced_length(length)
    if announced is not None and announced > cap:
        raise AnswerTooLarge(too_large(cap, f"{announced:,} bytes announced"))
    pieces: list[bytes] = []
    raw = 0
    try:
        for chunk in chunks:
            raw += len(chunk)
            if raw > cap:
                raise AnswerTooLarge(too_large(cap, "more"))
            pieces.append(chunk if inflater is None else inflater.feed(chunk))
    except _READ_ERRORS as error:
        raise _cut(error) from None
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
        try:
            response.close()
        except _READ_ERRORS as error:
            raise _cut(error) from None


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
    # No answer nests deeper than it has brackets: a short run (a like's answer) is not
    # counted at all.
    brackets = content.translate(None, _NOT_BRACKETS)
    if len(brackets) > max_depth and _depth_of_brackets(brackets) > max_depth:
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


# A total deadline for an HTTP call, however slowly its answer arrives: ``within(seconds)``
# sets it for the calls made inside the block (a context variable, so one per thread);
# nested blocks keep the earliest. The transports of ``fleet.infra.transports`` hold each
# socket operation to the time left.

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
