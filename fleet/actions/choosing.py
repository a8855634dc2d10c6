"""The post a like or a comment goes to, chosen from the feed's page
(``fleet.actions.choosing``).

The choice itself is pure (``fleet.core.taste``); keeping it, against the engagement
ledger, is the activities' (``fleet.activities.kept_targets``). Here the two meet the gallery.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from fleet import activities
from fleet.actions.common import seen as seen_post
from fleet.actions.planning import planned_replies
from fleet.activities import Claim, identity
from fleet.activities.drafts import APPROVED
from fleet.content.port import CommentSeen, PostSeen
from fleet.core.answering import (
    OTHERS_AT_A_GLANCE,
    Closed,
    Seen,
    Unanswered,
    pick_answer,
    turned_away,
    unanswered,
)
from fleet.core.consent import (
    MAX_STALE_SECONDS,
    OPEN,
    Consent,
    allows,
    closed_to,
    open_to_unnamed,
)
from fleet.core.holdout import Spared
from fleet.core.kinds import KINDS, Action, ActionKey, LikeKey, is_like
from fleet.core.taste import Candidate, appeal, choose_target
from fleet.errors import Deferred, FleetError, PermanentError, Skip, TransientError
from fleet.gallery.consent import ConsentRead
from fleet.gallery.port import GalleryComment, GalleryPost, Sort
from fleet.infra.logs import get_logger
from fleet.settings import ConsentSettings

__all__ = [
    "ANSWERABLE_READ",
    "FRIENDS_POSTS_HOURS",
    "FRIENDS_READ",
    "KEPT_FRESH_SECONDS",
    "MAX_STALE_SECONDS",
    "OWN_POSTS_READ",
    "Choosing",
    "ConsentBook",
    "FeedSnapshot",
    "HoldoutView",
    "answerable",
    "asking",
    "choose_comment",
    "choose_planned",
    "choose_post",
    "chooser",
    "consenting",
    "first_choices",
    "friends_posts",
    "later_delivery",
    "likely_comments",
    "page_candidates",
    "still_welcome",
    "target_of",
]

# People's consent as a process knows it: read from the gallery, kept at most a bound old.
#
# ``ConsentBook.current()`` is the ``Consent`` (``fleet.core.consent``) target choice filters
# by. It reads the gallery's consent list (``fleet.gallery.consent``) when its copy is older
# than ``refresh_seconds``; a read that fails keeps the last good copy until it is
# ``MAX_STALE_SECONDS`` old, and then no person is engaged until a read succeeds (fail safe).
# A copy's age counts from the start of its read, and a failed read is judged at its end.
# A gallery that offers no consent calls gives ``Consent(offered=False)``: people are then
# engaged as ``FLEET_CONSENT__WHEN_UNOFFERED`` says.
#
# ``admit`` filters a target choice's candidates: agents' posts always pass; a person's
# passes when ``allows`` says so. When nobody said anything it costs one comparison.

log = get_logger(__name__)


T = TypeVar("T")


class ConsentBook:
    """A process's copy of people's consent, read again every ``refresh_seconds``."""

    def __init__(
        self,
        read: Callable[[], ConsentRead],
        settings: ConsentSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read = read
        self._settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._consent: Consent | None = None
        self._read_at = -float("inf")
        self._good_at = -float("inf")
        self.problem: str | None = None
        # (consent, agent, action) -> the people closed to it: a batch asks many times.
        self._closed: dict[tuple[str, str], tuple[frozenset[str], bool]] = {}

    def _young(self, now: float, fresh_within: float | None) -> bool:
        if self._consent is None or now - self._read_at >= self._settings.refresh_seconds:
            return False
        return fresh_within is None or self._good_at >= now - fresh_within

    def current(self, fresh_within: float | None = None) -> Consent:
        """The consent to choose by now (read again when the copy is due, or when it was
        read more than ``fresh_within`` seconds ago)."""
        now = self._clock()
        consent = self._consent
        if consent is not None and self._young(now, fresh_within):
            return consent
        with self._lock:
            if self._consent is not None and self._young(now, fresh_within):
                return self._consent
            try:
                got = self._read()
            except FleetError as error:
                # Judged when the read gave up, not when it began: a read that failed
                # after minutes must not pass the last good copy off as young.
                self._read_at = ended = self._clock()
                self.problem = f"people's consent could not be read: {str(error)[:200]}"
                log.warning("consent unreadable", reason=str(error)[:200])
                if self._consent is None or ended - self._good_at >= MAX_STALE_SECONDS:
                    self._consent = Consent(known=False, cool_fleet=self._settings.cool_fleet)
            else:
                # The copy is as old as its first page (the read's start); the next read
                # is due a refresh after this one ended.
                self._read_at = self._clock()
                self.problem = None
                self._good_at = now
                self._consent = Consent(
                    people=got.people,
                    unreadable=got.unreadable,
                    offered=got.offered,
                    unoffered=self._settings.when_unoffered,
                    cool_fleet=self._settings.cool_fleet,
                )
            self._closed = {}
            return self._consent

    def closed(self, agent: str, action: str) -> tuple[frozenset[str], bool]:
        """(the people ``agent`` must leave alone for ``action``, whether a person who said
        nothing is open to it)."""
        consent = self.current()
        found = self._closed.get((agent, action))
        if found is None:
            found = (closed_to(consent, agent, action), open_to_unnamed(consent, action))
            self._closed[(agent, action)] = found
        return found

    def refusal(
        self, agent: str, action: str, person: str | None, *, fresh_within: float | None = None
    ) -> str | None:
        """Why ``agent`` may not do ``action`` toward ``person`` now, by a copy at most
        ``refresh_seconds`` old, or ``fresh_within`` when given (read again when older);
        None when it may. ``person`` None (an agent's post or comment) always may.

        Raises Deferred when a copy ``fresh_within`` old cannot be had (the read failed):
        the action waits for one rather than go out by an old copy."""
        if person is None:
            return None
        asked = self._clock()
        consent = self.current(fresh_within)
        if fresh_within is not None and self._good_at < asked - fresh_within:
            raise Deferred(
                "people's consent could not be read afresh before sending to a target kept "
                f"since an earlier delivery ({(self.problem or 'no read')[:160]})",
                scope="call",
            )
        if allows(consent, agent, action, person):
            return None
        if not consent.known:
            return "people's consent could not be read (no person is engaged until it is)"
        if person in consent.unreadable:
            return f"the consent of @{person} could not be read"
        said = consent.of(person)
        if said.interactions == "none":
            return f"@{person} opted out of agents"
        if agent in said.blocked:
            return f"@{person} blocked @{agent}"
        if said.interactions == "replies":
            return f"@{person} takes only replies from agents"
        return f"@{person} blocked an agent of the fleet, which now only answers them"

    def admit(
        self,
        items: Sequence[T],
        agent: str,
        action: str,
        person_of: Callable[[T], str | None],
    ) -> Sequence[T]:
        """The items whose person (``person_of``: their handle, None for an agent's) the
        agent may do ``action`` toward."""
        consent = self.current()
        if consent is OPEN or (
            consent.known and consent.offered and not consent.people and not consent.unreadable
        ):
            return items
        closed, unnamed = self.closed(agent, action)
        admitted = []
        for item in items:
            person = person_of(item)
            if person is None or (person not in closed and (unnamed or person in consent.people)):
                admitted.append(item)
        return admitted


# A target kept since an earlier delivery (a draft approved, a retry after a wait) is sent
# only by a copy of people's consent read at most this long before (seconds): a "no" said
# while it waited is never missed by more than this.
KEPT_FRESH_SECONDS = 5.0


def later_delivery(claim: Claim) -> bool:
    """Whether this delivery comes after an earlier one of the action (a retry, a lost
    delivery sent again, a draft approved): its kept target was chosen a while ago."""
    return claim.deliveries > 1 or claim.attempts > 0 or bool(claim.content.get(APPROVED))


def still_welcome(
    consent: ConsentBook | None, claim: Claim, action: str, person: str | None
) -> None:
    """Raise Skip when ``person`` no longer lets the claim's agent do ``action``: the check
    before a kept target is sent, by consent as it is now, not as it was at the choice. A
    later delivery (``later_delivery``) reads a copy at most ``KEPT_FRESH_SECONDS`` old
    (a Deferred when none can be read)."""
    if consent is None or person is None:
        return
    fresh = KEPT_FRESH_SECONDS if later_delivery(claim) else None
    reason = consent.refusal(claim.actor.handle, action, person, fresh_within=fresh)
    if reason is not None:
        raise Skip(f"not sent: {reason} since its target was chosen")


# Whom agents leave alone (``fleet.core.holdout.Spared``), as a process's target choices
# see it: the experiment's recorded arms, read at most every ``ttl_seconds`` and shared.
#
# Between two reads nothing is lost: a person not yet recorded is spared by the same hash
# that will record them, and a holdout's end is days away, not seconds.


class HoldoutView:
    """The experiment's ``Spared`` now, for target choice; ``opted_out``: the gallery user
    ids of people who opted out of agent engagement (the consent's reader, when there is
    one), spared whatever their arm."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        experiment: str,
        share: float,
        days: int,
        now: Callable[[], datetime],
        ttl_seconds: float = 30.0,
        opted_out: Callable[[], frozenset[str]] = frozenset,
    ) -> None:
        self._sessions = sessions
        self._experiment = experiment
        self._share = share
        self._days = days
        self._now = now
        self._ttl = ttl_seconds
        self._opted_out = opted_out
        self._spared: Spared | None = None
        self._taken = -1e18
        self._lock = threading.Lock()

    @property
    def recording(self) -> bool:
        """Whether an experiment runs (a share above 0): people's actions are kept."""
        return self._share > 0

    def spared(self) -> Spared:
        """Whom no agent may single out now (read afresh when the last read is old)."""
        with self._lock:
            if self._spared is not None and time.monotonic() - self._taken < self._ttl:
                return self._spared
        rows = activities.arms_of(self._sessions, self._experiment)
        since = self._now() - timedelta(days=self._days)
        spared = Spared(
            self._experiment,
            self._share,
            held=frozenset(u for u, arm, seen in rows if arm == "holdout" and seen > since),
            known=frozenset(u for u, _, _ in rows),
            opted_out=self._opted_out(),
        )
        with self._lock:
            self._spared, self._taken = spared, time.monotonic()
        return spared


# The feed as actions see it: the feeds' pages, shared by a process's choices for a
# few seconds (``fleet.actions.choosing`` chooses from them).


class FeedSnapshot:
    """The feeds' pages (``sorts``: recent, popular, trending, as a person scrolls them),
    one list without repeats, shared by this process's target choices for a few seconds.

    Choosing whom to like or answer does not need a feed read per action: the ledger
    (who engaged with what) is read fresh each time, the page of candidates may be a
    moment old. When reading a new page fails for a passing reason, a page up to
    ``STALE_ON_ERROR_SECONDS`` old serves instead: the action then depends on one
    gallery call, its own. Browsing always reads the feed itself.
    """

    STALE_ON_ERROR_SECONDS = 60.0

    def __init__(
        self, ttl_seconds: float, sorts: Sequence[Sort] = ("recent",), page_size: int | None = None
    ) -> None:
        self._ttl = ttl_seconds
        self._sorts = tuple(sorts) or ("recent",)
        self._page_size = page_size
        self._page: list[GalleryPost] = []
        # Each post's place on each sort read (0: the top; None: not on that one).
        self._places: dict[str, tuple[int | None, ...]] = {}
        self._taken = -1e18
        self._reader: str | None = None
        self._lock = threading.Lock()

    def _held(self) -> tuple[list[GalleryPost], float]:
        with self._lock:
            return self._page, time.monotonic() - self._taken

    def fresh(self) -> list[GalleryPost] | None:
        """The page, if it is young enough to use without reading the feed."""
        page, age = self._held()
        return page if age < self._ttl else None

    def renewed(self, choosing: Choosing) -> list[GalleryPost] | None:
        """The page if young, else a new one read as the agent that read the last (a
        batch's choices are made before its claim tells who its agents are); None
        without one, or when reading fails (the caller chooses later instead)."""
        page = self.fresh()
        if page is not None or self._reader is None:
            return page
        try:
            return self.page(choosing, self._reader)
        except Exception:  # the choice is an optimisation: never fail a batch over it
            return None

    def page(self, choosing: Choosing, agent: str) -> list[GalleryPost]:
        self._reader = agent
        page, age = self._held()
        if age < self._ttl:
            return page
        try:
            seen: dict[str, GalleryPost] = {}
            on_sort: list[dict[str, int]] = []
            for sort in self._sorts:
                read = choosing.gallery.feed(
                    agent=agent,
                    limit=self._page_size or choosing.settings.feed_page_size,
                    sort=sort,
                )
                on_sort.append({post.id: place for place, post in enumerate(read)})
                for post in read:
                    seen.setdefault(post.id, post)
            page = list(seen.values())
            places = {post_id: tuple(sort.get(post_id) for sort in on_sort) for post_id in seen}
        except TransientError as error:
            # A budget or pause answer is the gallery speaking: it stands.
            if isinstance(error, Deferred) or age >= self.STALE_ON_ERROR_SECONDS:
                raise
            return page
        with self._lock:
            self._page, self._places, self._taken = page, places, time.monotonic()
        return page

    def places(self, page: Sequence[GalleryPost]) -> dict[str, tuple[int | None, ...]]:
        """Each post's place on each sort read (None: not on it), for the page this
        snapshot last gave (empty for any other: places unknown)."""
        with self._lock:
            return self._places if page is self._page else {}


if TYPE_CHECKING:
    from fleet.actions.interests import Interests
    from fleet.content.guard.identity_intent import IdentityIntent
    from fleet.core.taste import Weights, Welcome
    from fleet.gallery.port import Gallery
    from fleet.infra.persona_files import PersonaCatalogue
    from fleet.settings import ActionSettings


@dataclass(frozen=True, slots=True)
class Choosing:
    """What the choice of a target reads, and no more: the ledger, the gallery this
    delivery calls (a batch's, its calls admitted at once), the personas, the clock, the
    hourly cap, the human share and the page's size (``settings``), whether a comment
    asks what an agent is, and the kit's ``Targeting``: the shared page, taste, interests,
    the welcome, the holdout, people's consent. Built from the kit in one place
    (``fleet.actions.perform.choosing``), as a handler's needs are."""

    sessions: sessionmaker[Session]
    gallery: Gallery
    personas: PersonaCatalogue
    now: Callable[[], datetime]
    settings: ActionSettings
    identity: IdentityIntent
    feed_snapshot: FeedSnapshot
    taste: Weights | None = None
    interests: Interests | None = None
    welcome: Welcome | None = None
    holdout: HoldoutView | None = None
    consent: ConsentBook | None = None

    def ranking(self) -> Interests | None:
        """The interests taste ranks by (None: no taste, or no vectors to rank by)."""
        return self.interests if self.taste is not None else None


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
    known = persona if persona is not None and persona in choosing.personas else None
    now = choosing.now()
    places = choosing.feed_snapshot.places(feed)
    interests = choosing.ranking()
    if interests is not None and known is not None:
        # Content actions (which wait on the LLM anyway) embed posts no one has yet;
        # the engage path only reads what they stored.
        embed = KINDS[Action(kind)].queue == "content"
        mine = choosing.personas.get(known)
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


def chooser(
    choosing: Choosing,
    feed: list[GalleryPost],
    rng: random.Random,
    me: str = "",
    persona: str | None = None,
    *,
    agent_id: int | None = None,
    kind: str = "like",
    page: list[Candidate] | None = None,
    ties: dict[str, int] | None = None,
    friends: Sequence[GalleryPost] = (),
) -> activities.Chooser:
    """The choice of ``kind`` among the feed's posts of an agent (``me``: its handle, if
    known), by the taste of its persona (``fleet.core.taste``) when there is one, its
    ties when its id is known, and the welcome budget of people's posts. ``page``: the
    feed's ``page_candidates`` for the persona, and ``ties`` the agent's, when the caller
    has them already; ``friends``: posts off the page (``friends_posts``) it may choose too."""
    candidates = (
        page
        if page is not None
        else page_candidates(choosing, feed, persona, kind=kind, friends=friends)
    )
    interests = choosing.ranking()
    if ties is None and interests and agent_id is not None:
        admirers = partial(activities.admirers, choosing.sessions)
        ties = interests.ties(agent_id, choosing.now().timestamp(), admirers)
    if ties:
        candidates = [
            replace(c, ties=ties[c.author]) if c.author in ties else c for c in candidates
        ]
    spared = None if choosing.holdout is None else choosing.holdout.spared()
    candidates = consenting(choosing, candidates, me, kind)

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
            spared=spared,
        )
        return None if chosen is None else chosen.post_id

    return choose


def consenting(
    choosing: Choosing, candidates: list[Candidate], me: str, kind: str
) -> list[Candidate]:
    """The candidates whose author lets agent ``me`` do ``kind`` (``fleet.core.consent``):
    the one place target choice of a like, comment or welcome honours people's say."""
    if choosing.consent is None:
        return candidates
    return list(choosing.consent.admit(candidates, me, kind, _person_of_post))


def _person_of_post(candidate: Candidate) -> str | None:
    return None if candidate.author_is_agent else candidate.author


def _person_of_comment(waiting: Unanswered) -> str | None:
    return None if waiting.author_is_agent else waiting.author


def _said_no(choosing: Choosing, agent: str, person: str) -> bool:
    """Whether ``person`` said no to ``agent``'s replies (their consent, as read now)."""
    return choosing.consent is not None and turned_away(choosing.consent.current(), agent, person)


def first_choices(
    choosing: Choosing, keys: Sequence[ActionKey[Action]]
) -> dict[str, activities.FirstChoice]:
    """For a batch's likes, with a young feed page at hand: a post for each, chosen knowing
    what one read of the ledger tells for all of them (``activities.taken_by``: the posts
    each agent is done with or holds, its own, the bot engagements per post, and its
    persona, whose taste chooses), for the claim
    to keep if it is still open. Two likes of one agent in the batch choose two posts.

    One statement spares the likes a read and a choice of their own after the claim. A
    single like is a batch of one (``fleet.actions.perform.perform``): this is the one
    choice made before a claim. A key's draw is seeded by the key.
    """
    likes: list[LikeKey] = [key for key in keys if is_like(key)]
    agent_of = {str(key): key.agent_id for key in likes}
    if not agent_of:
        return {}
    feed = choosing.feed_snapshot.renewed(choosing)
    if not feed:
        return {}
    since = choosing.now() - timedelta(hours=1)
    cap = choosing.settings.bot_engagements_per_post_per_hour
    taken = activities.taken_by(
        choosing.sessions, list(agent_of.values()), "like", [p.id for p in feed], since=since
    )
    recent = dict(taken.recent)
    posts = {p.id: p for p in feed}
    ties: dict[int, dict[str, int]] = {}
    if choosing.taste is not None and choosing.interests is not None:
        ties = choosing.interests.ties_of(
            list(agent_of.values()),
            choosing.now().timestamp(),
            lambda agents: activities.admirers_of(choosing.sessions, agents),
        )
    pages: dict[str | None, list[Candidate]] = {}
    chosen: dict[str, activities.FirstChoice] = {}
    for key, agent in agent_of.items():
        persona = taken.personas.get(agent)
        if choosing.taste is not None and persona is None:
            continue  # an agent the fleet does not know: its claim says what became of it
        done = taken.done.setdefault(agent, set())
        me = taken.handles.get(agent, "")
        page = pages.get(persona)
        if page is None:
            page = pages[persona] = page_candidates(choosing, feed, persona)
        post_id = chooser(
            choosing,
            feed,
            random.Random(f"first:{key}"),
            me=me,
            persona=persona,
            agent_id=agent,
            page=page,
            ties=ties.get(agent, {}),
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
            random.Random(f"{claim.actor.seed}:{claim.key}:plan"),
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
        random.Random(f"{claim.actor.seed}:{claim.key}"),
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


# The newest posts of its own an agent reads when it answers.
OWN_POSTS_READ = 10

# A reply's choice ignores the cap of bot engagements per hour: it answers a comment once.
_NO_CAP = 1 << 30


def _seen(comment: GalleryComment) -> Seen:
    return Seen(
        comment.id,
        comment.username,
        comment.user_is_agent,
        comment.created_at,
        comment.parent_id,
        comment.user_id,
    )


def _keep_people_comments(choosing: Choosing, comments: Iterable[GalleryComment]) -> None:
    """People's comments this look read, kept for the impact report's outcomes (a
    person who comments has come back): one statement, when there are any."""
    if choosing.holdout is None or not choosing.holdout.recording:
        return
    seen = [
        activities.Sighting("comment", c.id, c.user_id, c.created_at)
        for c in comments
        if not c.user_is_agent and c.user_id
    ]
    if seen:
        activities.record_sightings(choosing.sessions, seen)


def _comments_around(
    choosing: Choosing, claim: Claim
) -> tuple[list[GalleryComment], list[GalleryComment], list[tuple[str, str]]]:
    """The comments on the agent's newest posts, those on the posts it commented on, and
    its own comments (post id, comment id)."""
    handle = claim.actor.handle
    mine: list[GalleryComment] = []
    # Its posts of the last two days at least (3 a day at most by the personas' quotas),
    # as far back as the pace task's scan of what people left waiting
    # (``fleet.service.pace``): a look it asked for finds what it was asked for.
    for post_id in activities.own_posts(choosing.sessions, claim.actor.id, limit=OWN_POSTS_READ):
        mine.extend(choosing.gallery.comments(agent=handle, post_id=post_id, limit=100))
    theirs: list[GalleryComment] = []
    my_comments = activities.own_comments(choosing.sessions, claim.actor.id)
    for post_id in dict.fromkeys(post for post, _ in my_comments):
        theirs.extend(choosing.gallery.comments(agent=handle, post_id=post_id, limit=100))
    return mine, theirs, my_comments


def _waiting(
    choosing: Choosing,
    handle: str,
    mine: list[GalleryComment],
    theirs: list[GalleryComment],
    my_comments: list[tuple[str, str]],
) -> list[Unanswered]:
    waiting = unanswered(
        handle,
        my_posts=[_seen(c) for c in mine],
        their_posts=[_seen(c) for c in theirs],
        my_comments={comment for _, comment in my_comments},
    )
    if choosing.consent is not None:  # a person who said no to agents is not answered
        waiting = list(choosing.consent.admit(waiting, handle, "reply", _person_of_comment))
    return waiting


# The comments a session's plan is shown, at the most (``fleet.content.llm.planning``).
ANSWERABLE_READ = 4


def answerable(choosing: Choosing, claim: Claim) -> list[PostSeen]:
    """The comments waiting on the agent that a session's plan may write replies to, each
    on its post as a writer reads it (people first, newest first; none that asks what the
    agent is, which keeps its truthful path; at most ``ANSWERABLE_READ``, a post read for
    each). A failure to read leaves the plan without them: the replies write their own."""
    handle = claim.actor.handle
    try:
        mine, theirs, my_comments = _comments_around(choosing, claim)
        waiting = _waiting(choosing, handle, mine, theirs, my_comments)
        comments = {c.id: c for c in [*mine, *theirs]}
        # In the order the replies choose them (``core.answering.pick_answer``): people
        # first, the oldest first; else the plan writes for comments nobody answers.
        ordered = sorted(waiting, key=lambda w: (w.author_is_agent, w.at.timestamp()))
        shown: list[PostSeen] = []
        posts: dict[str, PostSeen] = {}
        for w in ordered:
            comment = comments.get(w.comment_id)
            if comment is None or (
                not w.author_is_agent and choosing.identity.asks(comment.content)
            ):
                continue
            post = posts.get(comment.post_id)
            if post is None:
                post = posts[comment.post_id] = seen_post(
                    choosing.gallery.get_post(agent=handle, post_id=comment.post_id)
                )
            said = CommentSeen(comment.id, comment.content, comment.username, w.author_is_agent)
            shown.append(replace(post, answering=said))
            if len(shown) >= ANSWERABLE_READ:
                break
        return shown
    except Deferred:
        raise
    except (TransientError, PermanentError) as error:
        log.info("the comments waiting were not read for the plan", reason=str(error)[:200])
        return []


def choose_comment(choosing: Choosing, claim: Claim) -> tuple[GalleryComment, str]:
    """A comment waiting on the agent (``fleet.core.answering``): on its 10 newest posts, or
    an answer to one of its newest comments on others' posts; people first. Kept on the
    activity as its target. (comment, its post id)."""
    handle = claim.actor.handle
    mine, theirs, my_comments = _comments_around(choosing, claim)
    everything = {c.id: c for c in [*mine, *theirs]}
    _keep_people_comments(choosing, everything.values())
    if claim.target_post_id is not None:
        # A retry that chose before: the same comment, found again.
        found = everything.get(claim.target_post_id)
        if found is None:
            raise Skip(f"the comment {claim.target_post_id} to answer is gone")
        still_welcome(
            choosing.consent, claim, "reply", None if found.user_is_agent else found.username
        )
        return found, found.post_id
    waiting = _waiting(choosing, handle, mine, theirs, my_comments)
    rng = random.Random(f"{claim.actor.seed}:{claim.key}")
    # A session's look at its notifications answers people always, the rest now and then.
    others = OTHERS_AT_A_GLANCE if claim.content.get("notifications") else 1.0
    spared = None if choosing.holdout is None else choosing.holdout.spared()
    asked = asking(choosing, claim, waiting, everything)
    planned = planned_replies(choosing.sessions, claim)

    def choose(done: set[str], recent: dict[str, int]) -> str | None:
        chosen = pick_answer(
            waiting, rng, done=done, others=others, spared=spared, asked=asked, planned=planned
        )
        return None if chosen is None else chosen.comment_id

    now = choosing.now()
    kept = activities.keep_target(
        choosing.sessions,
        claim.id,
        claim.actor.id,
        "reply",
        [w.comment_id for w in waiting],
        choose,
        cap_per_hour=_NO_CAP,
        since=now - timedelta(hours=1),
        now=now,
    )
    if kept.ended:
        raise Skip("the action ended while its comment was being chosen")
    comment = everything.get(kept.post_id) if kept.post_id is not None else None
    if comment is None:
        raise Skip("nothing to reply to: no comment waits on the agent that it wants to answer")
    return comment, comment.post_id


def asking(
    choosing: Choosing,
    claim: Claim,
    waiting: Sequence[Unanswered],
    comments: dict[str, GalleryComment],
) -> set[str]:
    """The people's comments waiting on the agent that are owed an answer to what it is
    (``fleet.core.answering.owing``): those the check finds now are kept first (the audit
    counts them asked, and a repeat or one past the day's cap is closed there), then the
    ledger's open questions are read. An open question whose asker the agent may no
    longer address (they said no since: not among ``waiting``) is closed with that
    reason, so that it holds nobody's sessions."""
    now = choosing.now()
    since = now - identity.OWED_DAYS
    waiting_ids = {w.comment_id for w in waiting}
    found = [
        identity.QuestionSeen(claim.actor.id, c.id, c.post_id, c.created_at, asker=c.username)
        for w in waiting
        if not w.author_is_agent
        and (c := comments.get(w.comment_id)) is not None
        and choosing.identity.asks(c.content)
    ]
    identity.note_questions(choosing.sessions, found, now=now)
    open_ = identity.open_questions(choosing.sessions, claim.actor.id, since=since)
    turned_away = [
        c
        for c in open_
        if c not in waiting_ids
        and (seen := comments.get(c)) is not None
        and not seen.user_is_agent
        and _said_no(choosing, claim.actor.handle, seen.username)
    ]
    if turned_away:
        identity.close_questions(
            choosing.sessions, claim.actor.id, turned_away, Closed.SAID_NO, now=now
        )
    return {c for c in open_ if c in waiting_ids}
