"""A post: a caption written, an image rendered, the post published, once."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Literal

from fleet.actions.common import (
    Accounts,
    Effect,
    Ledger,
    Writing,
    billed,
    charge,
    echo_check,
    ensure_user,
    guarded_author,
    nonce,
    refuse_if_over_budget,
    stop_for_review,
)
from fleet.actions.planning import as_content, await_plan, planned_post
from fleet.activities import Claim
from fleet.content.guard.guard import guarded_post
from fleet.content.llm.budget import usage_record
from fleet.content.port import PostDraft
from fleet.core.persona import Persona
from fleet.errors import Deferred, PermanentError, Skip, TransientError
from fleet.gallery.port import Gallery, GalleryPost
from fleet.gallery.provenance import ProvenanceCheck


@dataclass(frozen=True, slots=True)
class PostNeeds:
    """What a post needs (built from the kit by ``fleet.actions.handlers.for_post``)."""

    accounts: Accounts
    writing: Writing  # the caption and the image prompt
    ledger: Ledger
    gallery: Gallery  # the image, the post, and its own posts (an answer lost)
    review_kinds: Collection[str]
    image_fallback: Literal["placeholder", "skip"]
    placeholder_image_url: str
    # The image's provenance marks, checked once before it is published (None: unchecked).
    provenance: ProvenanceCheck | None = None
    provenance_required: bool = True


def handle(needs: PostNeeds, claim: Claim, last_attempt: bool) -> Effect:
    ensure_user(needs.accounts, claim)
    writing = needs.writing
    persona = writing.personas.get(claim.actor.persona)
    content = dict(claim.content)
    if "title" not in content:
        draft = None
        if writing.plans:  # a writer that makes none (the offline writer) is asked for none
            await_plan(writing, claim)  # its session's look may not have written it yet
            draft = planned_post(writing, claim)
        draft = draft or _write(writing, claim, persona)
        content.update(
            image_prompt=draft.image_prompt,
            style=draft.style,
            title=draft.title,
            description=draft.description,
            **as_content(draft),
        )
        needs.ledger.save(claim, content=content, usage=usage_record(draft.usage))
    handle = claim.actor.handle
    if "image_url" not in content:
        content["image_url"] = _image(needs, claim, content, last_attempt)
        needs.ledger.save(claim, content={"image_url": content["image_url"]})
    if needs.provenance is not None and "provenance" not in content:
        # Once per image: the record is kept, and a retried post never fetches it again.
        content["provenance"] = needs.provenance.check(content["image_url"], handle)
        needs.ledger.save(claim, content={"provenance": content["provenance"]})
    checked = content.get("provenance")
    if needs.provenance_required and isinstance(checked, dict) and not checked.get("ok"):
        raise Skip(f"no provenance: {str(checked.get('reason', ''))[:200]}")
    stop_for_review(needs.review_kinds, claim, content)
    if content.get("posting"):
        # An earlier delivery may have posted and lost the answer: look before posting.
        found = _find_own_post(needs.gallery, handle, content["image_url"])
        if found is not None:
            recovered = {"post_id": found.id, "recovered": True, "title": content["title"]}
            return {**recovered, "description": content["description"]}, None
    else:
        needs.ledger.save(claim, content={"posting": True})
    post = needs.gallery.create_post(
        agent=handle,
        image_url=content["image_url"],
        title=content["title"],
        description=content["description"],
        idempotency_key=claim.key.text,
    )
    made = {"post_id": post.id, "image_url": post.image_url, "title": content["title"]}
    return {**made, "description": content["description"]}, None


def _write(writing: Writing, claim: Claim, persona: Persona) -> PostDraft:
    """The post's own call (no plan, or its plan's post refused), within the budget and
    through the guard; what it cost is charged."""
    refuse_if_over_budget(writing, claim)
    author, fleet = guarded_author(writing, claim)
    with billed(writing.billing, claim):
        if writing.guard is not None:
            draft = guarded_post(
                writing.writer,
                writing.guard,
                persona,
                author,
                nonce=nonce(claim),
                fleet_recent=fleet,
                echo=echo_check(writing, claim),
            )
        else:
            draft = writing.writer.write_post(persona, author, nonce=nonce(claim))
    charge(writing.billing, claim, draft.usage)
    return draft


def _image(needs: PostNeeds, claim: Claim, content: dict[str, Any], last_attempt: bool) -> str:
    try:
        return needs.gallery.generate_image(
            agent=claim.actor.handle,
            prompt=content["image_prompt"],
            style=content["style"],
            persona=claim.actor.persona,
            # One key per kind of call: the workflow run and the post are two effects.
            idempotency_key=f"{claim.key.text}:image",
        )
    except (PermanentError, TransientError) as exc:
        # A budget or pause answer (Deferred) is a TransientError too, but it never falls back.
        if isinstance(exc, Deferred):
            raise
        if isinstance(exc, TransientError) and not last_attempt:
            raise
        if needs.image_fallback == "skip" or not needs.placeholder_image_url:
            raise Skip(f"image workflow failed ({exc}); image fallback is skip") from exc
        return needs.placeholder_image_url


def _find_own_post(gallery: Gallery, handle: str, image_url: str) -> GalleryPost | None:
    for page in range(3):
        posts = gallery.feed(agent=handle, limit=50, offset=page * 50, sort="recent")
        for post in posts:
            if post.username == handle and post.image_url == image_url:
                return post
        if len(posts) < 50:
            break
    return None
