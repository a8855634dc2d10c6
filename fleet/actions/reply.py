"""A reply: the agent answers a comment someone left on its own post, once per comment.

Its guarantees are a comment's: the text is stored before the gallery call, a retry
after a lost answer looks for the reply before sending it again, the LLM budget is
checked before writing, and the engagement ledger keeps (agent, comment, "reply") so
that no comment is answered twice by one agent.
"""

from __future__ import annotations

from dataclasses import replace

from fleet import activities
from fleet.actions import comment as commenting
from fleet.actions.choosing import choose_comment
from fleet.actions.common import (
    Handled,
    ensure_user,
    seen,
)
from fleet.actions.kit import ActionKit
from fleet.activities import Claim
from fleet.content.budget import usage_record
from fleet.content.port import CommentSeen


def handle(kit: ActionKit, claim: Claim, last_attempt: bool) -> Handled:
    ensure_user(kit, claim)
    content = dict(claim.content)
    if claim.target_post_id is not None and "text" in content:
        # A retry with its reply already written needs no read of the comments.
        return _send(kit, claim, content, claim.target_post_id)
    comment, post_id = choose_comment(kit, claim)
    post = seen(kit.gallery.get_post(agent=claim.actor.handle, post_id=post_id))
    answering = CommentSeen(comment.id, comment.content, comment.username, comment.user_is_agent)
    on_post = replace(post, answering=answering)
    draft = commenting.write(kit, claim, on_post)
    written = {
        "text": draft.text,
        "post_id": post_id,
        "to": comment.username,
        "title": post.title,
        "post_image": post.image_url,  # what an owner reviewing the draft sees it answers
    }
    content.update(written)
    activities.save_progress(
        kit.sessions, claim.id, now=kit.now(), content=written, usage=usage_record(draft.usage)
    )
    return _send(kit, claim, content, comment.id)


def _send(kit: ActionKit, claim: Claim, content: dict[str, str], comment_id: str) -> Handled:
    result, _ = commenting.publish(kit, claim, content["post_id"], content, parent_id=comment_id)
    answered = {"in_reply_to": comment_id, "to": content.get("to"), "title": content.get("title")}
    return {**result, **answered}, (comment_id, "reply")
