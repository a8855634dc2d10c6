"""The post a like or a comment goes to, chosen from the feed's page.

The choice itself is pure (``fleet.core.taste``); keeping it, against the engagement
ledger, is the activities' (``fleet.activities.kept_targets``). Here the two meet the gallery.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from functools import partial

from fleet import activities
from fleet.actions.choice_needs import Choosing
from fleet.activities import Claim
from fleet.consent.book import still_welcome
from fleet.core.kinds import KINDS, Action, ActionKey
from fleet.core.persona import Persona
from fleet.core.target_choice import PageTaste, choose_target
from fleet.core.taste import Candidate, appeal
from fleet.errors import Deferred, PermanentError, Skip, TransientError, UnknownPersona
from fleet.gallery.port import GalleryPost
from fleet.impact.holdout import Spared
from fleet.infra.logs import get_logger

log = get_logger(__name__)


def target_of(choosing: Choosing, claim: Claim, kind: str) -> GalleryPost:
    """The post this like or comment is for: the stored one, or a fresh choice from the feed."""
    handle = claim.actor.handle
    if claim.target_post_id is not None:
        post = choosing.gallery.get_post(agent=handle, post_id=claim.target_post_id)
        # Kept by an earlier delivery: its author may have said no since.
        still_welcome(choosing.consent, claim, kind, None if post.user_is_agent else post.username)
        return post
    return choose_post(choosing, claim, kind)


def page_candidates(
    choosing: Choosing,
    feed: list[GalleryPost],
    persona: str | None,
    *,
    kind: str = "like",
    friends: Sequence[GalleryPost] = (),
) -> list[Candidate]:
    """The feed's posts as the taste of an agent of ``persona`` sees them, ties aside:
    the same for every agent of the persona choosing from this page (a batch's likes
    make it once per persona). ``friends``: posts off the page (``friends_posts``), after
    it, of no place on the feeds (a look sees them wherever they are)."""
    similarity: dict[str, float] = {}
    kindred: set[str] = set()
    now = choosing.now()
    places = choosing.feed_snapshot.places(feed)
    interests = choosing.ranking()
    mine: Persona | None = None  # looked up once, and only where the page is ranked by it
    if interests is not None and persona is not None:
        with contextlib.suppress(UnknownPersona):  # one the fleet does not know: unranked
            mine = choosing.personas.get(persona)
    if interests is not None and mine is not None:
        # Content actions (which wait on the LLM anyway) embed posts no one has yet;
        # the engage path only reads what they stored.
        embed = KINDS[Action(kind)].queue == "content"
        similarity = interests.similarities(mine, feed, embed=embed)
        if friends:
            similarity = similarity | interests.similarities(mine, friends, embed=embed, keep=False)
        people = {p.id for p in feed if not p.user_is_agent}
        if people and choosing.welcome is not None:
            # On the whole page, as every persona's agents rank it: no second product.
            kindred = interests.kindred(mine, list(choosing.personas), feed) & people
    return [
        Candidate(
            p.id,
            p.username,
            p.user_is_agent,
            likes=p.like_count,
            comments=p.comment_count,
            age_seconds=max(0.0, (now - p.created_at).total_seconds()),
            similarity=similarity.get(p.id),
            kindred=p.id in kindred,
            places=places.get(p.id, ()),
            appeal=appeal(p.username, p.id) if choosing.taste is not None else 0.0,
            author_id=p.user_id,
        )
        for p in [*feed, *friends]
    ]


# A comment looks for the newest posts of this many of the agent's friends (those who
# engaged with its posts most and posted in the last FRIENDS_POSTS_HOURS) where the
# feeds' pages do not show them: a gallery read each.
FRIENDS_READ = 3
FRIENDS_POSTS_HOURS = 24.0


def friends_posts(
    choosing: Choosing, me: str, ties: dict[str, int], feed: Sequence[GalleryPost]
) -> list[GalleryPost]:
    """The newest posts of the agent's closest friends, of the last day, that ``feed``
    does not hold: a person who comments keeps up with those who answer them, as a
    following tab shows them, wherever the feeds have moved on. A post the gallery will
    not give (gone, or a passing failure) is left out; a budget's wait stands."""
    if not ties:
        return []
    since = choosing.now() - timedelta(hours=FRIENDS_POSTS_HOURS)
    newest = activities.newest_posts_by(choosing.sessions, list(ties), since=since)
    shown = {p.id for p in feed}
    closest = sorted(
        (handle for handle, post_id in newest.items() if post_id not in shown and handle != me),
        key=lambda handle: (-ties[handle], handle),
    )[:FRIENDS_READ]
    found = []
    for handle in closest:
        try:
            found.append(choosing.gallery.get_post(agent=me, post_id=newest[handle]))
        except Deferred:
            raise
        except (TransientError, PermanentError) as error:
            log.info("a friend's post left out", post=newest[handle], reason=str(error)[:200])
    return found


def page_taste(
    choosing: Choosing,
    feed: list[GalleryPost],
    persona: str | None,
    *,
    kind: str,
    spared: Spared | None,
    friends: Sequence[GalleryPost] = (),
) -> PageTaste:
    """What the choices of ``kind`` by the agents of ``persona`` share of ``feed``: its
    ``page_candidates`` and their ``PageTaste``, with whom the holdout ``spared``. Made
    by the first choice from this page, in whichever delivery, and kept with
    ``choosing`` while the page lasts (the snapshot's few seconds: every batch of those
    seconds chooses from it) and the holdout spares the same; a page with ``friends``
    (a comment's posts off the page) is that comment's alone."""
    if not friends:
        made = choosing.ranked.get((persona, kind))
        # The holdout's view is read afresh every half minute: sparing the same people,
        # it ranks the page as it did.
        if made is not None and made[0] is feed:
            kept = made[1].spared
            if kept is spared or kept == spared:
                return made[1]
    page = page_candidates(choosing, feed, persona, kind=kind, friends=friends)
    shared = PageTaste(
        page, kind=kind, taste=choosing.taste, welcome=choosing.welcome, spared=spared
    )
    if not friends:
        choosing.ranked[persona, kind] = (feed, shared)
    return shared


def chooser(
    choosing: Choosing,
    feed: list[GalleryPost],
    rng: random.Random,
    me: str = "",
    persona: str | None = None,
    *,
    agent_id: int | None = None,
    kind: str = "like",
    ties: dict[str, int] | None = None,
    friends: Sequence[GalleryPost] = (),
    shared: PageTaste | None = None,
) -> activities.Chooser:
    """The choice of ``kind`` among the feed's posts of an agent (``me``: its handle, if
    known), by the taste of its persona (``fleet.core.taste``) when there is one, its
    ties when its id is known, and the welcome budget of people's posts. ``ties``: the
    agent's, when the caller has them already; ``friends``: posts off the page
    (``friends_posts``) it may choose too. ``shared``: what the page's choices share
    (``page_taste``), when the caller has it already."""
    if shared is None or shared.kind != kind:
        spared = None if choosing.holdout is None else choosing.holdout.spared()
        shared = page_taste(choosing, feed, persona, kind=kind, spared=spared, friends=friends)
    candidates = shared.candidates
    # The ties are read here only when the caller has none (a first choice has them all).
    interests = choosing.ranking() if ties is None and agent_id is not None else None
    if interests and agent_id is not None:
        admirers = partial(activities.admirers, choosing.sessions)
        ties = interests.ties(agent_id, choosing.now().timestamp(), admirers)
    if ties:
        candidates = [
            replace(c, ties=ties[c.author]) if c.author in ties else c for c in candidates
        ]
    if choosing.consent is not None:
        # The candidates whose author lets agent ``me`` do ``kind`` (``fleet.consent.core``):
        # the one place target choice of a like, comment or welcome honours people's say.
        candidates = list(choosing.consent.admit(candidates, me, kind, _person_of_post))
    on_page = shared

    def choose(done: set[str], recent: dict[str, int]) -> str | None:
        chosen = choose_target(
            candidates,
            me=me,
            already=done,
            recent_bot_engagements=recent,
            cap_per_hour=choosing.settings.bot_engagements_per_post_per_hour,
            human_share=choosing.settings.human_share,
            rng=rng,
            taste=choosing.taste,
            welcome=choosing.welcome,
            kind=kind,
            spared=on_page.spared,
            page=on_page,
        )
        return None if chosen is None else chosen.post_id

    return choose


def _person_of_post(candidate: Candidate) -> str | None:
    return None if candidate.author_is_agent else candidate.author


def first_choices(
    choosing: Choosing, keys: Sequence[ActionKey[Action]]
) -> dict[ActionKey[Action], activities.FirstChoice]:
    """For a batch's likes, with a young feed page at hand: a post for each, chosen knowing
    what one read of the ledger tells for all of them (``activities.taken_by``: the posts
    each agent is done with or holds, its own, the bot engagements per post, and its
    persona, whose taste chooses), for the claim
    to keep if it is still open. Two likes of one agent in the batch choose two posts.

    One statement spares the likes a read and a choice of their own after the claim. A
    single like is a batch of one (``fleet.actions.perform.perform``): this is the one
    choice made before a claim. A key's draw is seeded by the key.
    """
    # The likes' agents, in one pass over the keys.
    agent_of = {key: key.agent_id for key in keys if key.action is Action.LIKE}
    if not agent_of:
        return {}
    feed = choosing.feed_snapshot.renewed(choosing)
    if not feed:
        return {}
    since = choosing.now() - timedelta(hours=1)
    cap = choosing.settings.bot_engagements_per_post_per_hour
    # The page's posts by id (a page holds each once): their ids, in the page's order,
    # read from it, not from a second pass over the page.
    posts = {p.id: p for p in feed}
    taken = activities.taken_by(
        choosing.sessions, list(agent_of.values()), "like", list(posts), since=since
    )
    recent = dict(taken.recent)
    ties: dict[int, dict[str, int]] = {}
    if choosing.taste is not None and choosing.interests is not None:
        ties = choosing.interests.ties_of(
            list(agent_of.values()),
            choosing.now().timestamp(),
            partial(activities.admirers_of, choosing.sessions),
        )
    spared = None if choosing.holdout is None else choosing.holdout.spared()
    chosen: dict[ActionKey[Action], activities.FirstChoice] = {}
    for key, agent in agent_of.items():
        persona = taken.personas.get(agent)
        if choosing.taste is not None and persona is None:
            continue  # an agent the fleet does not know: its claim says what became of it
        done = taken.done.setdefault(agent, set())
        me = taken.handles.get(agent, "")
        post_id = chooser(
            choosing,
            feed,
            random.Random(f"first:{key.text}"),
            me=me,
            persona=persona,
            agent_id=agent,
            ties=ties.get(agent, {}),
            # What the likes of a persona share of the page, made once a page.
            shared=page_taste(choosing, feed, persona, kind="like", spared=spared),
        )(done, recent)
        if post_id is None:
            continue
        done.add(post_id)
        recent[post_id] = recent.get(post_id, 0) + 1
        chosen[key] = activities.FirstChoice(
            post_id, posts[post_id].username, "like", cap, since=since
        )
    return chosen


def choose_post(choosing: Choosing, claim: Claim, kind: str) -> GalleryPost:
    """A post for this like or comment from the feed, kept on the activity as its target
    (so that a retry acts on the same one)."""
    post = _choose_post(choosing, claim, kind)
    if post is None:
        # In words a person accepts: nothing new it sees speaks to it, or those it has
        # not engaged with have had enough from the fleet this hour (or their welcome).
        raise Skip(
            f"nothing to {kind}: nothing new it sees is to its taste, "
            "or the rest have had enough from the fleet for now"
        )
    return post


def likely_comments(choosing: Choosing, claim: Claim, count: int) -> list[GalleryPost]:
    """The posts this agent's comments would most likely choose now, in the order drawn
    (the comment's chooser: its feeds, taste, consent, the holdout, the hourly cap, what it
    engaged already), at most ``count``: the page its session's plan writes comments for,
    so that the comments, choosing among what the plan wrote for, find them open. Nothing
    is kept; a failure to read leaves the plan the look's own page."""
    try:
        feed = choosing.feed_snapshot.page(choosing, claim.actor.handle)
        if not feed or count < 1:
            return []
        now = choosing.now()
        taken = activities.taken_by(
            choosing.sessions,
            [claim.actor.id],
            "comment",
            [p.id for p in feed],
            since=now - timedelta(hours=1),
        )
        if choosing.interests is not None:
            choosing.interests.learn(claim.actor.id, claim.actor.persona)
        choose = chooser(
            choosing,
            feed,
            random.Random(f"{claim.actor.seed}:{claim.key.text}:plan"),
            me=claim.actor.handle,
            persona=claim.actor.persona,
            agent_id=claim.actor.id,
            kind="comment",
        )
    except Deferred:
        raise
    except (TransientError, PermanentError) as error:
        log.info("the plan's page was not ranked", reason=str(error)[:200])
        return []
    done = set(taken.done.get(claim.actor.id, set()))
    posts = {p.id: p for p in feed}
    drawn: list[GalleryPost] = []
    while len(drawn) < count:
        post_id = choose(done, dict(taken.recent))
        if post_id is None or post_id not in posts:
            break
        done.add(post_id)
        drawn.append(posts[post_id])
    return drawn


def choose_planned(choosing: Choosing, claim: Claim, among: Sequence[str]) -> GalleryPost | None:
    """A post for this comment among ``among`` (those its session's plan wrote for) that
    the feed's page still shows, chosen and kept by the same rules as any (consent, the
    holdout, the hourly cap, its own engagements, taste); None when none of them may be,
    and the activity says why (``plan_passed``: off the page, or none chosen)."""
    post = _choose_post(choosing, claim, "comment", among=frozenset(among))
    if post is None:
        shown = {p.id for p in choosing.feed_snapshot.page(choosing, claim.actor.handle)}
        why = "none chosen" if shown.intersection(among) else "off the page"
        activities.save_progress(
            choosing.sessions, claim.id, now=choosing.now(), content={"plan_passed": why}
        )
    return post


def _choose_post(
    choosing: Choosing, claim: Claim, kind: str, *, among: frozenset[str] | None = None
) -> GalleryPost | None:
    handle = claim.actor.handle
    if choosing.interests is not None:
        choosing.interests.learn(claim.actor.id, claim.actor.persona)
    feed = choosing.feed_snapshot.page(choosing, handle)
    now = choosing.now()
    ties: dict[str, int] | None = None
    friends: list[GalleryPost] = []
    if among is not None:
        feed = [p for p in feed if p.id in among]
        if not feed:
            return None
    interests = choosing.ranking()
    if among is None and kind == "comment" and interests is not None:
        # A comment keeps up a relationship: its friends' newest posts are in view too.
        admirers = partial(activities.admirers, choosing.sessions)
        ties = interests.ties(claim.actor.id, now.timestamp(), admirers)
        friends = friends_posts(choosing, handle, ties, feed)
    choose = chooser(
        choosing,
        feed,
        random.Random(f"{claim.actor.seed}:{claim.key.text}"),
        me=handle,
        persona=claim.actor.persona,
        agent_id=claim.actor.id,
        kind=kind,
        ties=ties,
        friends=friends,
    )
    feed = [*feed, *friends]
    kept = activities.keep_target(
        choosing.sessions,
        claim.id,
        claim.actor.id,
        kind,
        [p.id for p in feed],
        choose,
        cap_per_hour=choosing.settings.bot_engagements_per_post_per_hour,
        since=now - timedelta(hours=1),
        now=now,
    )
    if kept.ended:
        raise Skip("the action ended while its target was being chosen")
    if kept.post_id is None:
        return None
    found = next((p for p in feed if p.id == kept.post_id), None)
    return found or choosing.gallery.get_post(agent=handle, post_id=kept.post_id)
