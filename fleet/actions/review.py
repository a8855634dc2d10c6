"""Review mode in the actions: a content action of an agent under review stops at its draft.

The handler writes its text and image and keeps them on the activity as always, then
asks ``stop_for_review`` before its gallery call. Under review, that raises
``UnderReview``; ``perform`` turns the activity ``awaiting_review`` and records the draft
(``fleet.activities.drafts``). An approval sends the same activity again, marked
approved: the same handler finds its text kept, passes this check and publishes, with the
same key, as a retry would.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, Protocol

from fleet.actions.kit import ActionKit
from fleet.activities import Claim
from fleet.activities.drafts import APPROVED, hold_for_review, rival_draft
from fleet.errors import Skip, UnderReview
from fleet.gallery.port import Gallery
from fleet.gallery.wire import GalleryRefused

# Marks of a delivery that may have reached the gallery (its answer lost): such an action
# is finished, looking before it acts, never held back as a draft.
_UNDER_WAY = ("posting", "commenting")


def stop_for_review(kinds: Collection[str], claim: Claim, content: dict[str, Any]) -> None:
    """Raise ``UnderReview`` if this action is to wait for an owner: its agent is under
    review, its kind is among the reviewed ``kinds`` (``ReviewSettings.kinds``), and it
    was neither approved nor begun on the gallery."""
    if not claim.actor.review or claim.action not in kinds:
        return
    if content.get(APPROVED) or any(content.get(mark) for mark in _UNDER_WAY):
        return
    raise UnderReview(f"{claim.action} of {claim.actor.handle} waits for review")


def rival(kit: ActionKit, claim: Claim) -> int | None:
    """Another open draft of this agent answering the same post (its id), or None."""
    if claim.action == "post":
        return None
    return rival_draft(kit.sessions, claim.id)


def hold(kit: ActionKit, claim: Claim) -> int | None:
    """Stop the claimed activity at its draft; the draft's id (None: it had ended)."""
    now = kit.now()
    expires = now + timedelta(hours=kit.authorship.publishing.review.expires_hours)
    return hold_for_review(kit.sessions, claim.id, now=now, expires_at=expires)


class _Comments(Protocol):
    @property
    def gallery(self) -> Gallery: ...


@contextmanager
def answered_comment_kept(
    needs: _Comments, handle: str, post_id: str, parent_id: str | None
) -> Iterator[None]:
    """Around a reply's gallery call: the comment it answers may have been deleted
    meanwhile (while its draft waited for review, say), and the gallery then refuses the
    reply (422: no such parent). If the comment is no longer on the post, the reply ends
    skipped, saying so, not dead."""
    try:
        yield
    except GalleryRefused as refused:
        if parent_id is None or refused.status not in (404, 422):
            raise
        try:
            there = needs.gallery.comments(agent=handle, post_id=post_id, limit=100)
        except GalleryRefused:
            raise refused from None
        if any(comment.id == parent_id for comment in there):
            raise
        raise Skip("the comment it answers was deleted") from None


@contextmanager
def answered_post_kept(content: dict[str, Any]) -> Iterator[None]:
    """Around an approved comment's gallery call: the post it answers may have been
    deleted while it waited for review; it then ends skipped, saying so."""
    try:
        yield
    except GalleryRefused as refused:
        if refused.status == 404 and content.get(APPROVED):
            raise Skip("the post it answers was deleted while it waited for review") from None
        raise
