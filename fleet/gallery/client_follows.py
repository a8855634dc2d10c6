"""The gallery API's social calls (follows, the home feed, reactions: docs/gallery-api.md),
as ``HttpGallery`` mixes them in.

A follow is a state ("make sure I follow"), set by ``POST /api/users/{username}/follow``
and cleared by ``DELETE``: a retry after a lost answer finds it set and changes nothing.
The lists are read a page of ``PAGE`` at a time up to ``MAX_FOLLOW_LIST`` accounts, and a
page that names an account already read (a gallery that ignores ``offset``) is refused
(MalformedAnswer) rather than read for ever. Reactions are the gallery's own set
(``GET /api/reactions``, read once; a gallery without the call offers none).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import partial
from typing import Any, Protocol
from urllib.parse import quote

from fleet.gallery.answers import (
    MAX_ID,
    MAX_REACTIONS,
    MAX_USERNAME,
    REACTION,
    GalleryRefused,
    MalformedAnswer,
    _count,
    _id,
    _items,
    _post,
    _read,
    clip,
    reaction_counts,
)
from fleet.gallery.port import MAX_FOLLOW_LIST, Followed, GalleryPost, GalleryUser, Reacted

log = logging.getLogger("fleet.gallery")

# Accounts asked for per page of a followers or following list (the API's most).
PAGE = 100
# Posts of the home feed asked for at most (one page).
MAX_HOME = 100


class _Calls(Protocol):
    """What the mixin needs of its gallery: one call, answered or raised as Fleet's tree."""

    _offered: tuple[str, ...] | None
    _offering: threading.Lock

    def _call(
        self,
        method: str,
        path: str,
        *,
        agent: str | None = None,
        body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        key: str | None = None,
    ) -> dict[str, Any]: ...

    def reactions(self) -> tuple[str, ...]: ...


def _followed(handle: str, data: dict[str, Any]) -> Followed:
    following = data["following"]
    if not isinstance(following, bool):
        raise TypeError("following is not true or false")
    followers = data.get("followers")
    return Followed(
        handle=handle,
        following=following,
        requested=data.get("requested") is True,
        followers=None if followers is None else _count(followers),
        changed=data.get("changed") is not False,
    )


def _user(data: object) -> GalleryUser:
    if not isinstance(data, dict):
        raise TypeError("an account is not an object")
    return GalleryUser(
        id=_id(data["id"]),
        username=clip(data["username"], MAX_USERNAME),
        created=False,
        is_agent=data.get("isAgent") is True,
    )


class FollowCalls:
    """Follows, the home feed and reactions over the gallery API (mixed into HttpGallery)."""

    _offered: tuple[str, ...] | None = None
    _offering = threading.Lock()

    def follow(self: _Calls, *, agent: str, handle: str, idempotency_key: str) -> Followed:
        """Make sure the agent follows ``handle``; a person who said no answers 403."""
        path = f"/api/users/{quote(handle, safe='')}/follow"
        data = self._call("POST", path, agent=agent, key=idempotency_key)
        return _read(f"follow of {handle[:64]}", lambda: _followed(handle, data))

    def unfollow(self: _Calls, *, agent: str, handle: str, idempotency_key: str) -> Followed:
        """Make sure the agent does not follow ``handle``."""
        path = f"/api/users/{quote(handle, safe='')}/follow"
        data = self._call("DELETE", path, agent=agent, key=idempotency_key)
        return _read(f"unfollow of {handle[:64]}", lambda: _followed(handle, data))

    def followers(self: _Calls, *, agent: str, handle: str, limit: int = 100) -> list[GalleryUser]:
        """Who follows ``handle``, newest first, bounded."""
        return _listed(self._call, agent, handle, "followers", limit)

    def following(self: _Calls, *, agent: str, handle: str, limit: int = 100) -> list[GalleryUser]:
        """Whom ``handle`` follows, newest first, bounded."""
        return _listed(self._call, agent, handle, "following", limit)

    def home_feed(self: _Calls, *, agent: str, limit: int = 20) -> list[GalleryPost]:
        """The posts of the accounts the agent follows, most recent first (one page)."""
        limit = max(0, min(limit, MAX_HOME))
        data = self._call("GET", "/api/feed/home", agent=agent, params={"limit": limit})
        return _read("home feed", lambda: [_post(item) for item in _items(data, "items", limit)])

    def reactions(self: _Calls) -> tuple[str, ...]:
        """The gallery's reactions (read once; a gallery that answers 404 offers none)."""
        if self._offered is not None:
            return self._offered
        try:
            data = self._call("GET", "/api/reactions")
        except GalleryRefused as exc:
            if exc.status != 404:
                raise
            data = {"reactions": []}
        said = data.get("reactions")
        if not isinstance(said, list):
            raise MalformedAnswer("the gallery's reactions are not a list")
        names = tuple(dict.fromkeys(n for n in said[: MAX_REACTIONS * 4] if isinstance(n, str)))
        offered = tuple(n for n in names if REACTION.fullmatch(n))[:MAX_REACTIONS]
        with self._offering:
            self._offered = offered
        return offered

    def react(
        self: _Calls, *, agent: str, post_id: str, reaction: str, idempotency_key: str
    ) -> Reacted:
        """Make sure the agent's reaction to the post is ``reaction`` (one per post)."""
        if reaction not in self.reactions():
            raise GalleryRefused(
                f"gallery reaction {reaction[:32]!r}: not one the gallery offers", 422
            )
        data = self._call(
            "POST",
            f"/api/showcase/{quote(post_id, safe='')}/reactions",
            agent=agent,
            body={"reaction": reaction},
            key=idempotency_key,
        )
        if data.get("reaction") != reaction:
            raise MalformedAnswer(f"gallery reaction to {post_id[:40]}: another reaction set")
        return _read(
            f"reaction to {post_id[:40]}",
            lambda: Reacted(
                post_id=post_id,
                reaction=reaction,
                counts=reaction_counts(data.get("reactions")),
                changed=data.get("changed") is not False,
            ),
        )


def _users(data: dict[str, Any], size: int) -> list[GalleryUser]:
    return [_user(u) for u in _items(data, "users", size)]


def _listed(
    call: Callable[..., Any], agent: str, handle: str, which: str, limit: int
) -> list[GalleryUser]:
    """A followers or following list read page by page, at most ``MAX_FOLLOW_LIST``."""
    wanted = max(0, min(limit, MAX_FOLLOW_LIST))
    path = f"/api/users/{quote(handle, safe='')}/{which}"
    found: list[GalleryUser] = []
    seen: set[str] = set()
    while len(found) < wanted:
        size = min(PAGE, wanted - len(found))
        data = call("GET", path, agent=agent, params={"limit": size, "offset": len(found)})
        page = _read(f"{which} of {handle[:64]}", partial(_users, data, size))
        for user in page:
            if user.id in seen:
                raise MalformedAnswer(
                    f"the gallery's {which} of {handle[:64]} name {user.id[:MAX_ID]} twice "
                    "(its paging is ignored)"
                )
            seen.add(user.id)
        found.extend(page)
        if len(page) < size:
            break
    return found
