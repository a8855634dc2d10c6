"""The gallery's wire: HTTP/1.1 calls over kept-alive connections of this process."""

from __future__ import annotations

import contextlib
import json
import re
import select
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from fleet.gallery.answers import TooLargeAnswer, gallery_body
from fleet.infra import bounded


@dataclass(frozen=True, slots=True)
class Answer:
    """An answer the wire read whole, by httpx's names (``Answered``). Not an
    ``httpx.Response``: building one ran the body through httpx's decoders again, as
    much CPU as reading the answer off the socket."""

    status_code: int
    reason_phrase: str
    raw_headers: list[tuple[bytes, bytes]]
    content: bytes

    @property
    def headers(self) -> httpx.Headers:
        return httpx.Headers(self.raw_headers)

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    def json(self) -> Any:
        return json.loads(self.content)


# The gallery's wire: HTTP/1.1 calls over kept-alive connections of this process.
#
# Built on the standard library's ``socket``, with the answer's head and framing read here
# (``_Answer``), it spends a fraction of the CPU of httpx's transport and request model per
# call (and of ``http.client``'s reader, whose headers go through ``email.parser``), and a
# worker's cheap actions are mostly that call. It keeps the client's contract to the
# letter: the same timeouts (connect, write, each read) and the call's total deadline
# (``bounded.within``), and httpx's own error classes, so that ``HttpGallery`` maps a
# failure here as it maps one from httpx: ``ConnectError``/``ConnectTimeout``,
# ``WriteError``/``WriteTimeout``, ``ReadError``/``ReadTimeout``, and
# ``RemoteProtocolError`` for an answer cut short or malformed. Answers come back as
# ``Answer`` (httpx's names, not its ``Response``). An answer larger than
# ``max_answer_bytes``, or in a content encoding (gzip...) the wire never asks for, is
# refused as ``MalformedAnswer`` and its connection closed: nothing is read past the cap,
# nothing inflated.
#
# httpx's transport stays for what this does not do: a proxy, and a transport a test
# injects. Connections are shared by the threads of one process (a batch's calls), never
# across a fork (``HttpGallery`` opens a wire per process). An idle connection older than
# ``KEEP_ALIVE_SECONDS``, or one the server has closed, is not reused.

# Below the 5 s after which uvicorn (and many servers) close an idle connection: a call
# never races the server's close on a connection it has just taken.
KEEP_ALIVE_SECONDS = 4.0
MAX_IDLE = 32
MAX_ANSWER_BYTES = 2_000_000
READ_SIZE = 65_536
# The longest head (status line and headers) and the most header lines read: those of
# ``http.client``, whose reader the wire's replaces. A longer head is malformed.
MAX_HEAD = 65_536
MAX_HEADERS = 100
MAX_CHUNK_LINE = 1_024  # a chunk's size line, its extensions included


def _query_value(value: Any) -> str:
    """A query parameter as httpx writes it (true/false, an empty None)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _budget(timeout: float | None, error: type[httpx.TimeoutException]) -> float | None:
    """What an operation may wait: its timeout, cut to the call's deadline."""
    left = bounded.time_left()
    if left is None:
        return timeout
    if left <= 0:
        raise error("the call's deadline passed")
    return left if timeout is None else min(timeout, left)


class _Broken(ValueError):
    """An answer cut short or malformed (the call maps it to ``RemoteProtocolError``)."""


# RFC 9112's status line (HTTP/1.0 or 1.1, a three-digit code, any reason) and RFC 9110's
# field name (a token); a field value holds no control character but a tab.
_STATUS_LINE = re.compile(rb"HTTP/1\.([01]) ([1-5][0-9][0-9])(?: ([\t\x20-\x7e\x80-\xff]*))?")
_FIELD_NAME = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")


class _Answer:
    """One answer read off a connection: its status line and headers parsed here (RFC
    9112, strictly: anything else is ``_Broken``), its body read by its framing (a
    length, chunks, or until the connection closes), each read held to the read timeout
    and the call's deadline."""

    __slots__ = (
        "_buffer",
        "_by_name",
        "_ended",
        "_sock",
        "_timeout",
        "headers",
        "method",
        "reason",
        "status",
        "version",
        "will_close",
    )

    def __init__(self, sock: socket.socket, timeout: float | None) -> None:
        self._sock = sock
        self._timeout = timeout
        self._buffer = b""
        self._ended = False  # the server closed its side
        self.status = 0
        self.version = 1
        self.reason = ""
        self.headers: list[tuple[bytes, bytes]] = []
        # Each header's values by its name in lower case, made once with the head.
        self._by_name: dict[bytes, list[bytes]] = {}
        self.will_close = False
        self.method = "GET"

    def _recv(self) -> bytes:
        self._sock.settimeout(_budget(self._timeout, httpx.ReadTimeout))
        try:
            read = self._sock.recv(READ_SIZE)
        except TimeoutError as exc:
            raise httpx.ReadTimeout(f"timed out reading the answer: {exc}") from exc
        except OSError as exc:
            raise httpx.ReadError(f"reading the answer failed: {exc}") from exc
        self._ended = self._ended or not read
        return read

    def read_head(self, method: str) -> None:
        """The status line and headers of the final answer (an interim 1xx one is read
        past), and whether the connection closes after it."""
        while True:
            lines = self._head_lines()
            matched = _STATUS_LINE.fullmatch(lines[0])
            if matched is None:
                raise _Broken(f"not an HTTP/1.1 status line: {lines[0][:40]!r}")
            self.version = int(matched[1])
            self.status = int(matched[2])
            self.reason = (matched[3] or b"").decode("latin-1")
            self.headers = []
            for line in lines[1:]:
                name, colon, value = line.partition(b":")
                if not colon or _FIELD_NAME.fullmatch(name) is None:
                    raise _Broken(f"not a header line: {line[:40]!r}")
                value = value.strip(b" \t")
                if _CONTROL.search(value) is not None:
                    raise _Broken(f"a control character in header {name[:40]!r}")
                self.headers.append((name, value))
            if self.status >= 200:
                break
            if self.status == 101:
                raise _Broken("the server switched protocols, unasked")
        for name, value in self.headers:
            self._by_name.setdefault(name.lower(), []).append(value)
        connection = self.header(b"connection")
        tokens = {t.strip().lower() for t in connection.split(",")} if connection else set()
        self.will_close = "close" in tokens or (self.version == 0 and "keep-alive" not in tokens)
        self.method = method

    def _head_lines(self) -> list[bytes]:
        scanned = 0
        while True:
            end = self._buffer.find(b"\r\n\r\n", max(scanned - 3, 0))
            if end > MAX_HEAD:
                raise _Broken(f"a head longer than {MAX_HEAD:,} bytes")
            if end >= 0:
                head, self._buffer = self._buffer[:end], self._buffer[end + 4 :]
                lines = head.split(b"\r\n")
                if len(lines) > MAX_HEADERS + 1:
                    raise _Broken(f"more than {MAX_HEADERS} header lines")
                return lines
            scanned = len(self._buffer)
            if scanned > MAX_HEAD:
                raise _Broken(f"a head longer than {MAX_HEAD:,} bytes")
            read = self._recv()
            if not read:
                said = "no answer" if not self._buffer else "the head broke off"
                raise _Broken(f"{said}: the server closed the connection")
            self._buffer += read

    def header(self, name: bytes) -> str | None:
        """The values of header ``name`` (lower case), comma-joined; None when absent."""
        values = self._by_name.get(name)
        return b", ".join(values).decode("latin-1") if values else None

    def body(self, cap: int) -> bytes:
        """The body whole, by the answer's framing, under the gallery's bounded-answer
        policy (``gallery_body``): at most ``cap`` bytes, as sent (no content encoding).
        A body of a length (most answers: a like's) is read here straight, its length
        parsed once and held to the cap before a byte of it is read; chunks, or a body
        read until the connection closes, go through ``gallery_body`` as they come."""
        encoding = self.header(b"content-encoding")
        if encoding is not None:  # refused as the policy refuses it (none is asked for)
            gallery_body((), cap=cap, encoding=encoding, length=None)
        if self.method == "HEAD" or self.status in (204, 304):
            return b""
        coding = self.header(b"transfer-encoding")
        if coding is not None:
            if coding.strip().lower() != "chunked":
                raise _Broken(f"a transfer coding the wire does not read: {coding[:40]!r}")
            self.will_close = self.will_close or self.header(b"content-length") is not None
            return gallery_body(self._chunked(), cap=cap, encoding=None, length=None)
        length = self.header(b"content-length")
        if length is None:
            self.will_close = True
            return gallery_body(self._until_closed(), cap=cap, encoding=None, length=None)
        values = set(map(str.strip, length.split(",")))
        if len(values) != 1 or not (size := values.pop()).isdigit() or len(size) > 20:
            raise _Broken(f"a Content-Length that is not one: {length[:40]!r}")
        left = int(size)
        if left > cap:
            raise TooLargeAnswer(
                f"the gallery: {bounded.too_large(cap, f'{left:,} bytes announced')}; "
                "FLEET_GALLERY__MAX_ANSWER_BYTES"
            )
        if len(self._buffer) >= left:  # the whole body came with the head (a small answer)
            body, self._buffer = self._buffer[:left], self._buffer[left:]
            return body
        return b"".join(self._sized(left))  # the rest of it, as it comes

    def _sized(self, size: int) -> Iterator[bytes]:
        """The next ``size`` bytes (a chunk's, or a body's of a length), as they come."""
        left = size
        while left:
            if not self._buffer:
                self._buffer = self._recv()
                if not self._buffer:
                    raise _Broken(f"the body broke off {left:,} bytes short")
            piece, self._buffer = self._buffer[:left], self._buffer[left:]
            left -= len(piece)
            yield piece

    def _until_closed(self) -> Iterator[bytes]:
        if self._buffer:
            yield self._buffer
            self._buffer = b""
        while read := self._recv():
            yield read

    def _line(self, what: str) -> bytes:
        while (end := self._buffer.find(b"\r\n")) < 0:
            if len(self._buffer) > MAX_CHUNK_LINE:
                raise _Broken(f"a {what} longer than {MAX_CHUNK_LINE:,} bytes")
            read = self._recv()
            if not read:
                raise _Broken(f"the body broke off in a {what}")
            self._buffer += read
        line, self._buffer = self._buffer[:end], self._buffer[end + 2 :]
        if len(line) > MAX_CHUNK_LINE:
            raise _Broken(f"a {what} longer than {MAX_CHUNK_LINE:,} bytes")
        return line

    def _chunked(self) -> Iterator[bytes]:
        while True:
            size_text = self._line("chunk's size").split(b";", 1)[0].strip(b" \t")
            if not size_text or len(size_text) > 16 or size_text.strip(_HEX):
                raise _Broken(f"a chunk's size that is not one: {size_text[:20]!r}")
            size = int(size_text, 16)
            if size == 0:
                break
            yield from self._sized(size)
            if self._line("chunk's end"):
                raise _Broken("a chunk longer than its size")
        trailers = 0
        while self._line("trailer"):  # read past, never used
            trailers += 1
            if trailers > MAX_HEADERS:
                raise _Broken(f"more than {MAX_HEADERS} trailer lines")

    def leftover(self) -> bool:
        """Bytes past the answer's end, or the server's close: not a connection to reuse."""
        return bool(self._buffer) or self._ended


_HEX = b"0123456789abcdefABCDEF"


@dataclass(slots=True)
class _Connection:
    sock: socket.socket
    idle_since: float = 0.0

    def reusable(self) -> bool:
        """Young enough, and silent: a readable idle socket was closed by the server (or
        holds bytes nobody asked for)."""
        if time.monotonic() - self.idle_since > KEEP_ALIVE_SECONDS:
            return False
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


class Wire:
    """HTTP/1.1 to one origin (``scheme://host:port``) over kept-alive connections."""

    def __init__(
        self,
        origin: str,
        *,
        tls: ssl.SSLContext | None,
        connect_timeout: float | None,
        write_timeout: float | None,
        read_timeout: float | None,
        max_answer_bytes: int = MAX_ANSWER_BYTES,
    ) -> None:
        parsed = httpx.URL(origin)
        self._https = parsed.scheme == "https"
        if self._https and tls is None:
            raise ValueError("an https gallery needs a TLS context")
        self._host = parsed.host
        self._port = parsed.port or (443 if self._https else 80)
        default = parsed.port is None
        self._host_header = self._host if default else f"{self._host}:{self._port}"
        self._tls = tls
        self._connect_timeout = connect_timeout
        self._write_timeout = write_timeout
        self._read_timeout = read_timeout
        self._max_answer_bytes = max_answer_bytes
        self._idle: list[_Connection] = []
        self._lock = threading.Lock()

    def _take(self) -> _Connection:
        while True:
            with self._lock:
                connection = self._idle.pop() if self._idle else None
            if connection is None:
                return self._connect()
            try:
                if connection.reusable():
                    return connection
            except BaseException:  # an interrupt (a time limit): closed, not leaked
                connection.close()
                raise
            connection.close()

    def _give_back(self, connection: _Connection) -> None:
        connection.idle_since = time.monotonic()
        with self._lock:
            if len(self._idle) < MAX_IDLE:
                self._idle.append(connection)
                return
        connection.close()

    def _connect(self) -> _Connection:
        timeout = _budget(self._connect_timeout, httpx.ConnectTimeout)
        try:
            sock = socket.create_connection((self._host, self._port), timeout=timeout)
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(f"timed out connecting: {exc}") from exc
        except OSError as exc:
            raise httpx.ConnectError(str(exc)) from exc
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._tls is not None:
                sock = self._tls.wrap_socket(sock, server_hostname=self._host)
        except TimeoutError as exc:
            sock.close()
            raise httpx.ConnectTimeout(f"timed out in the TLS handshake: {exc}") from exc
        except OSError as exc:  # ssl.SSLError included
            sock.close()
            raise httpx.ConnectError(str(exc)) from exc
        except BaseException:  # an interrupt (a time limit): closed, not leaked
            sock.close()
            raise
        return _Connection(sock)

    def call(
        self,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        content: bytes | None = None,
        *,
        params: dict[str, Any] | None = None,
        json_body: dict[str, Any] | None = None,
        cap: int | None = None,
    ) -> Answer:
        """One call: ``target`` is the path (and query), ``params`` and ``json_body``
        encoded as httpx encodes them; the answer read whole, within ``cap`` bytes when
        given (a call's own: the provenance check's image), else ``max_answer_bytes``."""
        if params:
            target += "?" + urlencode({k: _query_value(v) for k, v in params.items()})
        if json_body is not None:
            content = json.dumps(
                json_body, ensure_ascii=False, separators=(",", ":"), allow_nan=False
            ).encode("utf-8")
            headers = [*headers, ("Content-Type", "application/json")]
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self._host_header}"]
        lines += map(": ".join, headers)
        if content is not None or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(content or b'')}")
        try:
            message = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (content or b"")
        except UnicodeEncodeError as exc:
            raise httpx.LocalProtocolError(f"a header cannot be sent: {exc}") from exc
        connection = self._take()
        try:
            answer, body = self._exchange(connection, method, message, cap)
            if answer.will_close or answer.leftover():
                connection.close()
            else:
                self._give_back(connection)
        except BaseException:  # an interrupt included: closed (an idle one closed is dropped)
            connection.close()
            raise
        return Answer(answer.status, answer.reason, answer.headers, body)

    def _exchange(
        self, connection: _Connection, method: str, message: bytes, cap: int | None
    ) -> tuple[_Answer, bytes]:
        sock = connection.sock
        sock.settimeout(_budget(self._write_timeout, httpx.WriteTimeout))
        try:
            sock.sendall(message)
        except TimeoutError as exc:
            raise httpx.WriteTimeout(f"timed out sending the call: {exc}") from exc
        except OSError as exc:
            raise httpx.WriteError(f"sending the call failed: {exc}") from exc
        answer = _Answer(sock, self._read_timeout)
        try:
            answer.read_head(method)
            content = answer.body(self._max_answer_bytes if cap is None else cap)
        except _Broken as exc:
            # No status line, a malformed one or header, too long a head, a body shorter
            # than its length, a broken chunk: the answer is lost.
            raise httpx.RemoteProtocolError(
                f"the answer was cut short or malformed ({exc})"
            ) from exc
        return answer, content

    def close(self) -> None:
        """Close the idle connections (those in use close when their call ends)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()
