"""The gallery port over the Mastodon client API (Takahē, GoToSocial, Mastodon, Pixelfed...).

``FLEET_GALLERY__KIND=mastodon`` and ``FLEET_GALLERY__URL`` name the server; each agent
acts with its own access token (``Credentials``), and images are made by Fleet
(``ImageSource``) since such a server does not paint. docs/platforms.md says, call by
call, what each server gives and lacks. The calls:

    generate_image   ImageSource.make, then POST /api/v2/media (the file)
    create_post      PUT /api/v1/media/:id (alt text: the description), a look at the
                     agent's own statuses for that media, then POST /api/v1/statuses
    like             POST /api/v1/statuses/:id/favourite (idempotent on the server)
    comment          a look under the parent (/context), then POST /api/v1/statuses
                     with in_reply_to_id
    comments         GET /api/v1/statuses/:id/context (its descendants)
    feed             GET /api/v1/timelines/public?local (image posts kept; "recent"),
                     GET /api/v1/trends/statuses ("popular", "trending"; the public
                     timeline where the server has no trends)
    notifications    GET /api/v1/notifications?types[]=mention (identity questions)
    provision_user   GET /api/v1/accounts/verify_credentials, then the disclosure
    sync_disclosure  PATCH /api/v1/accounts/update_credentials: bot, note, "Operated by"
    agent_consent    #nobot / #noai in the notes and fields of the accounts seen

Answers follow the project's bounded-answer policy (``fleet.gallery.wire``): at most
``max_answer_bytes`` per call, no content encoding, the call's deadline, JSON depth and
finite numbers; HTML is read as text (``fleet.gallery.mastodon_text``) before anything
reads it. Errors become Fleet's tree:

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
path, or back to a page already read, is refused (MalformedAnswer).

Exactly once on a server that forgets idempotency keys: every effect carries
``Idempotency-Key`` (servers that keep it get it), and the adapter does not rely on it.
Before it sends a post it looks for a status of the agent carrying that media (an
uploaded attachment is the post's marker); before a comment, for the agent's reply with
the same words under the same parent; a favourite is a state the server sets at most
once. What it finds is logged and returned as the call's answer, never sent twice.

Media addresses on another host than the server's are dropped (no picture rather than a
fetch elsewhere). Tokens go in a header per call and appear in no log line or message.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, NoReturn
from urllib.parse import quote, urljoin, urlsplit

import httpx

from fleet.content.images.disclosure import (
    MarksSeen,
    RecordsImageMarks,
    disclosed,
    marks_survived,
)
from fleet.core.consent import PersonConsent
from fleet.errors import Deferred, PermanentError, TransientError
from fleet.gallery.consent import LABEL, MAX_HANDLE, MAX_PEOPLE, ConsentRead, Disclosure
from fleet.gallery.credentials import refused
from fleet.gallery.mastodon_follows import MastodonFollows
from fleet.gallery.mastodon_text import opted_out, same_words, text_of
from fleet.gallery.port import (
    Credentials,
    GalleryComment,
    GalleryPost,
    GalleryUser,
    ImageSource,
    Liked,
    Sort,
)
from fleet.gallery.provenance import ProvenanceCheck
from fleet.gallery.wire import (
    MAX_COMMENT,
    MAX_DESCRIPTION,
    MAX_ID,
    MAX_TITLE,
    MAX_URL,
    MAX_USERNAME,
    Answered,
    GalleryRefused,
    MalformedAnswer,
    Wire,
    _count,
    _detail,
    _id,
    _read,
    _retry_after,
    _time,
    bounded_wait,
    clip,
    gallery_body,
    json_of,
)
from fleet.infra import bounded
from fleet.infra.redaction import redact
from fleet.settings import DisclosureSettings, GallerySettings, ProvenanceSettings

log = logging.getLogger("fleet.gallery.mastodon")

MAX_PAGES = 5  # pages of one read (a feed's offset, a search of one's own statuses)
PAGE = 40  # the API's largest page
OWN_LOOKBACK = 3  # pages of the agent's own statuses searched for a post's media
MAX_STATUS = 500  # Mastodon's default; the instance says its own (max_characters)
MAX_ALT = 1500  # Mastodon's limit for a media description
MEDIA_WAIT = 20.0  # seconds an upload may take to be processed (202 until then)
REST = timedelta(seconds=60)  # a 429 that says no time: wait a minute
OPERATED_BY = "Operated by"
BLOCK_SECONDS = 120.0  # as long as people's consent is kept (ConsentSettings.refresh_seconds)
MAX_KEPT = 50_000  # statuses whose author is remembered
MEDIA_MARK = "#media="  # an image address's fragment naming its uploaded attachment
# ...and what became of the provenance marks of the image Fleet made: "kept" by the
# platform, "lost" (stripped: the post carries the text disclosure), "none" (Fleet's own
# image carried none; unchecked when the adapter has no provenance settings).
MARKS = "&marks="
_MEDIA = re.compile(r"#media=([A-Za-z0-9_-]{1,64})(?:&marks=(kept|lost|none))?$")
_LINK = re.compile(r'<([^>]{1,2000})>\s*;\s*rel="?([a-z ]{1,40})"?')


def media_of(image_url: str) -> str | None:
    """The attachment id an image address from ``generate_image`` carries."""
    found = _MEDIA.search(image_url)
    return found.group(1) if found else None


def marks_of(image_url: str) -> str | None:
    """What the address says of the image's marks: "kept", "lost", "none", or None."""
    found = _MEDIA.search(image_url)
    return found.group(2) if found else None


def token_refused(status: int, content: bytes) -> bool:
    """The server does not accept the token: 401 (Mastodon, GoToSocial), or Takahē's
    400 "Invalid Bearer token" (plain text) for a token it does not know."""
    if status == 401:
        return True
    return status == 400 and b"invalid bearer token" in content[:200].lower()


class UploadedImageCheck(ProvenanceCheck):
    """The post's provenance check on a Mastodon-API server: the adapter verified Fleet's
    own image before it uploaded it (``generate_image``; the address says the verdict),
    so the platform's copy, which it may transcode (Takahē stores WebP), is not what is
    judged here: a stripped copy is disclosed in words and audited (``platform_marks``)."""

    def check(self, image_url: str, agent: str) -> dict[str, Any]:
        marks = marks_of(image_url)
        if marks in ("kept", "lost"):
            return {
                "ok": True,
                "checked": "before upload",
                "platform_kept": marks == "kept",
            }
        if marks == "none":
            return {"ok": False, "reason": "Fleet's own image carried no provenance marks"}
        return super().check(image_url, agent)


class MastodonGallery(MastodonFollows):
    """The gallery port on a server of the Mastodon client API, one token per agent."""

    def __init__(
        self,
        settings: GallerySettings,
        credentials: Credentials,
        images: ImageSource | None,
        transport: httpx.BaseTransport | None = None,
        *,
        pause_seconds: float = 30.0,
        disclosure: DisclosureSettings | None = None,
        provenance: ProvenanceSettings | None = None,
        marks: RecordsImageMarks | None = None,
    ) -> None:
        self._settings = settings
        self._credentials = credentials
        self._images = images
        # Fleet's own image is verified before upload, the platform's copy read back after
        # (``marks_survived``), and the verdict recorded (``marks``); None: unchecked.
        self._provenance = provenance
        self._marks = marks
        self._serial: str | None = None
        if provenance is not None and provenance.certificate is not None:
            from cryptography import x509

            chain = x509.load_pem_x509_certificates(provenance.certificate.read_bytes())
            self._serial = str(chain[0].serial_number)
        self._disclosure = disclosure or DisclosureSettings()
        self._pause = timedelta(seconds=pause_seconds)
        self._base = str(settings.url).rstrip("/")
        parts = urlsplit(self._base)
        self._origin, self._prefix = f"{parts.scheme}://{parts.netloc}", parts.path
        self._host = parts.netloc.lower()
        self._given = transport
        self._link: httpx.BaseTransport | Wire | None = None
        self._pid = 0
        self._opening = threading.Lock()
        self._keeping = threading.Lock()
        seconds = settings.timeout_seconds
        self._timeout = httpx.Timeout(seconds, connect=min(seconds, 5.0)).as_dict()
        # Per-process memory, bounded: agents' account ids, the agents a server told to
        # rest, the consent of the accounts seen in answers, the server's status limit.
        self._accounts: OrderedDict[str, str] = OrderedDict()
        self._resting: dict[str, datetime] = {}
        self._seen: OrderedDict[str, PersonConsent] = OrderedDict()
        self._max_status: int | None = None
        # Who wrote each status seen (status id -> account id), and which authors block
        # which agent (read from the server's relationships, kept BLOCK_SECONDS).
        self._authors: OrderedDict[str, str] = OrderedDict()
        self._blocks: dict[tuple[str, str], tuple[bool, float]] = {}
        # The server's own domains (an account there is named without one, as Mastodon does).
        self._domains: set[str] = {parts.hostname or ""}

    def __repr__(self) -> str:
        return f"MastodonGallery(url={self._base!r})"

    # --- the wire --------------------------------------------------------------------

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
                elif (proxy := bounded.proxy_for(self._base)) is not None:
                    self._link = bounded.Transport(verify=None, proxy=proxy)
                elif self._base.startswith("https:"):
                    self._link = bounded.Transport(verify=httpx.create_ssl_context())
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

    # --- reading answers -------------------------------------------------------------

    def _local(self, url: object) -> str:
        """A media address on the server's own host (else none)."""
        if not isinstance(url, str) or not url or len(url) > MAX_URL:
            return ""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or parts.netloc.lower() != self._host:
            return ""
        return url

    def _handle(self, account: dict[str, Any]) -> str:
        """An account's handle as Fleet names it: ``user`` on this server (Takahē says
        ``user@its.domain`` for its own accounts, Mastodon ``user``), ``user@domain`` on
        another."""
        return clip(self._full_handle(account), MAX_USERNAME)

    def _full_handle(self, account: dict[str, Any]) -> str:
        acct = _plain(account.get("acct"), 320)
        user, _, domain = acct.partition("@")
        return user if domain.lower() in self._domains else acct

    def _remember(self, account: dict[str, Any]) -> None:
        """Keep what an account says of automated engagement (#nobot, #noai)."""
        handle = self._full_handle(account)
        if not 0 < len(handle) <= MAX_HANDLE:
            return  # a handle clipped would name someone else
        said = PersonConsent("none") if opted_out(account) else PersonConsent("all")
        with self._keeping:  # a batch's threads share this client
            self._seen[handle] = said
            self._seen.move_to_end(handle)
            while len(self._seen) > MAX_PEOPLE:
                self._seen.popitem(last=False)

    def _author_of(self, status: dict[str, Any], account: dict[str, Any]) -> None:
        status_id, author = _plain(status.get("id"), MAX_ID), _plain(account.get("id"), MAX_ID)
        if status_id and author:
            with self._keeping:
                self._authors[status_id] = author
                self._authors.move_to_end(status_id)
                while len(self._authors) > MAX_KEPT:
                    self._authors.popitem(last=False)

    def _post(self, status: dict[str, Any]) -> GalleryPost:
        account = status.get("account") or {}
        if isinstance(account, dict):
            self._remember(account)
            self._author_of(status, account)
        text = text_of(status.get("content"), MAX_TITLE + MAX_DESCRIPTION + 2)
        first, _, rest = text.partition("\n")
        image, alt = "", ""
        for media in status.get("media_attachments") or []:
            if isinstance(media, dict) and media.get("type") in ("image", "gifv"):
                url = self._local(media.get("url"))
                if url:
                    image = f"{url}{MEDIA_MARK}{_id(media['id'])}"
                    alt = _plain(media.get("description"), MAX_DESCRIPTION)
                    break
        return GalleryPost(
            id=_id(status["id"]),
            title=clip(first, MAX_TITLE),
            description=clip(rest.strip(), MAX_DESCRIPTION) or alt,
            image_url=image,
            like_count=_count(status.get("favourites_count", 0)),
            comment_count=_count(status.get("replies_count", 0)),
            created_at=_time(str(status["created_at"])),
            user_id=_plain(account.get("id"), MAX_ID),
            username=self._handle(account),
            user_is_agent=account.get("bot") is True,
        )

    def _comment(self, post_id: str, status: dict[str, Any]) -> GalleryComment:
        account = status.get("account") or {}
        if isinstance(account, dict):
            self._remember(account)
            self._author_of(status, account)
        parent = status.get("in_reply_to_id")
        return GalleryComment(
            id=_id(status["id"]),
            post_id=post_id,
            content=text_of(status.get("content"), MAX_COMMENT),
            user_id=_plain(account.get("id"), MAX_ID),
            username=self._handle(account),
            created_at=_time(str(status["created_at"])),
            user_is_agent=account.get("bot") is True,
            parent_id=None if parent is None or str(parent) == post_id else _id(parent),
        )

    def _account_id(self, agent: str) -> str:
        known = self._accounts.get(agent)
        if known is not None:
            return known
        data, _ = self._call("GET", "/api/v1/accounts/verify_credentials", agent=agent)
        found = _read("account", lambda: _id(data["id"]))
        if len(self._domains) < 2:
            # How the server names its own accounts to others (Takahē: ``user@domain``).
            public, _ = self._call("GET", f"/api/v1/accounts/{quote(found, safe='')}", agent=agent)
            acct = public.get("acct") if isinstance(public, dict) else None
            if isinstance(acct, str) and "@" in acct:
                self._domains.add(acct.partition("@")[2].lower()[:253])
        with self._keeping:
            self._accounts[agent] = found
            while len(self._accounts) > 10_000:
                self._accounts.popitem(last=False)
        return found

    def _status_limit(self) -> int:
        """The longest status the server takes (its instance's ``max_characters``; 500,
        Mastodon's default, when it does not say or cannot be read now); its domain is
        learnt from the same answer (``uri``)."""
        if self._max_status is not None:
            return self._max_status
        try:
            data, _ = self._call("GET", "/api/v1/instance", agent=None)
        except TransientError:
            return MAX_STATUS  # asked again next time
        except PermanentError:
            data = {}
        data = data if isinstance(data, dict) else {}
        uri = data.get("uri")
        if isinstance(uri, str) and 0 < len(uri) <= 253:
            self._domains.add((urlsplit(uri).hostname or uri).lower())
        try:
            said = data["configuration"]["statuses"]["max_characters"]
            self._max_status = min(max(int(said), 100), 100_000)
        except (KeyError, TypeError, ValueError):
            self._max_status = MAX_STATUS
        return self._max_status

    # --- accounts and their disclosure -----------------------------------------------

    def provision_user(self, *, handle: str, name: str, persona: str) -> GalleryUser:
        """The agent's account: the operator makes it and gives Fleet its token (no client
        call creates accounts); Fleet checks the token and sets the disclosure."""
        self._accounts.pop(handle, None)
        account_id = self._account_id(handle)
        self._update(handle, display_name=name[:30])
        return GalleryUser(id=account_id, username=handle, created=False)

    def delete_user(self, user_id: str) -> bool:
        """Not a client call: an operator deletes an account with the server's own tools."""
        raise PermanentError(
            "the Mastodon client API cannot delete accounts: delete it with the server's "
            "admin tools, and revoke its token in Fleet"
        )

    def _note(self) -> str:
        d = self._disclosure
        return f"{LABEL}, operated by {d.operator_name}: {d.operator_url}"

    def wanted_disclosure(self) -> Disclosure:
        d = self._disclosure
        return Disclosure(True, LABEL, d.operator_name, str(d.operator_url))

    def _update(self, handle: str, **extra: Any) -> dict[str, Any]:
        d = self._disclosure
        body: dict[str, Any] = {
            "bot": True,
            "note": self._note(),
            "fields_attributes": {"0": {"name": OPERATED_BY, "value": str(d.operator_url)}},
            **extra,
        }
        data, _ = self._call(
            "PATCH", "/api/v1/accounts/update_credentials", agent=handle, json=body
        )
        if not isinstance(data, dict):
            raise MalformedAnswer("mastodon update_credentials: the answer is not an account")
        return data

    def sync_disclosure(self, handle: str) -> None:
        """Set the account's bot flag, its note naming the operator and the field
        "Operated by"; a server that drops the flag is logged (the audit reads it back)."""
        self._update(handle)
        shown = self.disclosure_of(handle)
        if shown is not None and not shown.automated:
            log.warning(
                "mastodon: the server did not keep the bot flag of %s; its note and "
                "profile field carry the disclosure",
                handle,
            )

    def disclosure_of(self, handle: str) -> Disclosure | None:
        """What the account shows: its bot flag as the server reports it (a server that
        drops it reads as not automated), the label and operator its note and fields say."""
        data, _ = self._call("GET", "/api/v1/accounts/verify_credentials", agent=handle)
        if not isinstance(data, dict):
            return None
        note = text_of(data.get("note"), 2000)
        url = ""
        for entry in (data.get("fields") or [])[:16]:
            if isinstance(entry, dict) and text_of(entry.get("name"), 255) == OPERATED_BY:
                url = text_of(entry.get("value"), 2000)
        name = self._disclosure.operator_name
        if f"operated by {name}" not in note:
            name = ""
        return Disclosure(
            data.get("bot") is True, LABEL if note.startswith(LABEL) else "", name, url
        )

    def agent_consent(self) -> ConsentRead:
        """People's say, the fediverse's way: ``#nobot`` or ``#noai`` in an account's note
        or fields means no engagement. Read from the local public timeline's authors
        (bounded pages) and every account seen in this process's answers."""
        self._status_limit()
        # As an agent this process knows (servers may close the timeline to anonymous
        # readers), else anonymously.
        with self._keeping:
            reader = next(reversed(self._accounts), None)
        for page in self._pages(
            "/api/v1/timelines/public",
            agent=reader,
            params={"local": "true", "limit": PAGE},
            pages=MAX_PAGES,
        ):
            for status in page[:PAGE]:
                if isinstance(status, dict) and isinstance(status.get("account"), dict):
                    self._remember(status["account"])
        with self._keeping:
            people = {h: c for h, c in self._seen.items() if c.interactions != "all"}
        return ConsentRead(people, frozenset())

    # --- images and posts ------------------------------------------------------------

    def generate_image(
        self, *, agent: str, prompt: str, style: str, persona: str, idempotency_key: str
    ) -> str:
        """Fleet's own image (``ImageSource``), uploaded as the agent's media; its address
        carries the attachment's id (``#media=``) for the post."""
        if self._images is None:
            raise PermanentError("mastodon: no image source is configured to make images")
        made = self._images.make(
            prompt=prompt, style=style, persona=persona, idempotency_key=idempotency_key
        )
        own = self._own_marks(agent, made.data)
        suffix = made.media_type.rpartition("/")[2][:8] or "png"
        data, _ = self._call(
            "POST",
            "/api/v2/media",
            agent=agent,
            files={"file": (f"image.{suffix}", made.data, made.media_type)},
            key=idempotency_key,
        )
        media_id = _read("media", lambda: _id(data["id"]))
        url = self._local(data.get("url"))
        deadline = time.monotonic() + MEDIA_WAIT
        while not url and time.monotonic() < deadline:  # 202: still processing
            time.sleep(0.5)
            data, _ = self._call("GET", f"/api/v1/media/{quote(media_id, safe='')}", agent=agent)
            url = self._local(data.get("url") if isinstance(data, dict) else None)
        if not url:
            raise TransientError(f"mastodon media of {agent}: not processed in {MEDIA_WAIT:g} s")
        if own is None:
            return f"{url}{MEDIA_MARK}{media_id}"
        if not own.kept:
            return f"{url}{MEDIA_MARK}{media_id}{MARKS}none"
        seen = marks_survived(
            self._stored(url),
            agent=agent,
            signer_serial=self._serial,
            max_pixels=self._provenance.max_pixels if self._provenance else 0,
        )
        if self._marks is not None:
            self._marks.record(
                platform=self._host,
                agent=agent,
                media_id=media_id,
                kept=seen.kept,
                reason=seen.reason,
                disclosed=not seen.kept,  # create_post adds the text (the address says so)
            )
        if not seen.kept:
            log.info(
                "mastodon: %s did not keep the marks of %s's image %s: the post says it in words",
                self._host,
                agent,
                media_id,
            )
        return f"{url}{MEDIA_MARK}{media_id}{MARKS}{'kept' if seen.kept else 'lost'}"

    def _own_marks(self, agent: str, image: bytes) -> MarksSeen | None:
        """Fleet's own image checked before it is uploaded: both marks, made for ``agent``
        (None: no provenance settings, unchecked). Required (FLEET_PROVENANCE__REQUIRE) and
        missing: refused here, nothing uploaded; what the platform does to it afterwards is
        disclosed and audited, never a reason to skip the post."""
        if self._provenance is None:
            return None
        own = marks_survived(
            image, agent=agent, signer_serial=self._serial, max_pixels=self._provenance.max_pixels
        )
        if not own.kept and self._provenance.require:
            raise PermanentError(
                f"no provenance: Fleet's own image for {agent} lacks its marks ({own.reason})"[:300]
            )
        return own

    def _stored(self, url: str) -> bytes | None:
        """The platform's copy of an image: only on the server's own host, within
        ``max_image_bytes`` and the call's deadline, no redirect; None when it cannot be read."""
        if not self._local(url) or self._provenance is None:
            return None
        cap = self._provenance.max_image_bytes
        try:
            with (
                httpx.Client(
                    transport=bounded.Transport(
                        verify=httpx.create_ssl_context() if url.startswith("https:") else None,
                        proxy=bounded.proxy_for(url),
                        max_bytes=cap,
                    ),
                    timeout=self._settings.timeout_seconds,
                    follow_redirects=False,
                    headers={"Accept-Encoding": "identity", "User-Agent": "fleet-provenance"},
                ) as client,
                bounded.within(self._settings.timeout_seconds),
                client.stream("GET", url) as answer,
            ):
                if answer.status_code != 200:
                    return None
                return bounded.read_response(answer, cap=cap)
        except (httpx.HTTPError, bounded.AnswerRefused) as error:
            log.info(
                "mastodon: the stored copy of an image was not read (%s)", type(error).__name__
            )
            return None

    def _own_status_with(self, agent: str, media_id: str) -> dict[str, Any] | None:
        """The agent's status carrying the attachment ``media_id``, newest first, looked for
        in its last ``OWN_LOOKBACK`` pages."""
        me = self._account_id(agent)
        for page in self._pages(
            f"/api/v1/accounts/{quote(me, safe='')}/statuses",
            agent=agent,
            params={"limit": PAGE},
            pages=OWN_LOOKBACK,
        ):
            for status in page[:PAGE]:
                if not isinstance(status, dict):
                    continue
                for media in status.get("media_attachments") or []:
                    if isinstance(media, dict) and str(media.get("id")) == media_id:
                        return status
        return None

    def create_post(
        self, *, agent: str, image_url: str, title: str, description: str, idempotency_key: str
    ) -> GalleryPost:
        """The post: its image's alt text set to the description, then a public status of
        title and description with the image; once, though the server forget the key."""
        media_id = media_of(image_url)
        if media_id is None:
            raise PermanentError(
                "mastodon: the image was not uploaded to this server (no media id in its address)"
            )
        found = self._own_status_with(agent, media_id)
        if found is not None:
            log.info(
                "mastodon: %s's post with media %s is there already: not sent again",
                agent,
                media_id,
            )
            return _read("post", lambda: self._post(found))
        text = f"{title.strip()}\n\n{description.strip()}".strip()
        limit = self._status_limit()
        # The platform stripped the marks of Fleet's image: the alt text and a line of the
        # caption say in words that it is AI-generated.
        said = disclosed(
            marks_of(image_url) not in ("lost", "none"),
            alt_text=description,
            caption=text,
            alt_limit=MAX_ALT,
            caption_limit=limit,
        )
        text = said.caption
        self._call(
            "PUT",
            f"/api/v1/media/{quote(media_id, safe='')}",
            agent=agent,
            json={"description": said.alt_text},
        )
        data, _ = self._call(
            "POST",
            "/api/v1/statuses",
            agent=agent,
            json={"status": text, "media_ids": [media_id], "visibility": "public"},
            key=idempotency_key,
        )
        return _read("new post", lambda: self._post(data))

    def feed(
        self, *, agent: str, limit: int = 20, offset: int = 0, sort: Sort = "recent"
    ) -> list[GalleryPost]:
        """Image posts as the agent sees them: the local public timeline, newest first, or
        the server's trending statuses (where it has none: the timeline)."""
        limit = max(0, min(limit, PAGE * MAX_PAGES))
        self._account_id(agent)  # the server's domain, to name its accounts
        if sort != "recent":
            try:
                data, _ = self._call(
                    "GET",
                    "/api/v1/trends/statuses",
                    agent=agent,
                    params={"limit": min(limit + offset, PAGE), "offset": 0},
                )
                if isinstance(data, list) and data:
                    posts = self._posts(data[:PAGE])
                    return posts[offset : offset + limit]
            except GalleryRefused as exc:
                if exc.status not in (404, 410):
                    raise
        wanted = offset + limit
        found: list[GalleryPost] = []
        for page in self._pages(
            "/api/v1/timelines/public",
            agent=agent,
            params={"local": "true", "limit": PAGE},
            pages=MAX_PAGES,
        ):
            found.extend(self._posts(page[:PAGE]))
            if len(found) >= wanted:
                break
        return found[offset:wanted]

    def _posts(self, statuses: list[Any]) -> list[GalleryPost]:
        out = []
        for status in statuses:
            if not isinstance(status, dict) or status.get("reblog"):
                continue
            post = _read("status", partial(self._post, status))
            if post.image_url:  # an image gallery: posts without a local image are skipped
                out.append(post)
        return out

    def get_post(self, *, agent: str, post_id: str) -> GalleryPost:
        self._account_id(agent)
        data, _ = self._call("GET", f"/api/v1/statuses/{quote(post_id, safe='')}", agent=agent)
        return _read(f"post {post_id}", lambda: self._post(data))

    def _refuse_if_blocked(self, agent: str, status_id: str) -> None:
        """GalleryRefused (403) when the author of ``status_id`` blocks the agent: a server
        that does not enforce a person's block itself (Takahē) is not worked around."""
        me = self._account_id(agent)
        author = self._authors.get(status_id)
        if author is None:
            self.get_post(agent=agent, post_id=status_id)  # a 404 here: gone, or blocked
            author = self._authors.get(status_id)
        if author is None or author == me:
            return
        known = self._blocks.get((agent, author))
        if known is None or time.monotonic() - known[1] > BLOCK_SECONDS:
            data, _ = self._call(
                "GET", "/api/v1/accounts/relationships", agent=agent, params=[("id[]", author)]
            )
            said = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
            if len(self._blocks) > MAX_KEPT:
                self._blocks.clear()
            known = (said.get("blocked_by") is True, time.monotonic())
            self._blocks[(agent, author)] = known
        if known[0]:
            raise GalleryRefused(
                f"mastodon: the author of {status_id[:40]} blocks {agent}: no action toward them",
                403,
            )

    def like(self, *, agent: str, post_id: str, idempotency_key: str) -> Liked:
        """Favourite the post: the server sets a state, so a retry never undoes it nor
        counts it twice. Whether it was liked before is not said (``toggled`` is True).
        Refused (403) when its author blocks the agent."""
        self._refuse_if_blocked(agent, post_id)
        data, _ = self._call(
            "POST",
            f"/api/v1/statuses/{quote(post_id, safe='')}/favourite",
            agent=agent,
            key=idempotency_key,
        )
        if not isinstance(data, dict) or data.get("favourited") is False:
            raise TransientError(f"mastodon favourite of {post_id} by {agent} did not stick")
        count = _read(f"like of {post_id}", lambda: _count(data.get("favourites_count", 0)))
        return Liked(post_id=post_id, like_count=count, toggled=True)

    def _context(self, agent: str, post_id: str) -> list[dict[str, Any]]:
        self._account_id(agent)
        data, _ = self._call(
            "GET", f"/api/v1/statuses/{quote(post_id, safe='')}/context", agent=agent
        )
        found = data.get("descendants") if isinstance(data, dict) else None
        if not isinstance(found, list):
            raise MalformedAnswer(f"mastodon context of {post_id}: no list of descendants")
        return [s for s in found[:4096] if isinstance(s, dict)]

    def comment(
        self,
        *,
        agent: str,
        post_id: str,
        content: str,
        idempotency_key: str,
        parent_id: str | None = None,
    ) -> GalleryComment:
        """A reply to the post (or to its comment ``parent_id``); looked for under its
        parent first, so a retry after a lost answer does not send it twice."""
        parent = parent_id or post_id
        limit = self._status_limit()
        text = content.strip()
        if len(text) > limit:
            text = text[: limit - 1] + "…"
        me = self._account_id(agent)
        self._refuse_if_blocked(agent, post_id)
        if parent != post_id:
            self._refuse_if_blocked(agent, parent)
        for status in self._context(agent, post_id):
            account = status.get("account") or {}
            if (
                str(status.get("in_reply_to_id")) == parent
                and isinstance(account, dict)
                and str(account.get("id")) == me
                and same_words(text_of(status.get("content"), MAX_COMMENT * 2), text)
            ):
                log.info(
                    "mastodon: %s's reply under %s is there already: not sent again", agent, parent
                )
                return _read("comment", partial(self._comment, post_id, status))
        data, _ = self._call(
            "POST",
            "/api/v1/statuses",
            agent=agent,
            json={"status": text, "in_reply_to_id": parent, "visibility": "public"},
            key=idempotency_key,
        )
        return _read("new comment", lambda: self._comment(post_id, data))

    def comments(
        self, *, agent: str, post_id: str, limit: int = 50, offset: int = 0
    ) -> list[GalleryComment]:
        """The post's replies, oldest first (the server's order of its thread)."""
        found = self._context(agent, post_id)[offset : offset + max(limit, 0)]
        return [_read(f"comments of {post_id}", partial(self._comment, post_id, s)) for s in found]

    def notifications(self, *, agent: str, limit: int = 40) -> list[GalleryComment]:
        """The statuses that mention the agent (how people's questions reach it), newest
        first; ``post_id`` is the status each answers (itself when it answers none)."""
        self._account_id(agent)
        data, _ = self._call(
            "GET",
            "/api/v1/notifications",
            agent=agent,
            params=[("types[]", "mention"), ("limit", str(max(1, min(limit, PAGE))))],
        )
        if not isinstance(data, list):
            raise MalformedAnswer("mastodon notifications: the answer is not a list")
        out = []
        for note in data[:PAGE]:
            status = note.get("status") if isinstance(note, dict) else None
            if note.get("type") != "mention" or not isinstance(status, dict):
                continue
            root = str(status.get("in_reply_to_id") or status.get("id"))
            out.append(_read("mention", partial(self._comment, root, status)))
        return out


def _plain(value: object, limit: int) -> str:
    """A plain-text field (an id, a handle, alt text): no control characters, clipped."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return ""
    return clip("".join(ch for ch in value if ch == "\n" or ord(ch) >= 32), limit)


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
