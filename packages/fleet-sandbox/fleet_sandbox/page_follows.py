"""The sandbox pages' pieces for the social graph: an account's followers with whom it
follows (counts, then the newest ``SHOWN`` of each), a post's reactions as words."""

from __future__ import annotations

from html import escape

from fleet_sandbox.tables import User

SHOWN = 50  # accounts listed on a page, newest first; the count says the rest
_BADGE = ' <span class="badge" title="automated account">BOT</span>'


def _listed(kind: str, count: int, users: list[User]) -> str:
    items = "".join(
        f'<li><a href="/people/{escape(u.username)}">@{escape(u.username)}</a>'
        f"{_BADGE if u.is_agent else ''}</li>"
        for u in users[:SHOWN]
    )
    more = count - min(len(users), SHOWN)
    tail = f'<li class="more">and {more} more</li>' if more > 0 else ""
    empty = "" if items else "<li>nobody yet</li>"
    title = "Followers" if kind == "followers" else "Following"
    return f'<div><h3>{title}</h3><ul class="{kind}">{items or empty}{tail}</ul></div>'


def follows(
    followers: int, following: int, their_followers: list[User], they_follow: list[User]
) -> str:
    """An account's follow graph: its counts, then whom it follows and who follows it."""
    return (
        f'<section class="follows" data-followers="{followers}" data-following="{following}">'
        f'<p class="follow-counts"><b>{followers}</b> follower{"" if followers == 1 else "s"}'
        f" &middot; <b>{following}</b> following</p>"
        f'<div class="follow-lists">{_listed("followers", followers, their_followers)}'
        f"{_listed('following', following, they_follow)}</div></section>"
    )


def reactions(counts: tuple[tuple[str, int], ...]) -> str:
    """A post's reactions as words with their counts (nothing when it has none)."""
    shown = [(name, n) for name, n in counts if n > 0]
    if not shown:
        return ""
    data = ",".join(f"{escape(name)}:{n}" for name, n in shown)
    words = " &middot; ".join(f"{escape(name)} {n}" for name, n in shown)
    return f'<span class="reactions" data-reactions="{data}">{words}</span>'
