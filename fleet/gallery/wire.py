"""The gallery's wire: HTTP/1.1 calls over kept-alive connections of this process.

Built on the standard library (``socket`` and ``http.client``'s answer parser), it spends
a third of the CPU of httpx's transport and request model per call, and a worker's cheap
actions are mostly that call. It keeps the client's contract to the letter: the same
timeouts (connect, write, each read) and the call's total deadline (``deadline.within``),
and httpx's own error classes, so that ``HttpGallery`` maps a failure here as it maps
one from httpx: ``ConnectError``/``ConnectTimeout``, ``WriteError``/``WriteTimeout``,
``ReadError``/``ReadTimeout``, and ``RemoteProtocolError`` for an answer cut short or
malformed. Answers come back as ``httpx.Response``. An answer larger than
``max_answer_bytes``, or in a content encoding (gzip...) the wire never asks for, is
refused as ``MalformedAnswer`` and its connection closed: nothing is read past the cap,
nothing inflated.

httpx's transport stays for what this does not do: a proxy, and a transport a test
injects. Connections are shared by the threads of one process (a batch's calls), never
across a fork (``HttpGallery`` opens a wire per process). An idle connection older than
``KEEP_ALIVE_SECONDS``, or one the server has closed, is not reused.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import io
import json
import select
import socket
import ssl
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from fleet.gallery.answers import MalformedAnswer
from fleet.infra import bounded, deadline

# Below the 5 s after which uvicorn (and many servers) close an idle connection: a call
# never races the server's close on a connection it has just taken.
KEEP_ALIVE_SECONDS = 4.0
MAX_IDLE = 32
MAX_ANSWER_BYTES = 2_000_000
READ_SIZE = 65_536


def _query_value(value: Any) -> str:
    """A query parameter as httpx writes it (true/false, an empty None)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _budget(timeout: float | None, error: type[httpx.TimeoutException]) -> float | None:
    """What an operation may wait: its timeout, cut to the call's deadline."""
    left = deadline.time_left()
    if left is None:
        return timeout
    if left <= 0:
        raise error("the call's deadline passed")
    return left if timeout is None else min(timeout, left)


class _Reader(io.RawIOBase):
    """The socket's bytes, each read held to the read timeout and the call's deadline."""

    def __init__(self, sock: socket.socket, timeout: float | None) -> None:
        super().__init__()
        self._sock = sock
        self._timeout = timeout
        self.ended = False  # the server closed its side

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        self._sock.settimeout(_budget(self._timeout, httpx.ReadTimeout))
        try:
            read = self._sock.recv_into(buffer)
            self.ended = self.ended or read == 0
            return read
        except TimeoutError as exc:
            raise httpx.ReadTimeout(f"timed out reading the answer: {exc}") from exc
        except OSError as exc:
            raise httpx.ReadError(f"reading the answer failed: {exc}") from exc


class _Answering:
    """What ``http.client.HTTPResponse`` reads an answer from (it asks for ``makefile``)."""

    def __init__(self, sock: socket.socket, timeout: float | None) -> None:
        self.reader = _Reader(sock, timeout)

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(self.reader)


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
            if connection.reusable():
                return connection
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
        return _Connection(sock)

    def call(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes | None
    ) -> httpx.Response:
        """One call: ``target`` is the path and query; the answer read whole."""
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self._host_header}"]
        lines += [f"{name}: {value}" for name, value in headers]
        if body is not None or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body or b'')}")
        try:
            message = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")
        except UnicodeEncodeError as exc:
            raise httpx.LocalProtocolError(f"a header cannot be sent: {exc}") from exc
        connection = self._take()
        try:
            answer = self._exchange(connection, method, message)
        except BaseException:
            connection.close()
            raise
        if answer.will_close:
            connection.close()
        else:
            self._give_back(connection)
        return httpx.Response(
            answer.status,
            headers=answer.getheaders(),
            content=answer.content,
            extensions={"reason_phrase": answer.reason.encode("latin-1", "replace")},
        )

    def call_json(
        self,
        method: str,
        path: str,
        headers: list[tuple[str, str]],
        params: dict[str, Any] | None,
        body: dict[str, Any] | None,
    ) -> httpx.Response:
        """``call``, with the query and the JSON body encoded as httpx encodes them."""
        target = path
        if params:
            target += "?" + urlencode({k: _query_value(v) for k, v in params.items()})
        content = None
        if body is not None:
            content = json.dumps(
                body, ensure_ascii=False, separators=(",", ":"), allow_nan=False
            ).encode("utf-8")
            headers = [*headers, ("Content-Type", "application/json")]
        return self.call(method, target, headers, content)

    def _exchange(self, connection: _Connection, method: str, message: bytes) -> _Answer:
        sock = connection.sock
        sock.settimeout(_budget(self._write_timeout, httpx.WriteTimeout))
        try:
            sock.sendall(message)
        except TimeoutError as exc:
            raise httpx.WriteTimeout(f"timed out sending the call: {exc}") from exc
        except OSError as exc:
            raise httpx.WriteError(f"sending the call failed: {exc}") from exc
        answering = _Answering(sock, self._read_timeout)
        response = http.client.HTTPResponse(answering, method=method)  # type: ignore[arg-type]
        try:
            response.begin()
            if answering.reader.ended:
                # The head ended with the connection, not with its blank line.
                raise http.client.IncompleteRead(b"", None)
            content = self._body(response)
        except (http.client.HTTPException, ValueError) as exc:
            # No status line (RemoteDisconnected), a malformed one, too long a line, a body
            # shorter than its length (IncompleteRead), a broken chunk: the answer is lost.
            raise httpx.RemoteProtocolError(
                f"the answer was cut short or malformed ({type(exc).__name__}: {exc})"
            ) from exc
        finally:
            response.close()
        return _Answer(
            response.status,
            response.reason,
            response.getheaders(),
            content,
            bool(response.will_close),
        )

    def _body(self, response: http.client.HTTPResponse) -> bytes:
        """The answer's body, refused unread past the cap or in an encoding not asked for
        (``fleet.infra.bounded``, nothing inflated)."""
        content = gallery_body(
            iter(functools.partial(response.read, READ_SIZE), b""),
            cap=self._max_answer_bytes,
            encoding=response.getheader("content-encoding"),
            length=response.getheader("content-length"),
        )
        if response.length:  # read(amt) takes an early close for the end: it is not
            raise http.client.IncompleteRead(content, response.length)
        return content

    def close(self) -> None:
        """Close the idle connections (those in use close when their call ends)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


def gallery_body(
    chunks: Iterable[bytes], *, cap: int, encoding: str | None, length: str | None
) -> bytes:
    """A gallery answer's body under the shared policy (``bounded.read_body``): at most
    ``cap`` bytes, no content encoding (none is asked for); a refusal is MalformedAnswer
    naming the setting."""
    try:
        return bounded.read_plain_body(chunks, cap=cap, encoding=encoding, length=length)
    except bounded.AnswerEncoding as error:
        raise MalformedAnswer(f"the gallery: {error}") from None
    except bounded.AnswerTooLarge as error:
        raise MalformedAnswer(f"the gallery's {error}; FLEET_GALLERY__MAX_ANSWER_BYTES") from None
    except bounded.AnswerStalled as error:  # the client maps httpx's errors (a time-out)
        raise httpx.ReadTimeout(str(error)) from error
    except bounded.AnswerCut as error:
        raise httpx.ReadError(str(error)) from error


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    content: bytes
    will_close: bool

    def getheaders(self) -> list[tuple[str, str]]:
        return self.headers
