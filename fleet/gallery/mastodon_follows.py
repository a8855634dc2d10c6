"""The Mastodon client API's social calls (follows, the home timeline, the favourite as a
reaction), as ``MastodonGallery`` mixes them in.

    follow      GET /api/v1/accounts/lookup?acct=, GET /api/v1/accounts/relationships,
                then POST /api/v1/accounts/:id/follow unless the relationship already
                says following or requested (a locked account answers requested: true;
                a follow sent that the answer says is neither, as Takahē's before its
                background runner accepts it, is reported requested)
    unfollow    the same look, then POST /api/v1/accounts/:id/unfollow
    followers   GET /api/v1/accounts/:id/followers|following, Link-paged, at most
    following   MAX_FOLLOW_LIST accounts; an account named twice is a loop (refused)
    home_feed   GET /api/v1/timelines/home (image posts kept, most recent first)
    reactions   ("favourite",): the server has no reactions of its own
    react       the favourite (``like``): a reaction there is a favourite

Exactly once: the relationship is read before every follow or unfollow is sent, so a retry
after an unknown outcome finds the state set and sends nothing. A person whose account
blocks the agent (``blocked_by``) or says #nobot / #noai is refused (GalleryRefused 403)
before anything is sent, as a like to them is.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any
from urllib.parse import quote

from fleet.gallery.answers import (
    MAX_ID,
    GalleryRefused,
    MalformedAnswer,
    _count,
    _id,
    _read,
)
from fleet.gallery.mastodon_favourites import Favourites
from fleet.gallery.mastodon_text import opted_out
from fleet.gallery.port import (
    FAVOURITE,
    MAX_FOLLOW_LIST,
    Followed,
    GalleryPost,
    GalleryUser,
    Reacted,
)

log = logging.getLogger("fleet.gallery.mastodon")

ACCOUNTS_PAGE = 80  # the API's largest page of accounts
HOME_PAGE = 40  # the API's largest page of statuses
HOME_PAGES = 3  # pages of the home timeline read at most for one feed
MAX_HANDLE_ASKED = 320  # the longest acct looked up (user@domain)


def _state(handle: str, said: dict[str, Any], followers: int | None, changed: bool) -> Followed:
    return Followed(
        handle=handle,
        following=said.get("following") is True,
        requested=said.get("requested") is True,
        followers=followers,
        changed=changed,
    )


def _followers_count(account: dict[str, Any]) -> int | None:
    try:
        return _count(account.get("followers_count"))
    except (TypeError, ValueError):
        return None


class MastodonFollows(Favourites):
    """Follows, the home timeline and reactions (mixed into MastodonGallery)."""

    def follow(self, *, agent: str, handle: str, idempotency_key: str) -> Followed:
        """Make sure the agent follows ``handle`` (or has asked to: a locked account)."""
        me = self._account_id(agent)
        account = self._account(agent, handle)
        target = _id(account["id"])
        if target == me:
            raise GalleryRefused(f"mastodon: {agent} cannot follow itself", 422)
        if opted_out(account):
            raise GalleryRefused(f"mastodon: {handle[:64]} says no to automated accounts", 403)
        said = self._relationship(agent, target)
        if said.get("blocked_by") is True:
            raise GalleryRefused(f"mastodon: {handle[:64]} blocks {agent}: no follow", 403)
        count = _followers_count(account)
        if said.get("following") is True or said.get("requested") is True:
            log.info("mastodon: %s follows %s already: not sent again", agent, handle[:64])
            return _state(handle, said, count, changed=False)
        data, _ = self._call(
            "POST",
            f"/api/v1/accounts/{quote(target, safe='')}/follow",
            agent=agent,
            key=idempotency_key,
        )
        if not isinstance(data, dict):
            raise MalformedAnswer(f"mastodon follow of {handle[:64]}: not a relationship")
        if data.get("following") is not True and data.get("requested") is not True:
            # Sent, not in effect yet: Takahē accepts a follow in its background runner
            # (its relationship says neither until then): a follow that waits.
            data = {**data, "requested": True}
        # The count read before may be stale by now (a follow in flight): not said.
        return _state(handle, data, None, changed=True)

    def unfollow(self, *, agent: str, handle: str, idempotency_key: str) -> Followed:
        """Make sure the agent does not follow ``handle`` (a request is withdrawn)."""
        me = self._account_id(agent)
        account = self._account(agent, handle)
        target = _id(account["id"])
        if target == me:
            raise GalleryRefused(f"mastodon: {agent} cannot unfollow itself", 422)
        said = self._relationship(agent, target)
        if said.get("following") is not True and said.get("requested") is not True:
            return _state(handle, said, _followers_count(account), changed=False)
        data, _ = self._call(
            "POST",
            f"/api/v1/accounts/{quote(target, safe='')}/unfollow",
            agent=agent,
            key=idempotency_key,
        )
        if not isinstance(data, dict):
            raise MalformedAnswer(f"mastodon unfollow of {handle[:64]}: not a relationship")
        return _state(handle, data, None, changed=True)

    def followers(self, *, agent: str, handle: str, limit: int = 100) -> list[GalleryUser]:
        """Who follows ``handle``, newest first, at most ``MAX_FOLLOW_LIST``."""
        return self._listed(agent, handle, "followers", limit)

    def following(self, *, agent: str, handle: str, limit: int = 100) -> list[GalleryUser]:
        """Whom ``handle`` follows, newest first, at most ``MAX_FOLLOW_LIST``."""
        return self._listed(agent, handle, "following", limit)

    def home_feed(self, *, agent: str, limit: int = 20) -> list[GalleryPost]:
        """Image posts of the accounts the agent follows (and its own), newest first."""
        limit = max(0, min(limit, HOME_PAGE * HOME_PAGES))
        self._account_id(agent)
        found: list[GalleryPost] = []
        if limit == 0:
            return found
        for page in self._pages(
            "/api/v1/timelines/home", agent=agent, params={"limit": HOME_PAGE}, pages=HOME_PAGES
        ):
            found.extend(self._posts(page[:HOME_PAGE]))
            if len(found) >= limit:
                break
        return found[:limit]

    def reactions(self) -> tuple[str, ...]:
        """Only the favourite: a reaction on this server is a favourite."""
        return (FAVOURITE,)

    def react(self, *, agent: str, post_id: str, reaction: str, idempotency_key: str) -> Reacted:
        """The favourite (``like``: refused 403 when the author blocks the agent)."""
        if reaction != FAVOURITE:
            raise GalleryRefused(
                f"mastodon reaction {reaction[:32]!r}: the server has only the favourite", 422
            )
        liked = self.like(agent=agent, post_id=post_id, idempotency_key=idempotency_key)
        return Reacted(
            post_id=post_id,
            reaction=FAVOURITE,
            counts=((FAVOURITE, liked.like_count),) if liked.like_count else (),
            changed=liked.toggled,
        )

    def _account(self, agent: str, handle: str) -> dict[str, Any]:
        """The account ``handle`` names (GalleryRefused 404 when there is none). A short
        handle is looked up as the server names its own accounts too (Takahē resolves a short
        one by the request's host, which is not its domain: ``user@its.domain``)."""
        if not 0 < len(handle) <= MAX_HANDLE_ASKED:
            raise GalleryRefused(f"mastodon: no account can be named {handle[:64]!r}", 404)
        self._account_id(agent)  # the server's own domain, learnt once
        asked = handle.lstrip("@")
        tried = [asked]
        if "@" not in asked:
            host = self._host.partition(":")[0]
            tried += [f"{asked}@{d}" for d in sorted(self._domains)[:3] if d and d != host]
        for k, acct in enumerate(tried):
            try:
                data, _ = self._call(
                    "GET", "/api/v1/accounts/lookup", agent=agent, params={"acct": acct}
                )
            except GalleryRefused as exc:
                if exc.status != 404 or k == len(tried) - 1:
                    raise
                continue
            if not isinstance(data, dict):
                raise MalformedAnswer(f"mastodon lookup of {handle[:64]}: not an account")
            _read(f"account {handle[:64]}", partial(_id, data.get("id", "")))
            self._remember(data)
            return data
        raise GalleryRefused(f"mastodon: no account {handle[:64]!r}", 404)

    def _relationship(self, agent: str, account_id: str) -> dict[str, Any]:
        data, _ = self._call(
            "GET", "/api/v1/accounts/relationships", agent=agent, params=[("id[]", account_id)]
        )
        said = data[0] if isinstance(data, list) and data else None
        if not isinstance(said, dict) or str(said.get("id", account_id)) != account_id:
            raise MalformedAnswer(f"mastodon relationship with {account_id[:40]}: none given")
        return said

    def _listed(self, agent: str, handle: str, which: str, limit: int) -> list[GalleryUser]:
        """An account's followers or following, Link-paged, bounded; a loop is refused."""
        wanted = max(0, min(limit, MAX_FOLLOW_LIST))
        if wanted == 0:
            return []
        target = _id(self._account(agent, handle)["id"])
        found: list[GalleryUser] = []
        seen: set[str] = set()
        pages = -(-MAX_FOLLOW_LIST // ACCOUNTS_PAGE)
        for page in self._pages(
            f"/api/v1/accounts/{quote(target, safe='')}/{which}",
            agent=agent,
            params={"limit": min(ACCOUNTS_PAGE, wanted)},
            pages=pages,
        ):
            for account in page[:ACCOUNTS_PAGE]:
                if not isinstance(account, dict):
                    raise MalformedAnswer(f"mastodon {which} of {handle[:64]}: not an account")
                user = _read(f"{which} of {handle[:64]}", partial(self._user, account))
                if user.id in seen:
                    raise MalformedAnswer(
                        f"mastodon {which} of {handle[:64]}: {user.id[:MAX_ID]} named twice "
                        "(the pages loop)"
                    )
                seen.add(user.id)
                found.append(user)
                if len(found) >= wanted:
                    return found
        return found

    def _user(self, account: dict[str, Any]) -> GalleryUser:
        self._remember(account)
        return GalleryUser(
            id=_id(account["id"]),
            username=self._handle(account),
            created=False,
            is_agent=account.get("bot") is True,
        )
