"""A follow: the account an agent follows (or, rarely, unfollows) chosen and followed once.

The choice reads the accounts the agent saw (the feed's page, as its likes see it, with
the fit of their posts to its interests) and its followers; people's say
(``ConsentBook``, the action "follow"), the newcomer holdout (``HoldoutView``) and the
ledger (whom it ever followed: never again) leave accounts out before the policy
(``fleet.core.follows``) draws one; an account its session's plan proposed from the page
it saw (``actions.planning.planned_follows_of``) is taken first. The account is kept on
the activity as its target (``activities.keep_target``), so a retry or an approved draft
follows the same one, after its person's say is read again.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fleet import activities, agents
from fleet.actions.choice_needs import Choosing
from fleet.actions.choosing import page_candidates
from fleet.actions.common import Accounts, Effect, ensure_user, seen, stop_for_review
from fleet.actions.planning import planned_follows_of
from fleet.activities import Claim
from fleet.activities.follows import follows_of
from fleet.consent.book import still_welcome
from fleet.content.port import PostSeen
from fleet.core.follows import (
    NEWCOMER_POST_HOURS,
    UNFOLLOW_AFTER_DAYS,
    Account,
    FollowKept,
    FollowPolicy,
    blend_feeds,
    choose_followee,
    choose_unfollow,
    planned_follows,
)
from fleet.errors import Skip
from fleet.gallery.port import Gallery, GalleryPost, GalleryUser

# Followers read per follow (the newest): whom it may follow back.
FOLLOWERS_READ = 100


@dataclass(frozen=True, slots=True)
class FollowNeeds:
    """What a follow needs (built from the kit by ``fleet.actions.handlers.for_follow``)."""

    accounts: Accounts
    gallery: Gallery  # the follow, the followers
    review_kinds: Collection[str]
    choosing: Choosing
    policy: FollowPolicy = field(default_factory=FollowPolicy)


def follow(needs: FollowNeeds, claim: Claim, last_attempt: bool) -> Effect:
    """Follow the account the policy chose (kept on the activity), or unfollow one rarely."""
    ensure_user(needs.accounts, claim)
    me = claim.actor.handle
    rng = random.Random(f"{claim.actor.seed}:{claim.key.text}:follow")
    if claim.content.get("unfollow"):
        return _unfollow(needs, claim, str(claim.content["unfollow"]))
    handle = claim.target_post_id
    if handle is None:
        gone = _stale_follow(needs, claim, rng)
        if gone is not None:
            activities.save_progress(
                needs.choosing.sessions,
                claim.id,
                now=needs.choosing.now(),
                content={"unfollow": gone},
            )
            return _unfollow(needs, claim, gone)
        handle = _choose(needs, claim, rng)
    # An agent's handle is nobody's say (None). Kept by an earlier delivery (a retry, an
    # approved draft), the account's say is read again: it may have changed since.
    is_agent = _is_agent(needs, handle)
    if claim.target_post_id is not None:
        still_welcome(needs.choosing.consent, claim, "follow", None if is_agent else handle)
    stop_for_review(needs.review_kinds, claim, claim.content)
    done = needs.gallery.follow(agent=me, handle=handle, idempotency_key=claim.key.text)
    result: dict[str, Any] = {
        "person": handle,
        "person_is_agent": is_agent,
        "following": done.following,
        "requested": done.requested,
    }
    if done.followers is not None:
        result["followers"] = done.followers
    return result, (handle, "follow")


def _unfollow(needs: FollowNeeds, claim: Claim, handle: str) -> Effect:
    done = needs.gallery.unfollow(
        agent=claim.actor.handle, handle=handle, idempotency_key=f"{claim.key.text}:unfollow"
    )
    return {"person": handle, "unfollowed": not done.following}, (handle, "unfollow")


def _is_agent(needs: FollowNeeds, handle: str) -> bool:
    return bool(agents.fleet_handles(needs.choosing.sessions, [handle]))


def _stale_follow(needs: FollowNeeds, claim: Claim, rng: random.Random) -> str | None:
    """Rarely, an account the agent followed long ago that never followed back."""
    mine = follows_of(needs.choosing.sessions, claim.actor.id)
    if not mine:
        return None
    now = needs.choosing.now()
    old = {h: at for h, at in mine.items() if now - at >= timedelta(days=UNFOLLOW_AFTER_DAYS)}
    if not old:
        return None
    back = {u.username for u in _followers(needs, claim.actor.handle)}
    followed = [
        FollowKept(h, (now - at).total_seconds() / 86_400, h in back) for h, at in old.items()
    ]
    return choose_unfollow(followed, rng=rng)


def _followers(needs: FollowNeeds, handle: str) -> list[GalleryUser]:
    return needs.gallery.followers(agent=handle, handle=handle, limit=FOLLOWERS_READ)


def seen_accounts(
    needs: FollowNeeds, claim: Claim, page: Sequence[GalleryPost], followers: Sequence[GalleryUser]
) -> list[Account]:
    """The accounts of the page's posts (their best fit to the agent's interests, the
    likes they got) and its followers, those people's say and the holdout leave open."""
    choosing = needs.choosing
    me = claim.actor.handle
    if choosing.interests is not None:
        choosing.interests.learn(claim.actor.id, claim.actor.persona)
    found: dict[str, Account] = {}
    for c in page_candidates(choosing, list(page), claim.actor.persona, kind="follow"):
        was = found.get(c.author)
        fit = c.similarity
        if was is not None and was.fit is not None:
            fit = was.fit if fit is None else max(fit, was.fit)
        found[c.author] = Account(
            c.author,
            c.author_id,
            c.author_is_agent,
            fit=fit,
            likes=c.likes + (was.likes if was else 0),
            newcomer=not c.author_is_agent,
            new_post=(was is not None and was.new_post)
            or (not c.author_is_agent and c.age_seconds < NEWCOMER_POST_HOURS * 3600),
        )
    for user in followers:
        was = found.get(user.username)
        found[user.username] = Account(
            user.username,
            user.id,
            user.is_agent,
            fit=was.fit if was else None,
            likes=was.likes if was else 0,
            follows_me=True,
            newcomer=not user.is_agent,
            new_post=was.new_post if was else False,
        )
    accounts = [a for h, a in found.items() if h != me]
    if choosing.consent is not None:
        accounts = list(
            choosing.consent.admit(
                accounts, me, "follow", lambda a: None if a.is_agent else a.handle
            )
        )
    if choosing.holdout is not None:
        spared = choosing.holdout.spared()
        accounts = [a for a in accounts if a.is_agent or not spared.spares(a.user_id)]
    return accounts


def _choose(needs: FollowNeeds, claim: Claim, rng: random.Random) -> str:
    """The account this follow is for, kept on the activity; Skip when none is open."""
    choosing = needs.choosing
    me = claim.actor.handle
    page = choosing.feed_snapshot.page(choosing, me)
    accounts = seen_accounts(needs, claim, page, _followers(needs, me))
    by_handle = {a.handle: a for a in accounts}
    # The follows its session's plan proposed from the page it saw (at most two a scan),
    # of the accounts still open to it.
    planned = planned_follows(planned_follows_of(choosing.sessions, claim), by_handle, me)
    now = choosing.now()

    def choose(done: set[str], recent: dict[str, int]) -> str | None:
        for handle in planned:  # the session's plan proposed it, from the feed it saw
            if handle not in done and recent.get(handle, 0) < needs.policy.newcomer_cap:
                return handle
        open_ = [
            Account(**{**_fields(a), "agents_today": recent.get(a.handle, 0)}) for a in accounts
        ]
        chosen = choose_followee(open_, me=me, done=done, rng=rng, policy=needs.policy)
        return None if chosen is None else chosen.handle

    kept = activities.keep_target(
        choosing.sessions,
        claim.id,
        claim.actor.id,
        "follow",
        list(by_handle),
        choose,
        # No account is followed by more than the cap of agents in a day (a newcomer's
        # first day is not crowded): the ledger counts the fleet's follows of each.
        cap_per_hour=needs.policy.newcomer_cap,
        since=now - timedelta(days=1),
        now=now,
    )
    if kept.ended:
        raise Skip("the action ended while its target was being chosen")
    if kept.post_id is None:
        raise Skip(
            "nobody to follow: no account it saw fits its taste, "
            "or those that do it follows already or have enough followers from the fleet today"
        )
    return kept.post_id


def _fields(account: Account) -> dict[str, Any]:
    return {name: getattr(account, name) for name in Account.__dataclass_fields__}


class PublicPage:
    """The public feed's newest page, read once for the looks of one delivery.

    The looks of a batch happen at the same moment, and the public feed is the same page
    for each of them (whom an agent follows is its home feed's, read by each look; its
    own posts each look leaves out): the first look reads it, as its agent, and the
    others read the same answer. A read that fails is not kept: the next look reads
    again, as it would have alone."""

    def __init__(self, gallery: Gallery, size: int) -> None:
        self._gallery = gallery
        self._size = size
        self._page: list[GalleryPost] | None = None
        self._lock = threading.Lock()

    def read(self, agent: str) -> list[GalleryPost]:
        with self._lock:  # the others wait for the first read rather than make their own
            if self._page is None:
                self._page = self._gallery.feed(agent=agent, limit=self._size, sort="recent")
            return self._page


def home_page(
    gallery: Gallery,
    agent: str,
    size: int,
    share: float,
    rng: random.Random,
    public: Sequence[GalleryPost] | None = None,
) -> list[PostSeen]:
    """The page a look reads: the public feed's newest (``public``, the delivery's when
    given, else read now) and the home feed's (whom the agent follows), each place from
    home with ``share``'s chance (``blend_feeds``), its own posts left out. A share of 0
    reads the public feed alone, as before follows."""
    if public is None:
        public = gallery.feed(agent=agent, limit=size, sort="recent")
    home = gallery.home_feed(agent=agent, limit=size) if share > 0 else []
    posts = {p.id: p for p in [*home, *public]}
    order = blend_feeds([p.id for p in public], [p.id for p in home], share, rng, size)
    return [seen(posts[i]) for i in order if posts[i].username != agent]
