"""A comment on someone else's post, in the agent's voice, published once."""

from __future__ import annotations

from typing import Any

from fleet import activities
from fleet.actions.choosing import target_of
from fleet.actions.common import (
    Handled,
    author_of,
    billed,
    charge,
    echo_check,
    ensure_user,
    fleet_recent,
    nonce,
    refuse_if_over_budget,
    seen,
)
from fleet.actions.kit import ActionKit
from fleet.actions.review import answered_post_kept, stop_for_review
from fleet.activities import Claim
from fleet.content.budget import usage_record
from fleet.content.guard import guarded_comment
from fleet.content.port import CommentDraft, PostSeen


def handle(kit: ActionKit, claim: Claim, last_attempt: bool) -> Handled:
    ensure_user(kit, claim)
    content = dict(claim.content)
    if claim.target_post_id is not None and "text" in content:
        # A retry with its reply already written needs no read of the post; the post's
        # caption and author (what the live feed names) were kept with the text.
        result, engagement = publish(kit, claim, claim.target_post_id, content)
        return {**result, **_about(content)}, engagement
    post = target_of(kit, claim, "comment")
    about = {"title": post.title, "author": post.username}
    if "text" not in content:
        draft = write(kit, claim, seen(post))
        content["text"] = draft.text
        activities.save_progress(
            kit.sessions,
            claim.id,
            now=kit.now(),
            # The post's image too: an owner reviewing the draft sees what it answers.
            content={"text": draft.text, **about, "post_image": post.image_url},
            usage=usage_record(draft.usage),
        )
    result, engagement = publish(kit, claim, post.id, content)
    return {**result, **about}, engagement


def _about(content: dict[str, Any]) -> dict[str, Any]:
    """The commented post's caption and author, as kept with the comment's text."""
    return {key: content[key] for key in ("title", "author") if content.get(key)}


def write(kit: ActionKit, claim: Claim, post: PostSeen) -> CommentDraft:
    """The agent's comment on ``post`` (a reply when ``post.answering`` is set), within the
    LLM budget, through the guard when there is one; what it cost is charged."""
    refuse_if_over_budget(kit, claim)
    persona = kit.personas.get(claim.actor.persona)
    author = author_of(kit, claim, about=post)
    with billed(kit, claim):
        if kit.guard is not None:
            draft = guarded_comment(
                kit.writer,
                kit.guard,
                persona,
                author,
                post,
                nonce=nonce(claim),
                fleet_recent=fleet_recent(kit),
                # A reply thanks or answers a person, as people do in a few words: the
                # no-echo check by meaning would refuse most and leave them unanswered
                # (the guard's word-level repeat check still holds).
                echo=None if post.answering is not None else echo_check(kit, claim),
            )
        else:
            draft = kit.writer.write_comment(persona, author, post, nonce=nonce(claim))
    charge(kit, claim, draft.usage)
    return draft


def publish(
    kit: ActionKit,
    claim: Claim,
    post_id: str,
    content: dict[str, Any],
    *,
    parent_id: str | None = None,
) -> Handled:
    """Send the stored text as a comment on ``post_id`` (a reply to ``parent_id``), once:
    after a lost answer, the comment is looked for before it is sent again. Under review,
    it stops here, written (``UnderReview``)."""
    stop_for_review(kit, claim, content)
    handle = claim.actor.handle
    if content.get("commenting"):
        for existing in kit.gallery.comments(agent=handle, post_id=post_id, limit=100):
            if existing.username == handle and existing.content == content["text"]:
                return (
                    {
                        "post_id": post_id,
                        "comment_id": existing.id,
                        "recovered": True,
                        "text": content["text"],
                    },
                    (post_id, "comment"),
                )
    else:
        activities.save_progress(
            kit.sessions, claim.id, now=kit.now(), content={"commenting": True}
        )
    with answered_post_kept(content):
        made = kit.gallery.comment(
            agent=handle,
            post_id=post_id,
            content=content["text"],
            idempotency_key=claim.key,
            parent_id=parent_id,
        )
    return {"post_id": post_id, "comment_id": made.id, "text": content["text"]}, (
        post_id,
        "comment",
    )
