"""The books of a run on Takahē: what its own database holds, beside what Fleet recorded.

``takahe_books`` reads Takahē's tables (through its Django shell: ``Post``,
``PostInteraction``, ``Identity``) for the agents' accounts; ``compare`` sets them
against the fleet's succeeded actions:

- ``duplicates``: statuses or likes on Takahē beyond one per Fleet action (a status no
  succeeded action names, two statuses of one author with the same words under the
  same parent, or a second like of one post by one account);
- ``missing``: succeeded actions whose status or like is not on Takahē.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from fleet.db.models import Agent, AgentActivity
from fleet.service.root import Fleet


@dataclass
class Books:
    """Takahē's side: each agent status (id, author, parent id, text), each like."""

    statuses: list[dict[str, Any]] = field(default_factory=list)
    likes: list[tuple[str, str]] = field(default_factory=list)  # (author handle, post id)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Likes an earlier test left: a like of one of those again changes nothing on Takahē
    # (one like per account and post), so it is neither new nor missing.
    earlier_likes: list[tuple[str, str]] = field(default_factory=list)


def takahe_books(server: Any, handles: list[str]) -> Books:
    """Read Takahē's own database for ``handles``' statuses, likes and profiles."""
    code = f"""
import json
from activities.models import Post, PostInteraction
from users.models import Identity
handles = {handles!r}
by_uri = {{}}
out = {{"statuses": [], "likes": [], "accounts": {{}}}}
for post in Post.objects.filter(author__username__in=handles, author__local=True):
    out["statuses"].append({{"id": str(post.id), "author": post.author.username,
        "parent_uri": post.in_reply_to or "", "text": post.content}})
uris = [s["parent_uri"] for s in out["statuses"] if s["parent_uri"]]
for post in Post.objects.filter(object_uri__in=uris):
    by_uri[post.object_uri] = str(post.id)
for s in out["statuses"]:
    s["parent"] = by_uri.get(s.pop("parent_uri"), "")
for like in PostInteraction.objects.filter(type="like", identity__username__in=handles,
        identity__local=True).exclude(state__in=["undone", "undone_fanned_out"]):
    out["likes"].append([like.identity.username, str(like.post_id)])
for ident in Identity.objects.filter(username__in=handles, local=True):
    out["accounts"][ident.username] = {{"note": ident.summary or "",
        "fields": ident.metadata or [], "actor_type": ident.actor_type}}
print("BOOKS", json.dumps(out))
"""
    out = server.shell(code)
    line = next(line for line in out.splitlines() if line.startswith("BOOKS "))
    data = json.loads(line[6:])
    return Books(data["statuses"], [tuple(x) for x in data["likes"]], data["accounts"])


def since(after: Books, before: Books) -> Books:
    """What ``after`` holds that ``before`` did not: a run's own statuses and likes on a
    server earlier tests of the session wrote to with the same handles."""
    old_statuses = {s["id"] for s in before.statuses}
    old_likes = {tuple(like) for like in before.likes}
    return Books(
        statuses=[s for s in after.statuses if s["id"] not in old_statuses],
        likes=[like for like in after.likes if tuple(like) not in old_likes],
        accounts=after.accounts,
        earlier_likes=[like for like in after.likes if tuple(like) in old_likes],
    )


def compare(fleet: Fleet, books: Books) -> dict[str, Any]:
    """Fleet's succeeded posts, comments, replies and likes against Takahē's books."""
    recorded_statuses: Counter[str] = Counter()
    recorded_likes: set[tuple[str, str]] = set()
    with fleet.sessions() as session:
        rows = session.execute(
            select(AgentActivity.action, AgentActivity.result, Agent.handle)
            .join(Agent, Agent.id == AgentActivity.agent_id)
            .where(AgentActivity.status == "succeeded")
        ).all()
    for action, result, handle in rows:
        content = result or {}
        if action == "post" and content.get("post_id"):
            recorded_statuses[str(content["post_id"])] += 1
        elif action in ("comment", "reply") and content.get("comment_id"):
            recorded_statuses[str(content["comment_id"])] += 1
        elif action == "like" and content.get("post_id"):
            recorded_likes.add((handle, str(content["post_id"])))
    on_server = {s["id"] for s in books.statuses}
    same_words = Counter((s["author"], s["parent"], s["text"]) for s in books.statuses)
    liked = Counter(books.likes)
    unrecorded = sorted(on_server - set(recorded_statuses))
    duplicates = (
        len(unrecorded)
        + sum(n - 1 for n in same_words.values() if n > 1)
        + sum(n - 1 for n in liked.values() if n > 1)
        + sum(n - 1 for n in recorded_statuses.values() if n > 1)
    )
    missing_statuses = sorted(set(recorded_statuses) - on_server)
    missing_likes = sorted(recorded_likes - set(liked) - set(books.earlier_likes))
    return {
        "statuses_on_server": len(books.statuses),
        "likes_on_server": len(books.likes),
        "statuses_recorded": sum(recorded_statuses.values()),
        "likes_recorded": len(recorded_likes),
        "duplicates": duplicates,
        "missing": len(missing_statuses) + len(missing_likes),
        "unrecorded_statuses": unrecorded[:10],
        "missing_statuses": missing_statuses[:10],
        "missing_likes": [list(x) for x in missing_likes[:10]],
    }
