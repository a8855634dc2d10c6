"""The feeds of a Mastodon-API server as an agent reads them: its local public timeline, its trends."""

from __future__ import annotations

import logging
import time

from fleet.gallery.answers import GalleryRefused
from fleet.gallery.mastodon_reading import StatusReader
from fleet.gallery.mastodon_wire import MAX_PAGES, PAGE
from fleet.gallery.port import GalleryPost, Sort

log = logging.getLogger("fleet.gallery.mastodon")


TRENDS_RECHECK = 300.0  # seconds a server without trends is not asked for them again
SAME_READ_SECONDS = 5.0  # a timeline read this young serves a sort the server lacks


class TimelineFeeds(StatusReader):
    """The image posts an agent sees, newest first or the server's trending ones."""

    # Until when the server is taken to have no trends, the last read of the local
    # timeline (when, how many were wanted, what came): a server without trends serves
    # its other sorts from it.
    _no_trends_until: float = 0.0
    _timeline_read: tuple[float, int, list[GalleryPost]] = (-1e18, 0, [])

    def feed(
        self, *, agent: str, limit: int = 20, offset: int = 0, sort: Sort = "recent"
    ) -> list[GalleryPost]:
        """Image posts as the agent sees them: the local public timeline, newest first, or
        the server's trending statuses (where it has none: the timeline)."""
        limit = max(0, min(limit, PAGE * MAX_PAGES))
        self._account_id(agent)  # the server's domain, to name its accounts
        wanted = offset + limit
        if sort != "recent" and time.monotonic() >= self._no_trends_until:
            try:
                data, _ = self._call(
                    "GET",
                    "/api/v1/trends/statuses",
                    agent=agent,
                    params={"limit": min(wanted, PAGE), "offset": 0},
                )
                if isinstance(data, list) and data:
                    posts = self._posts(data[:PAGE])
                    return posts[offset : offset + limit]
            except GalleryRefused as exc:
                if exc.status not in (404, 410):
                    raise
            # None to show (Takahē's empty list) or no such call: asked again later.
            self._no_trends_until = time.monotonic() + TRENDS_RECHECK
        if sort != "recent":
            # The server has no trends: its other sorts are the timeline, and a read of it
            # this moment old serves (a feed's sorts are read one after another).
            with self._keeping:
                taken, read, posts = self._timeline_read
            if time.monotonic() - taken < SAME_READ_SECONDS and read >= wanted:
                return posts[offset:wanted]
        found: list[GalleryPost] = []
        for page in self._pages(
            "/api/v1/timelines/public",
            agent=agent,
            # A page of what is wanted (the server renders each status it sends).
            params={"local": "true", "limit": max(1, min(wanted, PAGE))},
            pages=MAX_PAGES,
        ):
            found.extend(self._posts(page[:PAGE]))
            if len(found) >= wanted:
                break
        if sort == "recent":
            with self._keeping:
                self._timeline_read = (time.monotonic(), wanted, found)
        return found[offset:wanted]
