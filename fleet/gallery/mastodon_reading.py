"""A Mastodon-API server's statuses read as Fleet's posts, comments, authors.

HTML is read as text (``fleet.gallery.mastodon_text``) before anything reads it; media
addresses on another host than the server's are dropped (no picture rather than a fetch
elsewhere). An image address carries its attachment's id (``#media=``): a post's marker.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from functools import partial
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from fleet.consent.core import PersonConsent
from fleet.errors import PermanentError, TransientError
from fleet.gallery.answers import (
    MAX_COMMENT,
    MAX_DESCRIPTION,
    MAX_ID,
    MAX_TITLE,
    MAX_URL,
    MAX_USERNAME,
    _count,
    _id,
    _read,
    _time,
    clip,
)
from fleet.gallery.consent import MAX_HANDLE, MAX_PEOPLE
from fleet.gallery.mastodon_text import opted_out, text_of
from fleet.gallery.mastodon_wire import MastodonSession
from fleet.gallery.port import Credentials, GalleryComment, GalleryPost
from fleet.settings import GallerySettings

log = logging.getLogger("fleet.gallery.mastodon")


MAX_STATUS = 500  # Mastodon's default; the instance says its own (max_characters)
MAX_KEPT = 50_000  # statuses whose author is remembered
MEDIA_MARK = "#media="  # an image address's fragment naming its uploaded attachment
# ...and what became of the provenance marks of the image Fleet made: "kept" by the
# platform, "lost" (stripped: the post carries the text disclosure), "none" (Fleet's own
# image carried none; unchecked when the adapter has no provenance settings).
MARKS = "&marks="
_MEDIA = re.compile(r"#media=([A-Za-z0-9_-]{1,64})(?:&marks=(kept|lost|none))?$")


def media_of(image_url: str) -> str | None:
    """The attachment id an image address from ``generate_image`` carries."""
    found = _MEDIA.search(image_url)
    return found.group(1) if found else None


def marks_of(image_url: str) -> str | None:
    """What the address says of the image's marks: "kept", "lost", "none", or None."""
    found = _MEDIA.search(image_url)
    return found.group(2) if found else None


class StatusReader(MastodonSession):
    """A server's statuses read as Fleet's posts, with what they say of their authors."""

    def __init__(
        self,
        settings: GallerySettings,
        credentials: Credentials,
        transport: httpx.BaseTransport | None = None,
        *,
        pause_seconds: float = 30.0,
    ) -> None:
        super().__init__(settings, credentials, transport, pause_seconds=pause_seconds)
        self._keeping = threading.Lock()  # a batch's threads share this client
        # Per-process memory, bounded: agents' account ids, the consent of the accounts
        # seen in answers, the server's status limit, who wrote each status seen
        # (status id -> account id).
        self._accounts: OrderedDict[str, str] = OrderedDict()
        self._seen: OrderedDict[str, PersonConsent] = OrderedDict()
        self._max_status: int | None = None
        self._authors: OrderedDict[str, str] = OrderedDict()
        # The server's own domains (an account there is named without one, as Mastodon does).
        self._domains: set[str] = {urlsplit(self._base).hostname or ""}

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


def _plain(value: object, limit: int) -> str:
    """A plain-text field (an id, a handle, alt text): no control characters, clipped."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return ""
    return clip("".join(ch for ch in value if ch == "\n" or ord(ch) >= 32), limit)
