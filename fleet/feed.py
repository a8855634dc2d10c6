"""The feed as actions see it: a page shared for a few seconds, and the post a like or a
comment goes to.

The choice itself is pure (``fleet.core.targets``); keeping it, against the engagement
ledger, is the activities' (``fleet.activities.targets``). Here the two meet the gallery.
"""

from __future__ import annotations

import random
import threading
import time
from datetime import timedelta
from typing import TYPE_CHECKING

from fleet import activities
from fleet.activities import Claim
from fleet.core.targets import Candidate, choose_target
from fleet.errors import Deferred, Skip, TransientError
from fleet.gallery.port import GalleryPost

if TYPE_CHECKING:
    from fleet.actions import ActionKit


def target_of(kit: ActionKit, claim: Claim, kind: str) -> GalleryPost:
    """The post this like or comment is for: the stored one, or a fresh choice from the feed."""
    handle = claim.actor.handle
    if claim.target_post_id is not None:
        return kit.gallery.get_post(agent=handle, post_id=claim.target_post_id)
    return choose_post(kit, claim, kind)


class FeedSnapshot:
    """The newest feed page, shared by this process's target choices for a few seconds.

    Choosing whom to like or answer does not need a feed read per action: the ledger
    (who engaged with what) is read fresh each time, the page of candidates may be a
    moment old. When reading a new page fails for a passing reason, a page up to
    ``STALE_ON_ERROR_SECONDS`` old serves instead: the action then depends on one
    gallery call, its own. Browsing always reads the feed itself.
    """

    STALE_ON_ERROR_SECONDS = 60.0

    def __init__(self, ttl_seconds: float) -> None:
        self._ttl = ttl_seconds
        self._page: list[GalleryPost] = []
        self._taken = -1e18
        self._lock = threading.Lock()

    def _held(self) -> tuple[list[GalleryPost], float]:
        with self._lock:
            return self._page, time.monotonic() - self._taken

    def fresh(self) -> list[GalleryPost] | None:
        """The page, if it is young enough to use without reading the feed."""
        page, age = self._held()
        return page if age < self._ttl else None

    def page(self, kit: ActionKit, agent: str) -> list[GalleryPost]:
        page, age = self._held()
        if age < self._ttl:
            return page
        try:
            page = kit.gallery.feed(agent=agent, limit=kit.settings.feed_page_size, sort="recent")
        except TransientError as error:
            # A budget or pause answer is the gallery speaking: it stands.
            if isinstance(error, Deferred) or age >= self.STALE_ON_ERROR_SECONDS:
                raise
            return page
        with self._lock:
            self._page, self._taken = page, time.monotonic()
        return page


def chooser(
    kit: ActionKit, feed: list[GalleryPost], rng: random.Random, me: str = ""
) -> activities.Chooser:
    """The choice among the feed's posts of an agent (``me``: its handle, if known)."""
    candidates = [Candidate(p.id, p.username, p.user_is_agent) for p in feed]

    def choose(done: set[str], recent: dict[str, int]) -> str | None:
        chosen = choose_target(
            candidates,
            me=me,
            already=done,
            recent_bot_engagements=recent,
            cap_per_hour=kit.settings.bot_engagements_per_post_per_hour,
            human_share=kit.settings.human_share,
            rng=rng,
        )
        return None if chosen is None else chosen.post_id

    return choose


def first_choice(kit: ActionKit, key: str) -> activities.FirstChoice | None:
    """For a like, with a young feed page at hand: a post chosen knowing nothing, not even
    who likes, for the claim to keep if it is open to the agent and not its own.

    Like the first choice ``activities.keep_target`` makes after a claim, made before it
    instead: a like then costs one statement fewer. A draw kept only when it is open (a
    refused one is followed by a choice that knows the ledger) is still a draw among the
    open posts.
    """
    feed = kit.feed_snapshot.fresh()
    if not key.endswith(":like") or not feed:
        return None
    post_id = chooser(kit, feed, random.Random(f"first:{key}"))(set(), {})
    post = next((p for p in feed if p.id == post_id), None)
    if post is None:
        return None
    return activities.FirstChoice(
        post.id,
        post.username,
        "like",
        kit.settings.bot_engagements_per_post_per_hour,
        since=kit.now() - timedelta(hours=1),
    )


def choose_post(kit: ActionKit, claim: Claim, kind: str) -> GalleryPost:
    """A post for this like or comment from the feed, kept on the activity as its target
    (so that a retry acts on the same one)."""
    handle = claim.actor.handle
    feed = kit.feed_snapshot.page(kit, handle)
    now = kit.now()
    kept = activities.keep_target(
        kit.sessions,
        claim.id,
        claim.actor.id,
        kind,
        [p.id for p in feed],
        chooser(kit, feed, random.Random(f"{claim.actor.seed}:{claim.key}"), me=handle),
        cap_per_hour=kit.settings.bot_engagements_per_post_per_hour,
        since=now - timedelta(hours=1),
        now=now,
        first_tried=claim.first_choice_refused,
    )
    if kept.ended:
        raise Skip("the action ended while its target was being chosen")
    if kept.post_id is None:
        raise Skip(f"nothing to {kind}: no post in the feed is open to this agent")
    found = next((p for p in feed if p.id == kept.post_id), None)
    return found or kit.gallery.get_post(agent=handle, post_id=kept.post_id)
