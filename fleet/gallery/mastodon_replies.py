"""Replies on a Mastodon-API server: comments under a post, the mentions that call an agent.

A comment is looked for under its parent (``/context``: the agent's reply with the same
words) before it is sent, so a retry after a lost answer does not send it twice.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any
from urllib.parse import quote

from fleet.gallery.answers import MAX_COMMENT, MalformedAnswer, _read
from fleet.gallery.mastodon_accounts import AgentAccounts
from fleet.gallery.mastodon_text import same_words, text_of
from fleet.gallery.mastodon_wire import PAGE
from fleet.gallery.port import GalleryComment

log = logging.getLogger("fleet.gallery.mastodon")


class Replies(AgentAccounts):
    """Statuses in a thread: an agent's comments under a post, the mentions that reach it."""

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
