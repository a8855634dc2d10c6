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
import json
import math
import re
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar
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


# A reaction's name: lower-case letters and underscores; at most MAX_REACTIONS of them.
REACTION = re.compile(r"[a-z][a-z_]{0,31}")
MAX_REACTIONS = 16


def reaction_counts(value: object) -> tuple[tuple[str, int], ...]:
    """A post's ``reactions`` object (name -> count), most first; names that are not a
    reaction's and zero counts are left out, at most ``MAX_REACTIONS`` kept."""
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise TypeError("reactions is not an object")
    counts = [
        (name, _count(n))
        for name, n in list(value.items())[: MAX_REACTIONS * 4]
        if isinstance(name, str) and REACTION.fullmatch(name)
    ]
    counts.sort(key=lambda c: (-c[1], c[0]))
    return tuple(c for c in counts if c[1] > 0)[:MAX_REACTIONS]


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
        reactions=reaction_counts(item.get("reactions")),
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


class Answered(Protocol):
    """What ``HttpGallery`` reads of an answer: an ``httpx.Response`` (httpx's transport),
    or the wire's own ``Answer``."""

    @property
    def status_code(self) -> int: ...

    @property
    def reason_phrase(self) -> str: ...

    @property
    def headers(self) -> httpx.Headers: ...

    @property
    def content(self) -> bytes: ...

    @property
    def is_success(self) -> bool: ...


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


def _retry_after(response: Answered, now: datetime | None = None) -> datetime | None:
    """``Retry-After`` (seconds, or an HTTP date) as a time; None when absent or garbled;
    MalformedAnswer for a number of seconds too large to be a time."""
    try:
        return retry_after(response.headers.get("retry-after"), now or utcnow())
    except ValueError as error:
        raise MalformedAnswer(str(error)) from None


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
            self.headers = [self._field(line) for line in lines[1:]]
            if self.status >= 200:
                break
            if self.status == 101:
                raise _Broken("the server switched protocols, unasked")
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

    @staticmethod
    def _field(line: bytes) -> tuple[bytes, bytes]:
        name, colon, value = line.partition(b":")
        if not colon or _FIELD_NAME.fullmatch(name) is None:
            raise _Broken(f"not a header line: {line[:40]!r}")
        value = value.strip(b" \t")
        if _CONTROL.search(value) is not None:
            raise _Broken(f"a control character in header {name[:40]!r}")
        return name, value

    def header(self, name: bytes) -> str | None:
        """The values of header ``name`` (lower case), comma-joined; None when absent."""
        values = [v for n, v in self.headers if n.lower() == name]
        return b", ".join(values).decode("latin-1") if values else None

    def chunks(self) -> Iterator[bytes]:
        """The body's bytes as they come, by the answer's framing."""
        if self.method == "HEAD" or self.status in (204, 304):
            return iter(())
        coding = self.header(b"transfer-encoding")
        if coding is not None:
            if coding.strip().lower() != "chunked":
                raise _Broken(f"a transfer coding the wire does not read: {coding[:40]!r}")
            self.will_close = self.will_close or self.header(b"content-length") is not None
            return self._chunked()
        length = self.header(b"content-length")
        if length is None:
            self.will_close = True
            return self._until_closed()
        values = {v.strip() for v in length.split(",")}
        if len(values) != 1 or not (size := values.pop()).isdigit() or len(size) > 20:
            raise _Broken(f"a Content-Length that is not one: {length[:40]!r}")
        return self._sized(int(size))

    def _sized(self, size: int) -> Iterator[bytes]:
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
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes | None
    ) -> Answer:
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
            answer, content = self._exchange(connection, method, message)
            if answer.will_close or answer.leftover():
                connection.close()
            else:
                self._give_back(connection)
        except BaseException:  # an interrupt included: closed (an idle one closed is dropped)
            connection.close()
            raise
        return Answer(answer.status, answer.reason, answer.headers, content)

    def call_json(
        self,
        method: str,
        path: str,
        headers: list[tuple[str, str]],
        params: dict[str, Any] | None,
        body: dict[str, Any] | None,
    ) -> Answer:
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

    def _exchange(
        self, connection: _Connection, method: str, message: bytes
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
            content = gallery_body(
                answer.chunks(),
                cap=self._max_answer_bytes,
                encoding=answer.header(b"content-encoding"),
                length=answer.header(b"content-length"),
            )
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
