"""A like's reaction: chosen by the post's words from the gallery's reactions, bounded, sent once.

Seed 002 lets one scan of the feed react at most five times; a session lasts minutes, so
the bound is ``REACTIONS_PER_SESSION`` an hour. On a gallery whose only reaction is the
favourite (Mastodon, Takahē) no reaction is sent: the like is the favourite there.
"""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from fleet.activities import Claim
from fleet.activities.follows import reactions_since
from fleet.core.follows import REACTIONS_PER_SESSION, choose_reaction
from fleet.errors import FleetError
from fleet.gallery.port import Gallery, GalleryPost
from fleet.infra.logs import get_logger

log = get_logger(__name__)


def react(
    gallery: Gallery,
    sessions: sessionmaker[Session],
    claim: Claim,
    post: GalleryPost,
) -> str | None:
    """The reaction sent beside the like of ``post`` (its own key), or None: none cued,
    the gallery offers none, or the agent reacted ``REACTIONS_PER_SESSION`` times this
    hour. A reaction the gallery refuses or fails is logged and left: the like stands."""
    rng = random.Random(f"{claim.actor.seed}:{claim.key.text}:react")
    try:
        offered = gallery.reactions()
        reaction = choose_reaction(f"{post.title}. {post.description}", None, offered, rng)
        if reaction is None:
            return None
        since = claim.due_at - timedelta(hours=1)
        if reactions_since(sessions, claim.actor.id, since) >= REACTIONS_PER_SESSION:
            return None
        gallery.react(
            agent=claim.actor.handle,
            post_id=post.id,
            reaction=reaction,
            idempotency_key=f"{claim.key.text}:react",
        )
    except FleetError as error:
        log.info("reaction not sent", key=claim.key, reason=str(error)[:200])
        return None
    return reaction
