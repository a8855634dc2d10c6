"""The feeds' pages a process's target choices share for a few seconds."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from fleet.errors import Deferred, TransientError
from fleet.gallery.port import GalleryPost, Sort

if TYPE_CHECKING:
    from fleet.gallery.port import Gallery
    from fleet.settings import ActionSettings


class FeedReader(Protocol):
    """Who reads a new page: the gallery it calls, the page's size in its settings (a
    target choice's ``Choosing``)."""

    @property
    def gallery(self) -> Gallery: ...

    @property
    def settings(self) -> ActionSettings: ...


class FeedSnapshot:
    """The feeds' pages (``sorts``: recent, popular, trending, as a person scrolls them),
    one list without repeats, shared by this process's target choices for a few seconds.

    Choosing whom to like or answer does not need a feed read per action: the ledger
    (who engaged with what) is read fresh each time, the page of candidates may be a
    moment old. When reading a new page fails for a passing reason, a page up to
    ``STALE_ON_ERROR_SECONDS`` old serves instead: the action then depends on one
    gallery call, its own. Browsing reads the feed itself: the public feed's newest page
    once for the looks of a delivery (``fleet.actions.following.PublicPage``), each
    agent's home feed for each look.
    """

    STALE_ON_ERROR_SECONDS = 60.0

    def __init__(
        self, ttl_seconds: float, sorts: Sequence[Sort] = ("recent",), page_size: int | None = None
    ) -> None:
        self._ttl = ttl_seconds
        self._sorts = tuple(sorts) or ("recent",)
        self._page_size = page_size
        self._page: list[GalleryPost] = []
        # The page's posts by id (``shown``), made once with each page.
        self._by_id: dict[str, GalleryPost] = {}
        # Each post's place on each sort read (0: the top; None: not on that one).
        self._places: dict[str, tuple[int | None, ...]] = {}
        self._taken = -1e18
        self._reader: str | None = None
        self._lock = threading.Lock()

    def _held(self) -> tuple[list[GalleryPost], float]:
        with self._lock:
            return self._page, time.monotonic() - self._taken

    def fresh(self) -> list[GalleryPost] | None:
        """The page, if it is young enough to use without reading the feed."""
        page, age = self._held()
        return page if age < self._ttl else None

    def shown(self, post_id: str) -> GalleryPost | None:
        """The post ``post_id`` as the page last read showed it, however old the page
        (None: not on it): what a like chosen from that page knows of its post (its
        author, caption, picture) without a look-up of its own, nor a gallery read when
        the page aged while the batch ran."""
        with self._lock:
            return self._by_id.get(post_id)

    def renewed(self, choosing: FeedReader) -> list[GalleryPost] | None:
        """The page if young, else a new one read as the agent that read the last (a
        batch's choices are made before its claim tells who its agents are); None
        without one, or when reading fails (the caller chooses later instead)."""
        with self._lock:
            page, age = self._page, time.monotonic() - self._taken
        if age < self._ttl:
            return page
        if self._reader is None:
            return None
        try:
            return self.page(choosing, self._reader)
        except Exception:  # the choice is an optimisation: never fail a batch over it
            return None

    def page(self, choosing: FeedReader, agent: str) -> list[GalleryPost]:
        self._reader = agent
        page, age = self._held()
        if age < self._ttl:
            return page
        try:
            seen: dict[str, GalleryPost] = {}
            on_sort: list[dict[str, int]] = []
            for sort in self._sorts:
                read = choosing.gallery.feed(
                    agent=agent,
                    limit=self._page_size or choosing.settings.feed_page_size,
                    sort=sort,
                )
                on_sort.append({post.id: place for place, post in enumerate(read)})
                for post in read:
                    seen.setdefault(post.id, post)
            page = list(seen.values())
            places = {post_id: tuple(sort.get(post_id) for sort in on_sort) for post_id in seen}
        except TransientError as error:
            # A budget or pause answer is the gallery speaking: it stands.
            if isinstance(error, Deferred) or age >= self.STALE_ON_ERROR_SECONDS:
                raise
            return page
        with self._lock:
            self._page, self._places, self._taken = page, places, time.monotonic()
            self._by_id = seen
        return page

    def places(self, page: Sequence[GalleryPost]) -> dict[str, tuple[int | None, ...]]:
        """Each post's place on each sort read (None: not on it), for the page this
        snapshot last gave (empty for any other: places unknown)."""
        with self._lock:
            return self._places if page is self._page else {}
