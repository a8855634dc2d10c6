"""The cheap kinds: a like of someone else's post, a look at the feed (with a thought when
it opens a session that says something)."""

from __future__ import annotations

from typing import Any

from fleet.actions.choosing import choose_post
from fleet.actions.common import (
    Handled,
    author_of,
    billed,
    ensure_user,
    keep_spent_at_end,
    nonce,
    seen,
)
from fleet.actions.kit import ActionKit
from fleet.actions.review import stop_for_review
from fleet.activities import Claim


def like(kit: ActionKit, claim: Claim, last_attempt: bool) -> Handled:
    ensure_user(kit, claim)
    # A retry, or a claim that kept its first choice, knows its target already.
    post = None if claim.target_post_id else choose_post(kit, claim, "like")
    post_id = claim.target_post_id or post.id  # type: ignore[union-attr]
    # Under review for likes too (FLEET_REVIEW__KINDS): its post chosen and kept, it waits.
    stop_for_review(kit, claim, claim.content)
    liked = kit.gallery.like(agent=claim.actor.handle, post_id=post_id, idempotency_key=claim.key)
    result: dict[str, Any] = {"post_id": post_id, "like_count": liked.like_count}
    # What the live feed shows: the post's caption, author and picture, when the page at
    # hand has it.
    known = post or next((p for p in kit.feed_snapshot.fresh() or [] if p.id == post_id), None)
    if known is not None:
        result |= {"title": known.title, "author": known.username}
        if known.image_url:
            result["image_url"] = known.image_url
    return result, (post_id, "like")


def browse(kit: ActionKit, claim: Claim, last_attempt: bool) -> Handled:
    ensure_user(kit, claim)
    persona = kit.personas.get(claim.actor.persona)
    feed = kit.gallery.feed(
        agent=claim.actor.handle, limit=kit.settings.feed_page_size, sort="recent"
    )
    read = [seen(p) for p in feed if p.username != claim.actor.handle]
    if claim.content.get("thinks") is False:
        # Not a speaking session's opening look (the dispatcher said so): no LLM call.
        return {"seen": [p.post_id for p in read], "thought": None}, None
    # A thought repeats nothing the agent wrote: its prompt does not show the recent texts.
    author = author_of(kit, claim, recent=False)
    with billed(kit, claim):
        thought = kit.writer.think(persona, author, read, nonce=nonce(claim))
    if thought.usage.calls:
        keep_spent_at_end(kit, claim, thought.usage)
    return {"seen": [p.post_id for p in read], "thought": thought.text}, None
