"""The gallery over HTTP: ``HttpGallery`` speaks the API of docs/gallery-api.md.

Calls go over the lean wire (``fleet.gallery.wire``: kept-alive connections, httpx's
error classes and answers), or through httpx's transport when the environment names a
proxy or a test injects a transport. One pool of connections per process: it is opened
on first use and opened again after a fork, so a worker never shares sockets with its
parent. Timeouts
are explicit, and ``timeout_seconds`` is each call's deadline, connect to last byte
(``fleet.infra.bounded``): an answer trickling in is cut at it. The client does not retry: Celery owns retries. Answers become Fleet's
error tree:

    timeout, connection error, broken answer   TransientError
    5xx, 408, 429 without code or Retry-After  TransientError
    429 without code, with Retry-After         Deferred(scope="call", until=now + Retry-After)
    429 FLEET_*_BUDGET_EXCEEDED                Deferred(scope="fleet", until=resetAt)
    429 AGENT_*_LIMIT_EXCEEDED                 Deferred(scope="agent", until=resetAt)
    503 FLEET_PAUSED                           Deferred(scope="fleet", until=Retry-After or None)
    401, 403, 404, 422, other 4xx              GalleryRefused (a PermanentError) with .status
    an answer no API answer can be             MalformedAnswer (a PermanentError)

A wait is held to what its code can mean (``answers.bounded_wait``): a day for a daily
budget, 31 days for a monthly one, the probe interval (``pause_seconds``) for a pause. A
further ``resetAt`` or ``Retry-After`` is logged as a problem and said in the wait's
reason (so in the fleet hold's). Answers are bounded: ``max_answer_bytes`` per call, no
content encoding (none is asked for), at most ``limit`` items of a page, strings clipped
to the API's limits (``fleet.gallery.answers``).

Every effectful call carries the action's key as ``Idempotency-Key``. A like means "make
sure it is liked": the like endpoint is a toggle, so when its answer says ``liked: false``
the post was liked before (say by an earlier attempt whose answer was lost) and the client
toggles once more, under the key suffixed ``:again`` (the gallery may remember the first
key's answer), and checks. Looking for a post or comment that a lost answer left behind is
the caller's part (``fleet.actions``), on retries only.

The service token is sent in a header and appears in no log line, message or repr.
"""

from __future__ import annotations

import functools
import logging
import os
import ssl
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn
from urllib.parse import quote, urlsplit

import httpcore  # noqa: F401 (httpx's transport imports it late: a pool child would)
import httpx

from fleet.errors import Deferred, TransientError
from fleet.gallery.answers import (
    MAX_URL,
    Answered,
    _comment,
    _count,
    _detail,
    _id,
    _items,
    _parse_time,
    _post,
    _read,
    _retry_after,
    bounded_wait,
    clip,
    error_code,
    gallery_body,
    json_of,
)
from fleet.gallery.answers import GalleryRefused as GalleryRefused
from fleet.gallery.answers import MalformedAnswer as MalformedAnswer
from fleet.gallery.client_follows import FollowCalls
from fleet.gallery.consent import (
    LABEL,
    MAX_PAGES,
    MAX_READ_SECONDS,
    PAGE,
    ConsentRead,
    Disclosure,
    disclosure_of,
    named,
    read_page,
)
from fleet.gallery.port import GalleryComment, GalleryPost, GalleryUser, Liked, Sort
from fleet.gallery.wire import Wire
from fleet.infra import bounded, transports
from fleet.infra.redaction import redact
from fleet.settings import DisclosureSettings, GallerySettings

log = logging.getLogger("fleet.gallery")


# The header that says a call is automated, and its value (docs/gallery-api.md).
ORIGIN_HEADER = "X-Fleet-Origin"
ORIGIN = "automated"

IMAGE_SIZE = "1024x1024"
IMAGE_SIDE = 512  # saved pictures are resized to this square


@functools.cache
def _tls() -> ssl.SSLContext:
    """The verifying TLS context (the CA bundle read once per process, or once before a
    worker forks, for its children to inherit)."""
    return httpx.create_ssl_context()


class _Lines(tuple[tuple[str, str], ...]):
    """Header lines as the wire sends them; the repr names them, never their values (the
    service token is one)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<headers {', '.join(name for name, _ in self)}>"


class HttpGallery(FollowCalls):
    """The gallery port over HTTP (synchronous, one pool of connections per process).

    Requests go over the lean wire, or straight to an ``httpx`` transport (never through
    httpx's client: its cookies, redirects, auth flows and URL merging are features this
    API does not use, and they cost a third of a call's CPU). Headers, base URL, timeouts
    and the proxy the environment names are set here.
    """

    def __init__(
        self,
        settings: GallerySettings,
        transport: httpx.BaseTransport | None = None,
        *,
        pause_seconds: float = 30.0,
        provenance: dict[str, str] | None = None,
        disclosure: DisclosureSettings | None = None,
    ) -> None:
        self._settings = settings
        self._disclosure = disclosure or DisclosureSettings()
        # The marks the workflow's save step is asked to embed (docs/gallery-api.md):
        # digitalSourceType, operator, operatorUrl; the agent's handle is added per call.
        self._provenance = provenance
        # The longest a pause may hold the fleet: the probe interval (ActionSettings).
        self._pause = timedelta(seconds=pause_seconds)
        self._base = str(settings.url).rstrip("/")
        self._given = transport
        self._transport: httpx.BaseTransport | Wire | None = None
        # A plain-http gallery needs no CA bundle (reading one costs milliseconds).
        self._verify: ssl.SSLContext | bool = _tls() if self._base.startswith("https:") else False
        parts = urlsplit(self._base)
        self._origin, self._prefix = f"{parts.scheme}://{parts.netloc}", parts.path
        self._pid = 0
        self._opening = threading.Lock()
        seconds = settings.timeout_seconds
        self._timeout = httpx.Timeout(seconds, connect=min(seconds, 5.0)).as_dict()
        # httpx's Headers: its repr masks the token.
        self._headers = httpx.Headers(
            {
                "Authorization": f"Bearer {settings.token.get_secret_value()}",
                "Accept": "application/json",
                # Nothing compressed: an answer is read as sent, never inflated.
                "Accept-Encoding": "identity",
                "User-Agent": "fleet-gallery-client",
                # Every call Fleet makes is automated (docs/gallery-api.md, "Origin").
                ORIGIN_HEADER: ORIGIN,
            }
        )
        # The same, as the wire sends them: made once, not copied and encoded per call.
        self._lines = _Lines(self._headers.multi_items())

    def __repr__(self) -> str:
        return f"HttpGallery(url={self._base!r})"

    def link(self) -> httpx.BaseTransport | Wire:
        """This process's connection to the gallery: the lean wire, or httpx's transport
        (a proxy's, a test's). The provenance check fetches the gallery's images over it."""
        transport = self._transport
        if transport is not None and self._pid == os.getpid():
            return transport
        # Threads of one process (a batch's calls) share one pool: the first opens it.
        with self._opening:
            if self._transport is None or self._pid != os.getpid():
                # After a fork the parent's sockets are not ours: open a pool of our own and
                # leave the inherited one alone (closing it would close the parent's sockets).
                self._transport = self._given or self._open()
                self._pid = os.getpid()
            return self._transport

    def _open(self) -> httpx.BaseTransport | Wire:
        """The lean wire; httpx's transport through a proxy the environment names."""
        proxy = transports.proxy_for(self._base)
        if proxy is not None:
            tls = self._verify if isinstance(self._verify, ssl.SSLContext) else None
            return transports.Transport(verify=tls, proxy=proxy)
        timeout = self._timeout
        return Wire(
            self._origin,
            tls=self._verify if isinstance(self._verify, ssl.SSLContext) else None,
            connect_timeout=timeout["connect"],
            write_timeout=timeout["write"],
            read_timeout=timeout["read"],
            max_answer_bytes=self._settings.max_answer_bytes,
        )

    def close(self) -> None:
        """Close this process's connection pool."""
        if self._transport is not None and self._pid == os.getpid():
            self._transport.close()
        self._transport = None

    def _scrub(self, text: str) -> str:
        return redact(text, (self._settings.token.get_secret_value(),))

    def _call(
        self,
        method: str,
        path: str,
        *,
        agent: str | None = None,
        body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        key: str | None = None,
    ) -> dict[str, Any]:
        """One call; the JSON answer of a 2xx, else the matching error of Fleet's tree."""
        extra = []
        if agent is not None:
            extra.append(("X-Agent-Id", agent))
        if key is not None:
            extra.append(("Idempotency-Key", key))
        what = f"{method} {path}"
        started = time.perf_counter()
        link = self.link()
        request: httpx.Request | None = None
        response: Answered
        try:
            with bounded.within(self._settings.timeout_seconds):
                if isinstance(link, Wire):
                    response = link.call(
                        method,
                        self._prefix + path,
                        [*self._lines, *extra],
                        params=params,
                        json_body=body,
                    )
                else:
                    request = httpx.Request(
                        method,
                        self._base + path,
                        params=params,
                        json=body,
                        headers=[*self._headers.multi_items(), *extra],
                        extensions={"timeout": self._timeout},
                    )
                    response = self._bounded(link.handle_request(request), request)
        except httpx.TransportError as exc:
            # The error names its request, as httpx's client does.
            exc.request = request or httpx.Request(method, self._base + path, params=params)
            raise self._unreachable(what, exc) from exc
        log.debug(
            "gallery %s -> %s in %.0f ms",
            what,
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        if not response.is_success:
            self._fail(what, response)
        try:
            data = json_of(response.content, what)
        except ValueError:
            raise TransientError(f"gallery {what}: the answer is not JSON") from None
        if not isinstance(data, dict):
            raise TransientError(f"gallery {what}: the answer is not a JSON object")
        return data

    def _unreachable(self, what: str, exc: httpx.TransportError) -> TransientError:
        """The error of a call that got no answer: timed out (past its deadline), or its
        connection failed (the message scrubbed of the token)."""
        if isinstance(exc, httpx.TimeoutException):
            log.info("gallery %s: timed out (%s)", what, type(exc).__name__)
            return TransientError(
                f"gallery {what}: timed out ({type(exc).__name__}; its deadline is "
                f"{self._settings.timeout_seconds:g} s, FLEET_GALLERY__TIMEOUT_SECONDS)"
            )
        log.info("gallery %s: %s", what, type(exc).__name__)
        return TransientError(
            f"gallery {what}: connection failed ({type(exc).__name__}: {self._scrub(str(exc))})"
        )

    def _bounded(self, response: httpx.Response, request: httpx.Request) -> httpx.Response:
        """A transport's answer read whole within ``max_answer_bytes``, never inflated
        (``wire.gallery_body``: the shared bounded-answer policy)."""
        cap = self._settings.max_answer_bytes
        headers = response.headers
        try:
            if response.is_stream_consumed:  # a transport that built it in memory
                chunks: Iterable[bytes] = [response.content]
            else:
                chunks = response.iter_raw()
            body = gallery_body(
                chunks,
                cap=cap,
                encoding=headers.get("content-encoding"),
                length=headers.get("content-length") if not response.is_stream_consumed else None,
            )
        finally:
            response.close()
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            content=body,
            request=request,
            extensions=response.extensions,
        )

    def _fail(self, what: str, response: Answered) -> NoReturn:
        status = response.status_code
        try:
            data = json_of(response.content, what)
        except (ValueError, MalformedAnswer):
            data = {}
        if not isinstance(data, dict):
            data = {}
        code = error_code(data.get("code"))
        detail = self._scrub(_detail(data) or response.reason_phrase)[:300]
        message = f"gallery {what}: {status} {detail}"
        now = datetime.now(UTC)
        if status == 429 and code:
            until = _parse_time(data.get("resetAt")) or _retry_after(response, now)
            until, message = self._held(until, code, now, message)
            if code.startswith("FLEET_"):
                raise Deferred(message, until, scope="fleet", code=code)
            raise Deferred(message, until, scope="agent", code=code)
        if status == 429:
            until = _retry_after(response, now)
            if until is not None:  # a long one skips the action (fleet.actions.failures)
                raise Deferred(message, until, scope="call")
            raise TransientError(message)
        if status == 503 and code == "FLEET_PAUSED":
            until, message = self._held(_retry_after(response, now), code, now, message)
            raise Deferred(message, until, scope="fleet", code=code)
        if status >= 500 or status == 408:
            raise TransientError(message)
        raise GalleryRefused(message, status)

    def _held(
        self, until: datetime | None, code: str | None, now: datetime, message: str
    ) -> tuple[datetime | None, str]:
        """The wait held to what ``code`` can mean; a longer one logged as a problem and
        said in the message (the hold's reason)."""
        held, problem = bounded_wait(until, code=code, now=now, pause=self._pause)
        if problem is None:
            return held, message
        log.warning("gallery problem: %s (%s)", problem, message[:120])
        return held, f"{message} [problem: {problem}]"

    def provision_user(self, *, handle: str, name: str, persona: str) -> GalleryUser:
        """The agent's gallery account, created if missing (idempotent by username)."""
        data = self._call(
            "POST",
            "/api/admin/users/invite",
            body={
                "agentId": handle,
                "name": name,
                "username": handle,
                "isAgent": True,
                "agentPersonaId": persona,
                "disclosure": self._disclosed(),
            },
        )
        return _read(
            "new user",
            lambda: GalleryUser(
                id=_id(data["id"]),
                username=clip(data["username"], 64),
                created=bool(data["created"]),
            ),
        )

    def _disclosed(self) -> dict[str, Any]:
        """The profile line every agent account carries: automated, and who runs it."""
        return {
            "automated": True,
            "label": LABEL,
            "operatorName": self._disclosure.operator_name,
            "operatorUrl": str(self._disclosure.operator_url),
        }

    def wanted_disclosure(self) -> Disclosure:
        """The disclosure every agent account should show."""
        d = self._disclosed()
        return Disclosure(True, d["label"], d["operatorName"], d["operatorUrl"])

    def sync_disclosure(self, handle: str) -> None:
        """Set the agent's profile line to the operator's (after the operator changed)."""
        self._call(
            "PUT",
            f"/api/admin/users/{quote(handle, safe='')}/disclosure",
            body=self._disclosed(),
        )

    def disclosure_of(self, handle: str) -> Disclosure | None:
        """What the agent's account shows of its disclosure (None: nothing readable)."""
        data = self._call("GET", f"/api/admin/users/{quote(handle, safe='')}")
        return disclosure_of(data)

    def agent_consent(self) -> ConsentRead:
        """Every person who said something about agents: their ``agentInteractions`` and
        blocked agents (docs/gallery-api.md), page by page, bounded
        (``fleet.gallery.consent``). A gallery without the call (404): ``offered`` False.

        Paged by the last username read (``after``), ``offset`` beside it for a gallery
        that pages by offset only. At most ``MAX_PAGES`` pages in ``MAX_READ_SECONDS``, and
        a page that names a person already read fails the read (MalformedAnswer): a gallery
        that ignores the paging is refused, never read for ever under the book's lock."""
        people: dict[str, Any] = {}
        unreadable: set[str] = set()
        said_at: dict[str, datetime] = {}
        seen: set[str] = set()
        offset, after = 0, None
        deadline = time.monotonic() + MAX_READ_SECONDS
        for _ in range(MAX_PAGES):
            params: dict[str, Any] = {"limit": PAGE, "offset": offset}
            if after is not None:
                params["after"] = after
            try:
                data = self._call("GET", "/api/admin/agent-consent", params=params)
            except GalleryRefused as exc:
                if exc.status == 404 and offset == 0:
                    return ConsentRead({}, frozenset(), offered=False)
                raise
            held = read_page(data, people, unreadable, said_at, seen)
            if held < PAGE:
                return ConsentRead(people, frozenset(unreadable), said_at=said_at)
            offset += held
            after = named(data["people"][-1])
            if time.monotonic() > deadline:
                raise TransientError(
                    f"gallery consent list: not read whole in {MAX_READ_SECONDS:g} s "
                    f"({offset:,} people in {offset // PAGE} pages)"
                )
        raise MalformedAnswer(f"the gallery's consent list runs past {MAX_PAGES} pages")

    def delete_user(self, user_id: str) -> bool:
        """Delete an account; False when it was already gone."""
        try:
            data = self._call("DELETE", f"/api/admin/users/{quote(user_id, safe='')}")
        except GalleryRefused as exc:
            if exc.status == 404:
                return False
            raise
        return bool(data.get("deleted", True))

    def generate_image(
        self, *, agent: str, prompt: str, style: str, persona: str, idempotency_key: str
    ) -> str:
        """Run the image workflow (generate, resize, save); the saved picture's URL."""
        steps: list[dict[str, Any]] = [
            {
                "kind": "generate",
                "generator": self._settings.image_generator,
                "params": {
                    "prompt": prompt,
                    "model": self._settings.image_model,
                    "size": IMAGE_SIZE,
                    "quality": "standard",
                    "style": style,
                },
                "out": "image",
            },
            {
                "kind": "transform",
                "op": "resize",
                "in": "image",
                "params": {"width": IMAGE_SIDE, "height": IMAGE_SIDE, "fit": "cover"},
                "out": "square",
            },
            {"kind": "save", "in": "square", "destination": "cloud"},
        ]
        if self._provenance is not None:
            steps[-1]["provenance"] = {**self._provenance, "agent": agent}
        data = self._call(
            "POST",
            "/api/execute/sync",
            agent=agent,
            body={"steps": steps, "name": f"{persona}/{style}"},
            key=idempotency_key,
        )
        urls = data.get("imageUrls") or []
        if data.get("status") != "completed" or not urls:
            raise TransientError(
                f"gallery workflow for {agent} ended {str(data.get('status'))[:40]!r} with no image"
            )
        url = str(urls[0]) if isinstance(urls, list) else ""
        if not url or len(url) > MAX_URL:
            raise MalformedAnswer(f"gallery workflow for {agent}: no usable image address")
        return url

    def create_post(
        self, *, agent: str, image_url: str, title: str, description: str, idempotency_key: str
    ) -> GalleryPost:
        """Publish a post."""
        data = self._call(
            "POST",
            "/api/showcase",
            agent=agent,
            body={"imageUrl": image_url, "title": title, "description": description},
            key=idempotency_key,
        )
        return _read("new post", lambda: _post(data["showcaseItem"]))

    def feed(
        self, *, agent: str, limit: int = 20, offset: int = 0, sort: Sort = "recent"
    ) -> list[GalleryPost]:
        """A page of the showcase as the agent sees it."""
        data = self._call(
            "GET",
            "/api/showcase",
            agent=agent,
            params={"limit": limit, "offset": offset, "sort": sort},
        )
        return _read("feed page", lambda: [_post(item) for item in _items(data, "items", limit)])

    def get_post(self, *, agent: str, post_id: str) -> GalleryPost:
        """One post."""
        data = self._call("GET", f"/api/showcase/{quote(post_id, safe='')}", agent=agent)
        return _read(f"post {post_id}", lambda: _post(data["item"]))

    def like(self, *, agent: str, post_id: str, idempotency_key: str) -> Liked:
        """Make sure the agent likes the post; never leaves it unliked by a retry."""
        path = f"/api/showcase/{quote(post_id, safe='')}/like"
        data = self._call("POST", path, agent=agent, key=idempotency_key)
        if not isinstance(data.get("liked"), bool):
            raise TransientError(f"gallery like of {post_id}: the answer does not say liked")
        if data["liked"]:
            count = _read(f"like of {post_id}", functools.partial(_count, data.get("likeCount", 0)))
            return Liked(post_id=post_id, like_count=count, toggled=True)
        # The toggle unliked it: it was liked already. Like it again, under a key of its own
        # (the first key's answer, "unliked", may be remembered by the gallery).
        log.info("gallery like of %s by %s undid an earlier like; liking again", post_id, agent)
        again = self._call("POST", path, agent=agent, key=f"{idempotency_key}:again")
        if again.get("liked") is not True:
            raise TransientError(f"gallery like of {post_id} by {agent} did not stick")
        count = _read(f"like of {post_id}", functools.partial(_count, again.get("likeCount", 0)))
        return Liked(post_id=post_id, like_count=count, toggled=False)

    def comment(
        self,
        *,
        agent: str,
        post_id: str,
        content: str,
        idempotency_key: str,
        parent_id: str | None = None,
    ) -> GalleryComment:
        """Comment on a post (a reply to the comment ``parent_id``, if given)."""
        body: dict[str, Any] = {"content": content}
        if parent_id is not None:
            body["parentId"] = parent_id
        data = self._call(
            "POST",
            f"/api/showcase/{quote(post_id, safe='')}/comments",
            agent=agent,
            body=body,
            key=idempotency_key,
        )
        return _read("new comment", lambda: _comment(post_id, data["comment"]))

    def comments(
        self, *, agent: str, post_id: str, limit: int = 50, offset: int = 0
    ) -> list[GalleryComment]:
        """A page of a post's comments."""
        data = self._call(
            "GET",
            f"/api/showcase/{quote(post_id, safe='')}/comments",
            agent=agent,
            params={"limit": limit, "offset": offset},
        )
        return _read(
            f"comments of {post_id}",
            lambda: [_comment(post_id, c) for c in _items(data, "comments", limit)],
        )
