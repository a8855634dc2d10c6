"""Calls to a Mastodon-API server under the bounded-answer policy, each failure in Fleet's error tree.

Answers follow ``fleet.gallery.wire``'s policy: at most ``max_answer_bytes`` per call, no
content encoding, the call's deadline, JSON depth and finite numbers. Errors become
Fleet's tree:

    timeout, connection error, broken answer     TransientError
    5xx, 408                                     TransientError
    429                                          Deferred(scope="call", until=
                                                 X-RateLimit-Reset or Retry-After, or a
                                                 minute), held to a day at most
    X-RateLimit-Remaining: 0 on an answer        the agent's next call waits (Deferred)
                                                 until X-RateLimit-Reset without calling
    401                                          GalleryRefused: the agent's token is not
                                                 accepted (never retried)
    403, 404, 422, other 4xx                     GalleryRefused with the server's reason
                                                 (a block comes back as 404 or 403)

Pages follow ``Link: <...>; rel="next"`` up to ``MAX_PAGES``; a link to another origin or
path, or back to a page already read, is refused (MalformedAnswer). Tokens go in a
header per call and appear in no log line or message.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn
from urllib.parse import urljoin, urlsplit

import httpx

from fleet.errors import Deferred, TransientError
from fleet.gallery.answers import (
    MAX_URL,
    Answered,
    GalleryRefused,
    MalformedAnswer,
    _detail,
    _retry_after,
    _time,
    bounded_wait,
    gallery_body,
    json_of,
)
from fleet.gallery.credentials import refused
from fleet.gallery.mastodon_text import text_of
from fleet.gallery.port import Credentials
from fleet.gallery.wire import Wire
from fleet.infra import bounded, transports
from fleet.infra.redaction import redact
from fleet.settings import GallerySettings

log = logging.getLogger("fleet.gallery.mastodon")

MAX_PAGES = 5  # pages of one read (a feed's offset, a search of one's own statuses)
PAGE = 40  # the API's largest page
REST = timedelta(seconds=60)  # a 429 that says no time: wait a minute
_LINK = re.compile(r'<([^>]{1,2000})>\s*;\s*rel="?([a-z ]{1,40})"?')


def token_refused(status: int, content: bytes) -> bool:
    """The server does not accept the token: 401 (Mastodon, GoToSocial), or Takahē's
    400 "Invalid Bearer token" (plain text) for a token it does not know."""
    if status == 401:
        return True
    return status == 400 and b"invalid bearer token" in content[:200].lower()


class MastodonSession:
    """Calls to one Mastodon-API server, each as an agent with its own token."""

    def __init__(
        self,
        settings: GallerySettings,
        credentials: Credentials,
        transport: httpx.BaseTransport | None = None,
        *,
        pause_seconds: float = 30.0,
    ) -> None:
        self._settings = settings
        self._credentials = credentials
        self._pause = timedelta(seconds=pause_seconds)
        self._base = str(settings.url).rstrip("/")
        parts = urlsplit(self._base)
        self._origin, self._prefix = f"{parts.scheme}://{parts.netloc}", parts.path
        self._host = parts.netloc.lower()
        self._given = transport
        self._link: httpx.BaseTransport | Wire | None = None
        self._pid = 0
        self._opening = threading.Lock()
        seconds = settings.timeout_seconds
        self._timeout = httpx.Timeout(seconds, connect=min(seconds, 5.0)).as_dict()
        # The agents a server told to rest, until when (bounded).
        self._resting: dict[str, datetime] = {}

    def __repr__(self) -> str:
        return f"MastodonGallery(url={self._base!r})"

    def _http(self) -> httpx.BaseTransport | Wire:
        link = self._link
        if link is not None and self._pid == os.getpid():
            return link
        with self._opening:
            # After a fork the parent's sockets are not ours: a pool of this process's own
            # (the inherited one is left alone: closing it would close the parent's).
            if self._link is None or self._pid != os.getpid():
                self._pid = os.getpid()
                if self._given is not None:
                    self._link = self._given
                elif (proxy := transports.proxy_for(self._base)) is not None:
                    self._link = transports.Transport(verify=None, proxy=proxy)
                elif self._base.startswith("https:"):
                    self._link = transports.Transport(verify=httpx.create_ssl_context())
                else:
                    t = self._timeout
                    self._link = Wire(
                        self._origin,
                        tls=None,
                        connect_timeout=t["connect"],
                        write_timeout=t["write"],
                        read_timeout=t["read"],
                        max_answer_bytes=self._settings.max_answer_bytes,
                    )
            return self._link

    def close(self) -> None:
        if self._link is not None and self._pid == os.getpid():
            self._link.close()
        self._link = None

    def _call(
        self,
        method: str,
        path: str,
        *,
        agent: str | None,
        json: dict[str, Any] | None = None,
        params: Any = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        key: str | None = None,
    ) -> tuple[Any, httpx.Headers]:
        """One call as ``agent`` (None: no token); its JSON and headers, or Fleet's error."""
        token = self._credentials.token_for(agent) if agent is not None else ""
        self._wait_if_resting(agent)
        headers = {"Accept": "application/json", "Accept-Encoding": "identity"}
        headers["User-Agent"] = "fleet-gallery-client"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if key is not None:
            headers["Idempotency-Key"] = key
        url = path if path.startswith(("http://", "https://")) else self._base + path
        request = httpx.Request(method, url, params=params, json=json, files=files, headers=headers)
        what = f"{method} {urlsplit(url).path[:120]}"
        link = self._http()
        response: Answered
        try:
            with bounded.within(self._settings.timeout_seconds):
                if isinstance(link, Wire):
                    body = request.read()
                    sent = [
                        (k.decode("latin-1"), v.decode("latin-1"))
                        for k, v in request.headers.raw
                        if k.lower() not in (b"host", b"content-length")
                    ]
                    response = link.call(method, request.url.raw_path.decode("ascii"), sent, body)
                else:
                    request.extensions["timeout"] = self._timeout
                    response = self._bounded(link.handle_request(request))
        except httpx.TransportError as exc:
            detail = redact(str(exc), (token,))[:200]
            kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "connection failed"
            raise TransientError(
                f"mastodon {what}: {kind} ({type(exc).__name__}: {detail})"
            ) from exc
        self._note_rest(agent, response.headers)
        if not response.is_success:
            self._fail(what, response, token, agent)
        try:
            data = json_of(response.content, what)
        except ValueError:
            raise TransientError(f"mastodon {what}: the answer is not JSON") from None
        return data, response.headers

    def _bounded(self, response: httpx.Response) -> httpx.Response:
        """A transport's answer read whole under the bounded-answer policy."""
        try:
            if response.is_stream_consumed:
                body = gallery_body(
                    [response.content],
                    cap=self._settings.max_answer_bytes,
                    encoding=response.headers.get("content-encoding"),
                    length=None,
                )
            else:
                body = gallery_body(
                    response.iter_raw(),
                    cap=self._settings.max_answer_bytes,
                    encoding=response.headers.get("content-encoding"),
                    length=response.headers.get("content-length"),
                )
        finally:
            response.close()
        return httpx.Response(response.status_code, headers=response.headers, content=body)

    def _wait_if_resting(self, agent: str | None) -> None:
        until = self._resting.get(agent or "")
        if until is None:
            return
        if until <= datetime.now(UTC):
            self._resting.pop(agent or "", None)
            return
        raise Deferred(
            f"mastodon: the server's rate limit for {agent or 'anonymous calls'} is spent",
            until,
            scope="call",
        )

    def _note_rest(self, agent: str | None, headers: httpx.Headers) -> None:
        """``X-RateLimit-Remaining: 0``: the agent's next call waits for the reset."""
        if headers.get("x-ratelimit-remaining", "").strip() != "0":
            return
        until = _reset(headers, datetime.now(UTC))
        if until is not None:
            held, _ = bounded_wait(until, code=None, now=datetime.now(UTC), pause=self._pause)
            if held is not None:
                if len(self._resting) > 10_000:
                    self._resting.clear()
                self._resting[agent or ""] = held

    def _fail(self, what: str, response: Answered, token: str, agent: str | None) -> NoReturn:
        status = response.status_code
        try:
            data = json_of(response.content, what)
        except (ValueError, MalformedAnswer):
            data = {}
        said = _detail(data) if isinstance(data, dict) else ""
        if isinstance(data, dict) and not said:
            said = str(data.get("error_description") or "")
        if not data and not said:  # a plain-text answer (Takahē's "Invalid Bearer token")
            said = response.content[:200].decode("utf-8", "replace")
        reason = redact(text_of(said, 300) or response.reason_phrase, (token,))[:300]
        message = f"mastodon {what}: {status} {reason}".rstrip()
        now = datetime.now(UTC)
        if status == 429:
            until = _reset(response.headers, now) or _retry_after(response, now) or now + REST
            held, problem = bounded_wait(until, code=None, now=now, pause=self._pause)
            if problem:
                log.warning("mastodon problem: %s", problem)
                message = f"{message} [problem: {problem}]"
            raise Deferred(message, held, scope="call")
        if status >= 500 or status == 408:
            raise TransientError(message)
        if agent is not None and token and token_refused(status, response.content):
            # Never retried: the agent is set aside (``fleet status`` says why) until an
            # operator sets a new token.
            raise refused(self._credentials, agent, status, reason)
        if status == 401:
            message = f"{message} (the access token is not accepted: set it again)"
        raise GalleryRefused(message, status)

    def _pages(
        self, path: str, *, agent: str | None, params: dict[str, Any], pages: int
    ) -> Iterator[list[Any]]:
        """The pages of a list, following ``Link`` rel="next" on the same origin and path."""
        url: str = self._base + path
        seen: set[str] = set()
        query: dict[str, Any] | None = params
        for _ in range(pages):
            data, headers = self._call("GET", url, agent=agent, params=query)
            if not isinstance(data, list):
                raise MalformedAnswer(f"mastodon GET {path}: the answer is not a list")
            yield data
            following = _next_link(headers.get("link", ""))
            if following is None or not data:
                return
            target = urljoin(url, following)
            parts, here = urlsplit(target), urlsplit(self._base + path)
            if (parts.scheme, parts.netloc.lower(), parts.path) != (
                here.scheme,
                here.netloc.lower(),
                here.path,
            ):
                raise MalformedAnswer(
                    f"mastodon GET {path}: the next page's link points elsewhere "
                    f"({parts.netloc[:60]}{parts.path[:60]})"
                )
            if target in seen or len(target) > MAX_URL:
                raise MalformedAnswer(f"mastodon GET {path}: the next page's link loops")
            seen.add(target)
            url, query = target, None


def _next_link(header: str) -> str | None:
    for target, rel in _LINK.findall(header[:8000]):
        if "next" in rel.split():
            return str(target)
    return None


def _reset(headers: httpx.Headers, now: datetime) -> datetime | None:
    """``X-RateLimit-Reset`` as a time: an ISO time (Mastodon), or seconds since the epoch."""
    said = headers.get("x-ratelimit-reset", "").strip()[:40]
    if not said:
        return None
    try:
        if said.replace(".", "", 1).isdigit():
            number = float(said)
            # Seconds since the epoch, or (some servers) seconds from now.
            return (
                datetime.fromtimestamp(number, UTC)
                if number > 1e9
                else now + timedelta(seconds=number)
            )
        return _time(said.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return None
