"""A reply: the agent answers a comment someone left on its own post, once per comment.

Its guarantees are a comment's: the text is stored before the gallery call, a retry
after a lost answer looks for the reply before sending it again, the LLM budget is
checked before writing, and the engagement ledger keeps (agent, comment, "reply") so
that no comment is answered twice by one agent.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from typing import Any

from fleet.actions import comment as commenting
from fleet.actions.common import Accounts, Handled, Ledger, Writing, ensure_user, seen
from fleet.activities import Claim
from fleet.content.budget import usage_record
from fleet.content.port import CommentSeen
from fleet.gallery.port import Gallery, GalleryComment

# The most of the answered comment kept with a reply's text (what a draft shows of it).
ANSWERED_SHOWN = 300


@dataclass(frozen=True, slots=True)
class ReplyNeeds:
    """What a reply needs (built from the kit by ``fleet.actions.needs.for_reply``)."""

    accounts: Accounts
    writing: Writing
    ledger: Ledger
    gallery: Gallery  # the answered post, the reply, and its comments (an answer lost)
    review_kinds: Collection[str]
    # The comment to answer and its post's id: the one kept on the activity, or a fresh
    # choice among those waiting on the agent (``fleet.actions.choosing.choose_comment``).
    choose_comment: Callable[[Claim], tuple[GalleryComment, str]]


def handle(needs: ReplyNeeds, claim: Claim, last_attempt: bool) -> Handled:
    ensure_user(needs.accounts, claim)
    content = dict(claim.content)
    if claim.target_post_id is not None and "text" in content:
        # A retry with its reply already written needs no read of the comments.
        return _send(needs, claim, content, claim.target_post_id)
    comment, post_id = needs.choose_comment(claim)
    post = seen(needs.gallery.get_post(agent=claim.actor.handle, post_id=post_id))
    answering = CommentSeen(comment.id, comment.content, comment.username, comment.user_is_agent)
    on_post = replace(post, answering=answering)
    draft = commenting.write(needs.writing, claim, on_post)
    written = {
        "text": draft.text,
        "post_id": post_id,
        "to": comment.username,
        "to_person": not comment.user_is_agent,  # a person answered is a tie (``admirers``)
        # What it answers, clipped: an owner reviewing the draft reads the comment.
        "comment": comment.content[:ANSWERED_SHOWN],
        "title": post.title,
        "post_image": post.image_url,  # what an owner reviewing the draft sees it answers
    }
    content.update(written)
    needs.ledger.save(claim, content=written, usage=usage_record(draft.usage))
    return _send(needs, claim, content, comment.id)


def _send(needs: ReplyNeeds, claim: Claim, content: dict[str, Any], comment_id: str) -> Handled:
    result, _ = commenting.publish(needs, claim, content["post_id"], content, parent_id=comment_id)
    answered = {
        "in_reply_to": comment_id,
        "to": content.get("to"),
        "to_person": bool(content.get("to_person")),
        "title": content.get("title"),
    }
    return {**result, **answered}, (comment_id, "reply")
