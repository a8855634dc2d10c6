"""A reply: the agent answers a comment someone left on its own post, once per comment.

Its guarantees are a comment's: the text is stored before the gallery call, a retry
after a lost answer looks for the reply before sending it again, the LLM budget is
checked before writing, and the engagement ledger keeps (agent, comment, "reply") so
that no comment is answered twice by one agent.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from typing import Any

from fleet.actions import comment as commenting
from fleet.actions.common import (
    Accounts,
    Effect,
    Ledger,
    Writing,
    author_of,
    ensure_user,
    nonce,
    seen,
)
from fleet.actions.planning import as_content, await_plan
from fleet.activities import Claim
from fleet.consent.book import ConsentBook
from fleet.content.llm.budget import usage_record
from fleet.content.offline.writer import OfflineWriter
from fleet.content.port import CommentDraft, CommentSeen, PostSeen
from fleet.errors import PermanentError, Skip, TransientError
from fleet.gallery.port import Gallery, GalleryComment
from fleet.honesty.identity_intent import IdentityIntent
from fleet.honesty.truthful_answer import discloses

# The most of the answered comment kept with a reply's text (what a draft shows of it).
ANSWERED_SHOWN = 300


@dataclass(frozen=True, slots=True)
class ReplyNeeds:
    """What a reply needs (built from the kit by ``fleet.actions.handlers.for_reply``)."""

    accounts: Accounts
    writing: Writing
    ledger: Ledger
    gallery: Gallery  # the answered post, the reply, and its comments (an answer lost)
    review_kinds: Collection[str]
    # The comment to answer and its post's id: the one kept on the activity, or a fresh
    # choice among those waiting on the agent (``fleet.actions.reply_choice.choose_comment``).
    choose_comment: Callable[[Claim], tuple[GalleryComment, str]]
    # Whether a person's comment asks what the agent is (keywords, then the embedder).
    identity: IdentityIntent = field(default_factory=lambda: IdentityIntent(None))
    # A reply that opens a speaking session writes the session's plan first
    # (``fleet.actions.engage.plan_session``); None: the agent makes no plans.
    plan_session: Callable[[Claim], object] | None = None
    # People's consent, checked again just before the reply is sent (None: not read).
    consent: ConsentBook | None = None
    # Whether the agent owes this comment's question an answer of its own (not a repeat
    # of its asker's, nor past the day's cap: ``fleet.core.answering.owing``); such a
    # one is answered by the offline writer. None: every question is owed.
    owes: Callable[[Claim, str], bool] | None = None


def handle(needs: ReplyNeeds, claim: Claim, last_attempt: bool) -> Effect:
    ensure_user(needs.accounts, claim)
    content = dict(claim.content)
    if claim.target_post_id is not None and "text" in content:
        # A retry with its reply already written needs no read of the comments.
        return _send(needs, claim, content, claim.target_post_id)
    if needs.plan_session is not None:
        needs.plan_session(claim)  # kept before the comment is chosen: it prefers its plan's
        await_plan(needs.writing, claim)  # a look opened its session: its plan may be coming
    comment, post_id = needs.choose_comment(claim)
    post = seen(needs.gallery.get_post(agent=claim.actor.handle, post_id=post_id))
    asked = None if comment.user_is_agent else needs.identity.check(comment.content)
    answering = CommentSeen(
        comment.id,
        comment.content,
        comment.username,
        comment.user_is_agent,
        asks_identity=asked is not None and asked.asks,
        language=asked.language if asked is not None else "",
    )
    on_post = replace(post, answering=answering)
    if answering.asks_identity:
        if needs.owes is None or needs.owes(claim, comment.id):
            draft = truthful(needs.writing, claim, on_post)
        else:  # a repeat, or past the day's cap: the truth again, at no LLM cost
            draft = offline_truth(needs.writing, claim, on_post)
    else:
        draft = commenting.written(needs.writing, claim, on_post)
    written: dict[str, Any] = {
        "text": draft.text,
        "post_id": post_id,
        "to": comment.username,
        "to_person": not comment.user_is_agent,  # a person answered is a tie (``admirers``)
        # What it answers, clipped: an owner reviewing the draft reads the comment.
        "comment": comment.content[:ANSWERED_SHOWN],
        "title": post.title,
        "post_image": post.image_url,  # what an owner reviewing the draft sees it answers
        **as_content(draft),
    }
    if answering.asks_identity and asked is not None:
        # The ledger's mark of a truthful answer: the audit counts them, and how soon.
        written["identity"] = {
            "asked_at": comment.created_at.isoformat(),
            "how": asked.how,
            "operator": needs.writing.operator,
        }
    content.update(written)
    needs.ledger.save(claim, content=written, usage=usage_record(draft.usage))
    return _send(needs, claim, content, comment.id)


def _send(needs: ReplyNeeds, claim: Claim, content: dict[str, Any], comment_id: str) -> Effect:
    to = content.get("to")
    # The person answered (consent is checked again before it is sent); an agent: None.
    toward = to if content.get("to_person") and isinstance(to, str) and to else None
    result, _ = commenting.publish(
        needs, claim, content["post_id"], content, parent_id=comment_id, toward=toward
    )
    answered = {
        "in_reply_to": comment_id,
        "to": content.get("to"),
        "to_person": bool(content.get("to_person")),
        "title": content.get("title"),
    }
    return {**result, **answered}, (comment_id, "reply")


def truthful(writing: Writing, claim: Claim, post: PostSeen) -> CommentDraft:
    """The agent's truthful answer to ``post.answering``, which asked what it is: the
    writer's (an LLM told the rule and the operator, checked by the guard) when it says
    the account is automated and names the operator, else the offline answer. Never
    skipped: a budget spent, a guard's refusal, a writer down or a false answer all end
    in the offline answer, which costs nothing."""
    assert post.answering is not None
    try:
        draft = commenting.write(writing, claim, post)
    except (Skip, TransientError, PermanentError):
        draft = None
    if draft is not None and discloses(draft.text, writing.operator):
        return draft
    return offline_truth(writing, claim, post)


def offline_truth(writing: Writing, claim: Claim, post: PostSeen) -> CommentDraft:
    """The offline writer's truthful answer to ``post.answering`` (no LLM call), checked
    by the guard for everything but repetition."""
    persona = writing.personas.get(claim.actor.persona)
    author = author_of(writing, claim, about=post)
    draft = OfflineWriter().write_comment(persona, author, post, nonce=nonce(claim))
    text = draft.text
    if writing.guard is not None:
        # Not checked against the agent's recent texts: the truth is said however often
        # it was said before; every other rule holds (a link, a mention, a claim).
        verdict = writing.guard.check(text, allowed_mentions=post.mentionable)
        if not verdict.ok:
            raise Skip(f"content guard refused the truthful answer: {verdict.reason}")
    return draft
