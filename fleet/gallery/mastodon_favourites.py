"""Likes on a Mastodon-API server: a favourite, which the server sets at most once."""

from __future__ import annotations

from urllib.parse import quote

from fleet.errors import TransientError
from fleet.gallery.answers import _count, _read
from fleet.gallery.mastodon_accounts import AgentAccounts
from fleet.gallery.port import Liked


class Favourites(AgentAccounts):
    """Likes as the server keeps them: a state set at most once."""

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
