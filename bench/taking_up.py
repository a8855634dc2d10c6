"""Comments that take up the post: the share of the fleet's comments on newcomers' posts
that say back what the post said.

A newcomer's post says something specific (``bench.community.NEWCOMER_POSTS``): a
question and what it asks about, a problem, a name, a figure with its unit. What a post
says is read as the writer reads it (``fleet.content.offline.reading.read_post``: the parts that
depend on no commenter's voice); a comment takes the post up when it holds one of those
words (case aside). Posts that say nothing readable are left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from fleet.content.offline.lexicon import voice_of
from fleet.content.offline.reading import read_post
from fleet.content.port import PostSeen
from fleet.core.voice import Voice
from fleet.infra.persona_files import PersonaCatalogue


@cache
def _a_voice() -> Voice:
    """Any persona's voice: the parts read here do not depend on it."""
    catalogue = PersonaCatalogue.from_directory()
    return voice_of(catalogue.get(catalogue.slugs()[0]))


def said(title: str, description: str) -> tuple[str, ...]:
    """What a post says that a comment could say back (lower case)."""
    reading = read_post(PostSeen("post", title, description, "someone", False), _a_voice())
    found = (reading.asked_about, reading.problem, reading.name, reading.number)
    return tuple(sorted({f.lower() for f in found if f}))


def figures(
    posts: Iterable[Any],
    comments: Iterable[Any],
    newcomer_posts: Iterable[int],
    users: Mapping[int, Any],
) -> dict[str, Any]:
    """``takes_up_the_post``: of the fleet's top-level comments on newcomers' posts that
    say something readable, the share holding one of its words; with how many."""
    by_id = {p.id: p for p in posts}
    words = {}
    for pid in newcomer_posts:
        post = by_id.get(pid)
        if post is not None:
            found = said(str(post.title or ""), str(post.description or ""))
            if found:
                words[pid] = found
    taken = total = 0
    for c in comments:
        if c.parent_id is not None or c.post_id not in words:
            continue
        author = users.get(c.user_id)
        if author is None or not author.is_agent:
            continue
        total += 1
        text = str(c.content).lower()
        taken += any(word in text for word in words[c.post_id])
    return {
        "takes_up_the_post": round(taken / total, 3) if total else None,
        "takes_up_the_post_comments": total,
    }
