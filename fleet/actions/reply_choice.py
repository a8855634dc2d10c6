"""The comment a reply answers, chosen among those waiting on the agent."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

from fleet import activities
from fleet.actions.common import seen as seen_post
from fleet.actions.planning import planned_replies
from fleet.activities import Claim
from fleet.consent.book import still_welcome
from fleet.content.port import CommentSeen, PostSeen
from fleet.core.answering import (
    OTHERS_AT_A_GLANCE,
    Seen,
    Unanswered,
    pick_answer,
    unanswered,
)
from fleet.errors import Deferred, PermanentError, Skip, TransientError
from fleet.gallery.port import GalleryComment, admitted_at_once
from fleet.honesty import ledger as identity
from fleet.infra.logs import get_logger

if TYPE_CHECKING:
    from fleet.actions.choice_needs import Choosing

log = get_logger(__name__)


def _person_of_comment(waiting: Unanswered) -> str | None:
    return None if waiting.author_is_agent else waiting.author


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


def _tell_seen(
    choosing: Choosing,
    claim: Claim,
    comments: dict[str, GalleryComment],
    waiting: Sequence[Unanswered],
) -> None:
    """Fire ``comments_seen`` (``fleet.actions.events``) with the comments this look read
    and those waiting on the agent that it may answer: the impact experiment keeps
    people's, the honesty ledger the questions among them, before the choice reads them."""
    if choosing.events is None:
        return
    consent = None if choosing.consent is None else choosing.consent.current()
    choosing.events.comments_seen.fire(
        agent_id=claim.actor.id,
        handle=claim.actor.handle,
        comments=list(comments.values()),
        waiting=frozenset(w.comment_id for w in waiting),
        consent=consent,
        at=choosing.now(),
    )


def _comments_around(
    choosing: Choosing, claim: Claim
) -> tuple[list[GalleryComment], list[GalleryComment], list[tuple[str, str]]]:
    """The comments on the agent's newest posts, those on the posts it commented on, and
    its own comments (post id, comment id)."""
    handle = claim.actor.handle
    gallery = choosing.gallery
    # Its posts of the last two days at least (3 a day at most by the personas' quotas),
    # as far back as the pace task's scan of what people left waiting
    # (``fleet.service.pace``): a look it asked for finds what it was asked for.
    own = activities.own_posts(choosing.sessions, claim.actor.id, limit=OWN_POSTS_READ)
    my_comments = activities.own_comments(choosing.sessions, claim.actor.id)
    commented = list(dict.fromkeys(post for post, _ in my_comments))
    mine: list[GalleryComment] = []
    theirs: list[GalleryComment] = []
    # Every read admitted by the gallery's limits in one round trip, not one a read.
    with admitted_at_once(gallery, len(own) + len(commented)):
        for post_id in own:
            mine.extend(gallery.comments(agent=handle, post_id=post_id, limit=100))
        for post_id in commented:
            theirs.extend(gallery.comments(agent=handle, post_id=post_id, limit=100))
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
    if claim.target_post_id is not None:
        _tell_seen(choosing, claim, everything, ())
        # A retry that chose before: the same comment, found again.
        found = everything.get(claim.target_post_id)
        if found is None:
            raise Skip(f"the comment {claim.target_post_id} to answer is gone")
        still_welcome(
            choosing.consent, claim, "reply", None if found.user_is_agent else found.username
        )
        return found, found.post_id
    waiting = _waiting(choosing, handle, mine, theirs, my_comments)
    _tell_seen(choosing, claim, everything, waiting)
    rng = random.Random(f"{claim.actor.seed}:{claim.key.text}")
    # A session's look at its notifications answers people always, the rest now and then.
    others = OTHERS_AT_A_GLANCE if claim.notes.notifications else 1.0
    spared = None if choosing.holdout is None else choosing.holdout.spared()
    asked = asking(choosing, claim, waiting)
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


def asking(choosing: Choosing, claim: Claim, waiting: Sequence[Unanswered]) -> set[str]:
    """The people's comments waiting on the agent that are owed an answer to what it is
    (``fleet.core.answering.owing``): the ledger's open questions among ``waiting``, read
    after the comments seen were told (``_tell_seen``: the questions among them noted,
    those whose asker said no since closed)."""
    since = choosing.now() - identity.OWED_DAYS
    waiting_ids = {w.comment_id for w in waiting}
    open_ = identity.open_questions(choosing.sessions, claim.actor.id, since=since)
    return {c for c in open_ if c in waiting_ids}
