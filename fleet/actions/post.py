"""A post: a caption written, an image rendered, the post published, once."""

from __future__ import annotations

from typing import Any

from fleet import activities
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
)
from fleet.actions.kit import ActionKit
from fleet.actions.review import stop_for_review
from fleet.activities import Claim
from fleet.content.budget import usage_record
from fleet.content.guard import guarded_post
from fleet.errors import Deferred, PermanentError, Skip, TransientError
from fleet.gallery.port import GalleryPost


def handle(kit: ActionKit, claim: Claim, last_attempt: bool) -> Handled:
    ensure_user(kit, claim)
    persona = kit.personas.get(claim.actor.persona)
    content = dict(claim.content)
    if "title" not in content:
        refuse_if_over_budget(kit, claim)
        author = author_of(kit, claim)
        with billed(kit, claim):
            if kit.guard is not None:
                draft = guarded_post(
                    kit.writer,
                    kit.guard,
                    persona,
                    author,
                    nonce=nonce(claim),
                    fleet_recent=fleet_recent(kit),
                    echo=echo_check(kit, claim),
                )
            else:
                draft = kit.writer.write_post(persona, author, nonce=nonce(claim))
        charge(kit, claim, draft.usage)
        content.update(
            image_prompt=draft.image_prompt,
            style=draft.style,
            title=draft.title,
            description=draft.description,
        )
        activities.save_progress(
            kit.sessions, claim.id, now=kit.now(), content=content, usage=usage_record(draft.usage)
        )
    handle = claim.actor.handle
    if "image_url" not in content:
        content["image_url"] = _image(kit, claim, content, last_attempt)
        activities.save_progress(
            kit.sessions, claim.id, now=kit.now(), content={"image_url": content["image_url"]}
        )
    stop_for_review(kit, claim, content)
    if content.get("posting"):
        # An earlier delivery may have posted and lost the answer: look before posting.
        found = _find_own_post(kit, handle, content["image_url"])
        if found is not None:
            recovered = {"post_id": found.id, "recovered": True, "title": content["title"]}
            return {**recovered, "description": content["description"]}, None
    else:
        activities.save_progress(kit.sessions, claim.id, now=kit.now(), content={"posting": True})
    post = kit.gallery.create_post(
        agent=handle,
        image_url=content["image_url"],
        title=content["title"],
        description=content["description"],
        idempotency_key=claim.key,
    )
    made = {"post_id": post.id, "image_url": post.image_url, "title": content["title"]}
    return {**made, "description": content["description"]}, None


def _image(kit: ActionKit, claim: Claim, content: dict[str, Any], last_attempt: bool) -> str:
    try:
        return kit.gallery.generate_image(
            agent=claim.actor.handle,
            prompt=content["image_prompt"],
            style=content["style"],
            persona=claim.actor.persona,
            # One key per kind of call: the workflow run and the post are two effects.
            idempotency_key=f"{claim.key}:image",
        )
    except (PermanentError, TransientError) as exc:
        # A budget or pause answer (Deferred) is a TransientError too, but it never falls back.
        if isinstance(exc, Deferred):
            raise
        if isinstance(exc, TransientError) and not last_attempt:
            raise
        if kit.image_fallback == "skip" or not kit.placeholder_image_url:
            raise Skip(f"image workflow failed ({exc}); image fallback is skip") from exc
        return kit.placeholder_image_url


def _find_own_post(kit: ActionKit, handle: str, image_url: str) -> GalleryPost | None:
    for page in range(3):
        posts = kit.gallery.feed(agent=handle, limit=50, offset=page * 50, sort="recent")
        for post in posts:
            if post.username == handle and post.image_url == image_url:
                return post
        if len(posts) < 50:
            break
    return None
