"""The cheap kinds: a like of someone else's post, a look at the feed (with a thought when
it opens a session that says something)."""

from __future__ import annotations

import random
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from fleet.actions.common import (
    Accounts,
    Billing,
    Effect,
    Writing,
    billed,
    ensure_user,
    keep_spent_at_end,
    nonce,
    plain_author,
    seen,
    stop_for_review,
)
from fleet.actions.feed_snapshot import FeedSnapshot
from fleet.actions.following import PublicPage, home_page
from fleet.actions.planning import make_plan, says, session_of
from fleet.actions.reacting import react
from fleet.activities import Claim
from fleet.activities.plans import plan_of
from fleet.consent.book import ConsentBook, still_welcome
from fleet.content.llm.planning import page_shown
from fleet.content.port import ContentWriter, PostSeen, SessionPlan
from fleet.gallery.port import Gallery, GalleryPost
from fleet.infra.persona_files import PersonaCatalogue


@dataclass(frozen=True, slots=True)
class LikeNeeds:
    """What a like needs (built from the kit by ``fleet.actions.handlers.for_like``)."""

    accounts: Accounts
    gallery: Gallery  # the like
    review_kinds: Collection[str]
    # A post for the action's kind from the feeds, kept on the activity as its target
    # (``fleet.actions.choosing.choose_post``).
    choose_post: Callable[[Claim, str], GalleryPost]
    # The shared page: what the live feed says of a post chosen before the claim.
    feed_snapshot: FeedSnapshot
    # People's consent, checked again before a kept target is liked (None: not read).
    consent: ConsentBook | None = None
    # Whether a like may carry a reaction its post's words cue (FLEET_ACTIONS__REACTIONS).
    reactions: bool = False


@dataclass(frozen=True, slots=True)
class BrowseNeeds:
    """What a look at the feed needs (built from the kit by ``actions.handlers.for_browse``)."""

    accounts: Accounts
    gallery: Gallery  # the feed
    page_size: int
    personas: PersonaCatalogue
    writer: ContentWriter  # the thought of a speaking session's opening look
    billing: Billing
    # A speaking session's plan (``fleet.actions.planning``): the agent as a writer, the
    # comments it may answer, and the posts its comments would choose (None: no plans, a
    # thought as before).
    writing: Writing | None = None
    answerable: Callable[[Claim], list[PostSeen]] | None = None
    likely: Callable[[Claim, int], list[GalleryPost]] | None = None
    # The share of the page read from the home feed, whom the agent follows
    # (``FLEET_ACTIONS__HOME_FEED_SHARE``; ``fleet.actions.following.home_page``).
    home_share: float = 0.0
    # The public feed's page the delivery's looks read once (None: each look reads it).
    public: PublicPage | None = None


def like(needs: LikeNeeds, claim: Claim, last_attempt: bool) -> Effect:
    ensure_user(needs.accounts, claim)
    # A retry, or a claim that kept its first choice, knows its target already.
    post = None if claim.target_post_id else needs.choose_post(claim, "like")
    post_id = claim.target_post_id or post.id  # type: ignore[union-attr]
    # Under review for likes too (FLEET_REVIEW__KINDS): its post chosen and kept, it waits.
    stop_for_review(needs.review_kinds, claim, claim.content)
    # What the live feed shows: the post's caption, author and picture, when the page it
    # was chosen from has it.
    known = post or needs.feed_snapshot.shown(post_id)
    if post is None and needs.consent is not None:
        # A kept target (a first choice, a like approved, a retry after a wait): its author
        # must still let the agent like it. The page at hand names them, else the post.
        if known is None:
            known = needs.gallery.get_post(agent=claim.actor.handle, post_id=post_id)
        if not known.user_is_agent:  # an agent's post: no person has a say
            still_welcome(needs.consent, claim, "like", known.username)
    liked = needs.gallery.like(
        agent=claim.actor.handle, post_id=post_id, idempotency_key=claim.key.text
    )
    result: dict[str, Any] = {"post_id": post_id, "like_count": liked.like_count}
    if known is not None:
        result |= {"title": known.title, "author": known.username}
        if known.image_url:
            result["image_url"] = known.image_url
        # What it saw may move it to react too (``fleet.actions.reacting``).
        reaction = (
            react(needs.gallery, needs.accounts.sessions, claim, known) if needs.reactions else None
        )
        if reaction is not None:
            result["reaction"] = reaction
    return result, (post_id, "like")


def browse(needs: BrowseNeeds, claim: Claim, last_attempt: bool) -> Effect:
    ensure_user(needs.accounts, claim)
    persona = needs.personas.get(claim.actor.persona)
    read = _page_read(needs, claim)
    looked = [p.post_id for p in read]
    if not claim.notes.thinks:
        # Not a speaking session's opening look (the dispatcher said so): no LLM call.
        return {"seen": looked, "thought": None}, None
    plan = _plan_on(needs, claim, read)
    if plan is not None:  # the session's words are written: its thought with them
        return {"seen": looked, "thought": plan.thought}, None
    if needs.likely is not None and says(claim):
        # The writer makes plans, but this one had nothing to write on (no comment waits,
        # nothing on the page) or no budget: the look thinks nothing, as a look of a
        # session that says nothing does; each action writes its own if it comes to it.
        return {"seen": looked, "thought": None}, None
    # A thought repeats nothing the agent wrote: its prompt does not show the recent texts.
    author = plain_author(claim)
    with billed(needs.billing, claim):
        thought = needs.writer.think(persona, author, read, nonce=nonce(claim))
    if thought.usage.calls:
        keep_spent_at_end(needs.billing, claim, thought.usage)
    return {"seen": looked, "thought": thought.text}, None


def _page_read(needs: BrowseNeeds, claim: Claim) -> list[PostSeen]:
    """The feed's newest page as the agent reads it (the public feed's, read once for the
    delivery's looks, and whom it follows', ``home_page``), its own posts left out."""
    me = claim.actor.handle
    rng = random.Random(f"{claim.actor.seed}:{claim.key.text}:page")
    public = None if needs.public is None else needs.public.read(me)
    return home_page(needs.gallery, me, needs.page_size, needs.home_share, rng, public)


def plan_session(needs: BrowseNeeds, claim: Claim) -> SessionPlan | None:
    """The plan of a session that a reply opens (a person's comment called the agent, and
    it answered before any look): the reply reads the page the look would have read and
    writes the session's plan, its own words among them, once (``make_plan``); None when
    the agent makes no plans or the plan was kept before (the reply reads that one)."""
    opened = session_of(claim)
    if needs.writing is None or needs.answerable is None or opened is None or not says(claim):
        return None
    if plan_of(needs.writing.sessions, claim.actor.id, opened) is not None:
        return None  # kept before this delivery: the reply reads it, no page needed
    return _plan_on(needs, claim, _page_read(needs, claim))


def _plan_on(needs: BrowseNeeds, claim: Claim, read: list[PostSeen]) -> SessionPlan | None:
    """The session's plan on the page ``read`` (None: no plans, or not a speaking
    session's opening): first the posts its comments will choose, then the newest."""
    if needs.writing is None or needs.answerable is None:
        return None
    page = read
    said = says(claim)
    if needs.likely is not None and said.get("comment"):
        # The plan writes for the posts the comments will choose, not the newest.
        likely = [seen(p) for p in needs.likely(claim, page_shown(said))]
        chosen = {p.post_id for p in likely}
        page = [*likely, *(p for p in read if p.post_id not in chosen)]
    return make_plan(needs.writing, needs.billing, claim, page, needs.answerable)
