"""A comment on someone else's post, in the agent's voice, published once."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, Protocol

from fleet.actions.common import (
    Accounts,
    Effect,
    Ledger,
    Writing,
    answered_comment_kept,
    answered_post_kept,
    billed,
    charge,
    echo_check,
    ensure_user,
    guarded_author,
    nonce,
    refuse_if_over_budget,
    seen,
    stop_for_review,
)
from fleet.actions.planning import as_content, await_plan, planned_comment, planned_targets
from fleet.activities import Claim
from fleet.consent.book import ConsentBook, still_welcome
from fleet.content.guard.guard import Verdict, guarded_comment
from fleet.content.llm.budget import usage_record
from fleet.content.port import CommentDraft, PostSeen
from fleet.gallery.port import Gallery, GalleryComment, GalleryPost


@dataclass(frozen=True, slots=True)
class CommentNeeds:
    """What a comment needs (built from the kit by ``fleet.actions.handlers.for_comment``)."""

    accounts: Accounts
    writing: Writing
    ledger: Ledger
    gallery: Gallery  # the comment, and the post's comments (an answer lost)
    review_kinds: Collection[str]
    # The post it is for, by the action's kind: the one kept on the activity, or a fresh
    # choice from the feeds (``fleet.actions.choosing.target_of``).
    target: Callable[[Claim, str], GalleryPost]
    # The same choice among the posts its session's plan wrote for, or None when none of
    # them may be chosen (``fleet.actions.choosing.choose_planned``; None: no plans).
    prefer: Callable[[Claim, list[str]], GalleryPost | None] | None = None
    # People's consent, checked again just before the comment is sent (None: not read).
    consent: ConsentBook | None = None


class Publishing(Protocol):
    """What sending a written comment or reply needs (``publish``)."""

    @property
    def gallery(self) -> Gallery: ...

    @property
    def ledger(self) -> Ledger: ...

    @property
    def review_kinds(self) -> Collection[str]: ...

    @property
    def consent(self) -> ConsentBook | None: ...


def handle(needs: CommentNeeds, claim: Claim, last_attempt: bool) -> Effect:
    ensure_user(needs.accounts, claim)
    content = dict(claim.content)
    if claim.target_post_id is not None and "text" in content:
        # A retry with its reply already written needs no read of the post; the post's
        # caption and author (what the live feed names) were kept with the text, and
        # whether the author is a person (a text kept before that was: the post is read).
        author, to_person = content.get("author"), content.get("to_person")
        if to_person is False:
            toward = None
        elif to_person is True and isinstance(author, str) and author:
            toward = author
        else:
            kept = needs.gallery.get_post(agent=claim.actor.handle, post_id=claim.target_post_id)
            toward = None if kept.user_is_agent else kept.username
        result, engagement = publish(needs, claim, claim.target_post_id, content, toward=toward)
        return {**result, **_about(content)}, engagement
    post = None
    if needs.prefer is not None and claim.target_post_id is None:
        await_plan(needs.writing, claim)  # its session's look may not have written it yet
        planned = planned_targets(needs.writing, claim)
        post = needs.prefer(claim, planned) if planned else None
    if post is None:
        post = needs.target(claim, "comment")
    about = {"title": post.title, "author": post.username}
    if "text" not in content:
        draft = written(needs.writing, claim, seen(post))
        content["text"] = draft.text
        needs.ledger.save(
            claim,
            # The post's image too: an owner reviewing the draft sees what it answers; and
            # whether its author is a person (consent is checked again when it is sent).
            content={
                "text": draft.text,
                **about,
                "to_person": not post.user_is_agent,
                "post_image": post.image_url,
                **as_content(draft),
            },
            usage=usage_record(draft.usage),
        )
    toward = None if post.user_is_agent else post.username
    result, engagement = publish(needs, claim, post.id, content, toward=toward)
    return {**result, **about}, engagement


def _about(content: dict[str, Any]) -> dict[str, Any]:
    """The commented post's caption and author, as kept with the comment's text."""
    return {key: content[key] for key in ("title", "author") if content.get(key)}


def written(writing: Writing, claim: Claim, post: PostSeen) -> CommentDraft:
    """The comment on ``post`` (a reply when ``post.answering`` is set): its session plan's
    text when the guard accepts it, else the agent's own (the refused planned text its
    first draft)."""
    # A writer that makes no plans (the offline writer) is asked for none.
    planned = planned_comment(writing, claim, post) if writing.plans else None
    if planned is not None and planned[1].ok:
        return planned[0]
    return write(writing, claim, post, first=planned)


def write(
    writing: Writing,
    claim: Claim,
    post: PostSeen,
    *,
    first: tuple[CommentDraft, Verdict] | None = None,
) -> CommentDraft:
    """The agent's comment on ``post`` (a reply when ``post.answering`` is set), within the
    LLM budget, through the guard when there is one; what it cost is charged. ``first``:
    a planned text the guard refused, the first of its drafts (``write_guarded``)."""
    refuse_if_over_budget(writing, claim)
    persona = writing.personas.get(claim.actor.persona)
    author, fleet = guarded_author(writing, claim, about=post)
    with billed(writing.billing, claim):
        if writing.guard is not None:
            draft = guarded_comment(
                writing.writer,
                writing.guard,
                persona,
                author,
                post,
                nonce=nonce(claim),
                fleet_recent=fleet,
                # Replies too (issue 54): 95 % of them were near-duplicates unchecked.
                # Their threshold is calibrated on people's replies (bench.reply_echo).
                echo=echo_check(writing, claim, reply=post.answering is not None),
                first=first,
            )
        else:
            draft = writing.writer.write_comment(persona, author, post, nonce=nonce(claim))
    charge(writing.billing, claim, draft.usage)
    return draft


def publish(
    needs: Publishing,
    claim: Claim,
    post_id: str,
    content: dict[str, Any],
    *,
    parent_id: str | None = None,
    toward: str | None = None,
) -> Effect:
    """Send the stored text as a comment on ``post_id`` (a reply to ``parent_id``), once:
    after a lost answer, the comment is looked for before it is sent again. Under review,
    it stops here, written (``UnderReview``). Before it is sent, the person it goes to
    (``toward``: the post's or the answered comment's author, None for an agent) must
    still let the agent do it (``still_welcome``): a draft approved, or a retry after a
    long wait, goes out by their say of now, or ends skipped with the reason."""
    stop_for_review(needs.review_kinds, claim, content)
    handle = claim.actor.handle
    if content.get("commenting"):
        existing = sent_before(needs.gallery, handle, post_id, content["text"])
        if existing is not None:
            return (
                {
                    "post_id": post_id,
                    "comment_id": existing.id,
                    "recovered": True,
                    "text": content["text"],
                },
                (post_id, "comment"),
            )
    still_welcome(needs.consent, claim, claim.action, toward)
    if not content.get("commenting"):
        needs.ledger.save(claim, content={"commenting": True})
    with answered_post_kept(content), answered_comment_kept(needs, handle, post_id, parent_id):
        made = needs.gallery.comment(
            agent=handle,
            post_id=post_id,
            content=content["text"],
            idempotency_key=claim.key.text,
            parent_id=parent_id,
        )
    return {"post_id": post_id, "comment_id": made.id, "text": content["text"]}, (
        post_id,
        "comment",
    )


# The look for a comment an earlier attempt may have made reads at most this many pages
# of the post's comments (of ``LOOK_PAGE``): 2,000 comments, the newest first.
LOOK_PAGE = 100
LOOK_PAGES = 20


def sent_before(gallery: Gallery, handle: str, post_id: str, text: str) -> GalleryComment | None:
    """The agent's comment ``text`` on the post, if an earlier attempt made it (its answer
    lost): looked for on every page of the comments up to ``LOOK_PAGES``, newest first.

    The first page first (a short thread is read whole; a gallery that lists the newest
    first shows it there); past it, the post's comment count says where the newest page
    is, and the look goes back from there. A gallery that ignores ``Idempotency-Key``
    would otherwise get the comment twice on any post with more than a page of them."""

    def found(page: list[GalleryComment]) -> GalleryComment | None:
        return next((c for c in page if c.username == handle and c.content == text), None)

    first = gallery.comments(agent=handle, post_id=post_id, limit=LOOK_PAGE)
    mine = found(first)
    if mine is not None or len(first) < LOOK_PAGE:
        return mine
    count = gallery.get_post(agent=handle, post_id=post_id).comment_count
    # From the newest page back to the second (the first is read), then on past the count
    # (comments made since, or a count that says too few), within the cap.
    newest = max(LOOK_PAGE, count - LOOK_PAGE)
    offsets = [*range(newest, LOOK_PAGE, -LOOK_PAGE), LOOK_PAGE]
    offsets += range(newest + LOOK_PAGE, newest + LOOK_PAGE * LOOK_PAGES, LOOK_PAGE)
    for offset in offsets[: LOOK_PAGES - 1]:
        page = gallery.comments(agent=handle, post_id=post_id, limit=LOOK_PAGE, offset=offset)
        mine = found(page)
        if mine is not None:
            return mine
        if offset > newest and len(page) < LOOK_PAGE:
            return None  # past the newest page: the end of the thread
    return None
