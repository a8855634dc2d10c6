"""The gallery's wire: its HTTP calls (below) and their answers read into Fleet's terms:
its posts and comments, the refusals (``GalleryRefused``, ``MalformedAnswer``), and the
times and details an error carries.

What the gallery sends is bounded here, before anything stores, publishes or shows it:
strings are clipped to the API's documented limits (``LIMITS``), counts must be whole
numbers a count can be, JSON may not nest past what the decoder follows nor hold a
number that is not finite, and a wait is held to what its code can mean (``bounded_wait``).
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import io
import json
import math
import re
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx

from fleet.errors import PermanentError
from fleet.gallery.port import GalleryComment, GalleryPost
from fleet.infra import bounded
from fleet.infra.clocks import retry_after, utcnow

T = TypeVar("T")


class GalleryRefused(PermanentError):
    """Raised when the gallery refuses a call in a way a retry cannot change (4xx)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class MalformedAnswer(PermanentError):
    """Raised when the gallery answers with a body that is not what its API promises: a
    missing or garbled field, a count no count can be, JSON nested too deep, an answer
    larger than ``FLEET_GALLERY__MAX_ANSWER_BYTES`` or in an encoding Fleet did not ask
    for, a wait that cannot be a time. Asking again gets the same answer."""


# The API's documented limits (docs/gallery-api.md): longer strings are clipped.
MAX_TITLE = 200
MAX_DESCRIPTION = 5000
MAX_COMMENT = 2000
MAX_NAME = 200
MAX_USERNAME = 64
# Longer ids and image addresses are refused (clipped, they would name something else).
MAX_ID = 200
MAX_URL = 2000
MAX_COUNT = 2**53  # a count beyond this is not a count
# The longest wait each code can mean; a longer one is clamped and reported.
DAY = timedelta(days=1)
MONTH = timedelta(days=31)


def _read(what: str, parse: Callable[[], T]) -> T:
    """``parse()``, or MalformedAnswer naming what the gallery sent that was wrong."""
    try:
        return parse()
    except KeyError as error:
        raise MalformedAnswer(f"the gallery's {what} has no {str(error.args[0])[:40]!r}") from None
    except (TypeError, ValueError, AttributeError, OverflowError) as error:
        raise MalformedAnswer(f"the gallery's {what} is malformed: {str(error)[:200]}") from None


def clip(value: object, limit: int) -> str:
    """A string from the gallery, at most ``limit`` characters."""
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _id(value: object) -> str:
    text = str(value)
    if not text or len(text) > MAX_ID:
        raise ValueError(f"an id of {len(text)} characters")
    return text


def _count(value: object) -> int:
    """A count: a whole number from 0 to ``MAX_COUNT`` (a float must be whole)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError(f"a count of type {type(value).__name__}")
    number = float(value) if isinstance(value, float) else int(value)
    if isinstance(number, float) and not (math.isfinite(number) and number.is_integer()):
        raise ValueError(f"a count of {number!r}")
    count = int(number)
    if not 0 <= count <= MAX_COUNT:
        raise ValueError("a count out of range")
    return count


def _time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _url(value: object) -> str:
    text = str(value)
    return text if len(text) <= MAX_URL else ""  # no picture rather than a wrong one


def _post(item: dict[str, Any]) -> GalleryPost:
    user = item.get("user") or {}
    image = item.get("image") or item.get("imageUrl") or ""
    if isinstance(image, dict):
        image = image.get("url", "")
    return GalleryPost(
        id=_id(item["id"]),
        title=clip(item.get("title", ""), MAX_TITLE),
        description=clip(item.get("description") or "", MAX_DESCRIPTION),
        image_url=_url(image),
        like_count=_count(item.get("likeCount", 0)),
        comment_count=_count(item.get("commentCount", 0)),
        created_at=_time(item["createdAt"]),
        user_id=clip(user.get("id", ""), MAX_ID),
        username=clip(user.get("username", ""), MAX_USERNAME),
        user_is_agent=bool(user.get("isAgent", False)),
    )


def _comment(post_id: str, data: dict[str, Any]) -> GalleryComment:
    user = data.get("user") or {}
    return GalleryComment(
        id=_id(data["id"]),
        post_id=_id(data.get("postId", post_id)),
        content=clip(data["content"], MAX_COMMENT),
        user_id=clip(user.get("id", ""), MAX_ID),
        username=clip(user.get("username", ""), MAX_USERNAME),
        created_at=_time(data["createdAt"]),
        user_is_agent=bool(user.get("isAgent", False)),
        parent_id=None if data.get("parentId") is None else _id(data["parentId"]),
    )


def _items(data: dict[str, Any], field: str, limit: int) -> list[dict[str, Any]]:
    """At most ``limit`` entries of the list ``field`` (the page asked for no more)."""
    items = data.get(field, [])
    if not isinstance(items, list):
        raise TypeError(f"{field} is not a list")
    return items[: max(limit, 0)]


def json_of(content: bytes, what: str) -> object:
    """An answer's JSON (``bounded.loads``, the shared policy); ValueError when it is not
    JSON, MalformedAnswer when it is JSON no API answer can be (nested past
    ``bounded.MAX_DEPTH``, a number that is not finite)."""
    try:
        return bounded.loads(content)
    except bounded.AnswerTooDeep:
        raise MalformedAnswer(f"gallery {what}: the answer nests too deep") from None
    except bounded.AnswerNotFinite as error:
        raise MalformedAnswer(f"gallery {what}: {error}") from None
    except bounded.AnswerNotJson as error:
        raise ValueError(str(error)) from None


# An error code of the API (docs/gallery-api.md): a short identifier, as long as a hold's
# kind may be. Anything else is the gallery's text, not a code: no wait is built on it.
_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,31}")


def error_code(value: object) -> str | None:
    """The error's ``code`` when it is one the API could send, else None."""
    return value if isinstance(value, str) and _CODE.fullmatch(value) else None


def longest_wait(code: str | None, pause: timedelta) -> timedelta:
    """The longest wait ``code`` can mean: a monthly budget a month, a daily one (or one
    not named) a day, the platform's pause the probe interval."""
    if code == "FLEET_PAUSED":
        return pause
    return MONTH if code is not None and "MONTHLY" in code else DAY


def bounded_wait(
    until: datetime | None, *, code: str | None, now: datetime, pause: timedelta
) -> tuple[datetime | None, str | None]:
    """``until`` held to what ``code`` can mean, and the problem when it was further."""
    if until is None:
        return None, None
    longest = longest_wait(code, pause)
    if until - now <= longest:
        return until, None
    held = now + longest
    if until - now <= max(longest, DAY):
        return held, None  # a pause's wait a little past the next probe: not a problem
    said = until.isoformat()[:40]
    return held, (
        f"the gallery said wait until {said}, longer than {code or 'a rate limit'} can mean; "
        f"waiting until {held:%Y-%m-%d %H:%M:%S} UTC instead"
    )


def _detail(data: dict[str, Any]) -> str:
    """The gallery's own words for an error: ``error``, or the ``errors`` listed."""
    errors = data.get("errors")
    if isinstance(errors, list) and errors:
        parts = []
        for error in errors[:5]:
            if isinstance(error, dict):
                field = error.get("field") or error.get("path") or ""
                parts.append(f"{field}: {error.get('message', '')}" if field else str(error))
            else:
                parts.append(str(error))
        return "; ".join(parts)
    error = data.get("error") or data.get("message")
    return str(error) if error else ""


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return _time(value)
    except ValueError:
        return None


def _retry_after(response: httpx.Response, now: datetime | None = None) -> datetime | None:
    """``Retry-After`` (seconds, or an HTTP date) as a time; None when absent or garbled;
    MalformedAnswer for a number of seconds too large to be a time."""
    try:
        return retry_after(response.headers.get("retry-after"), now or utcnow())
    except ValueError as error:
        raise MalformedAnswer(str(error)) from None


# The gallery's wire: HTTP/1.1 calls over kept-alive connections of this process.
#
# Built on the standard library (``socket`` and ``http.client``'s answer parser), it spends
# a third of the CPU of httpx's transport and request model per call, and a worker's cheap
# actions are mostly that call. It keeps the client's contract to the letter: the same
# timeouts (connect, write, each read) and the call's total deadline (``bounded.within``),
# and httpx's own error classes, so that ``HttpGallery`` maps a failure here as it maps
# one from httpx: ``ConnectError``/``ConnectTimeout``, ``WriteError``/``WriteTimeout``,
# ``ReadError``/``ReadTimeout``, and ``RemoteProtocolError`` for an answer cut short or
# malformed. Answers come back as ``httpx.Response``. An answer larger than
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
            if answer.will_close:
                connection.close()
            else:
                self._give_back(connection)
        except BaseException:  # an interrupt included: closed (an idle one closed is dropped)
            connection.close()
            raise
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
