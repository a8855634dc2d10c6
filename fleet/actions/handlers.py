"""The handler of each kind of action, handed only what its kind needs from the process's kit.

``HANDLERS`` is the registry's other half (``fleet.core.kinds``): each kind's handler and
the one function that narrows the kit to its needs (``PostNeeds``, ``CommentNeeds``,
``ReplyNeeds``, ``LikeNeeds``, ``BrowseNeeds``, ``FollowNeeds``). ``fleet.actions.perform``
carries a claimed action out through it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

from fleet.actions import comment as commenting
from fleet.actions import engage, following, post, reply
from fleet.actions.choice_needs import Choosing
from fleet.actions.choosing import (
    choose_planned,
    choose_post,
    likely_comments,
    target_of,
)
from fleet.actions.comment import CommentNeeds
from fleet.actions.common import Accounts, Billing, Effect, Ledger, Writing
from fleet.actions.engage import BrowseNeeds, LikeNeeds, plan_session
from fleet.actions.kit import ActionKit
from fleet.actions.post import PostNeeds
from fleet.actions.reply import ReplyNeeds
from fleet.actions.reply_choice import answerable, choose_comment
from fleet.activities import Claim
from fleet.content.port import Usage, makes_plans
from fleet.core.kinds import KINDS, Action
from fleet.honesty import ledger as identity

# Each handler's dependencies, and no more, built from the kit in this one place.
#
# The composition root builds one ``ActionKit`` per process; a handler is handed only what
# its kind uses (``PostNeeds``, ``CommentNeeds``, ``ReplyNeeds``, ``LikeNeeds``,
# ``BrowseNeeds``), so its signature says what it depends on. ``perform`` builds them from
# the kit and the delivery's collector of what its LLM calls billed (``spent``): per
# delivery for a kind that hands its bills to the delivery's end (a look's thought, a
# session's plan: ``keep_spent_at_end``), once per kit (``ActionKit.narrowed``) for one
# whose needs are the kit's alone (``Handler.per_kit``): a like's, a follow's, and a
# post's and a comment's, whose calls are charged and kept on their activity as they
# bill (``charge``, ``keep_spent``), never at the end. A batch's
# calls admitted at once are the kit's gallery's own state while the batch runs
# (``LimitedGallery.admitted``): no needs are built for a batch's view of the gallery.
#
# The choice of a target gets its own narrow dependency, ``Choosing``
# (``fleet.actions.choosing``), built here too, once per kit; a handler gets a choice as
# one bound function of it.

# A delivery's collector of what its succeeding actions' LLM calls billed, charged and
# recorded with its end (``perform.end``); None: charged and recorded at once.
OnSpent = Callable[[tuple[int, int, Usage]], None] | None


def ledger(kit: ActionKit) -> Ledger:
    return Ledger(kit.sessions, kit.now)


def billing(kit: ActionKit, spent: OnSpent = None) -> Billing:
    return Billing(kit.limits.spending, ledger(kit), spent)


def writing(kit: ActionKit, spent: OnSpent = None) -> Writing:
    voice = kit.authorship.voice
    return Writing(
        kit.personas,
        kit.writer,
        voice.guard,
        voice.recall,
        kit.sessions,
        kit.now,
        billing(kit, spent),
        operator=voice.operator,
        plans=makes_plans(kit.writer),
    )


def choosing(kit: ActionKit) -> Choosing:
    """What choosing a target reads: the kit's, narrowed once per kit."""
    found = kit.narrowed.get(Choosing)
    if found is not None:
        return found  # type: ignore[no-any-return]
    targeting = kit.targeting
    found = kit.narrowed[Choosing] = Choosing(
        kit.sessions,
        kit.gallery,
        kit.personas,
        kit.now,
        kit.settings,
        kit.authorship.voice.identity,
        targeting.feed_snapshot,
        targeting.taste,
        targeting.interests,
        targeting.welcome,
        targeting.holdout,
        targeting.consent,
        kit.events,
    )
    return found


def for_post(kit: ActionKit, spent: OnSpent = None) -> PostNeeds:
    """A post's needs, the kit's alone (its calls are charged as they bill: no ``spent``)."""
    rules, gallery = kit.authorship.publishing, kit.gallery
    return PostNeeds(
        Accounts(gallery, kit.sessions),
        writing(kit),
        ledger(kit),
        gallery,
        rules.review.kinds,
        rules.image_fallback,
        rules.placeholder_image_url,
        rules.provenance,
        rules.provenance_required,
    )


def for_comment(kit: ActionKit, spent: OnSpent = None) -> CommentNeeds:
    """A comment's needs, the kit's alone (its calls are charged as they bill: no ``spent``)."""
    chooses, gallery = choosing(kit), kit.gallery
    return CommentNeeds(
        Accounts(gallery, kit.sessions),
        writing(kit),
        ledger(kit),
        gallery,
        kit.authorship.publishing.review.kinds,
        target=partial(target_of, chooses),
        prefer=partial(choose_planned, chooses),
        consent=kit.targeting.consent,
    )


def _owes(kit: ActionKit, claim: Claim, comment_id: str) -> bool:
    return identity.owes_answer(kit.sessions, claim.actor.id, comment_id)


def for_reply(kit: ActionKit, spent: OnSpent = None) -> ReplyNeeds:
    gallery = kit.gallery
    return ReplyNeeds(
        Accounts(gallery, kit.sessions),
        writing(kit, spent),
        ledger(kit),
        gallery,
        kit.authorship.publishing.review.kinds,
        choose_comment=partial(choose_comment, choosing(kit)),
        identity=kit.authorship.voice.identity,
        owes=partial(_owes, kit),
        plan_session=(
            partial(plan_session, for_browse(kit, spent)) if makes_plans(kit.writer) else None
        ),
        consent=kit.targeting.consent,
    )


def for_like(kit: ActionKit, spent: OnSpent = None) -> LikeNeeds:
    gallery = kit.gallery
    return LikeNeeds(
        Accounts(gallery, kit.sessions),
        gallery,
        kit.authorship.publishing.review.kinds,
        choose_post=partial(choose_post, choosing(kit)),
        feed_snapshot=kit.targeting.feed_snapshot,
        consent=kit.targeting.consent,
        reactions=kit.settings.reactions,
    )


def for_follow(kit: ActionKit, spent: OnSpent = None) -> following.FollowNeeds:
    gallery = kit.gallery
    review = kit.authorship.publishing.review.kinds
    return following.FollowNeeds(Accounts(gallery, kit.sessions), gallery, review, choosing(kit))


def for_browse(kit: ActionKit, spent: OnSpent = None) -> BrowseNeeds:
    chooses, gallery = choosing(kit), kit.gallery
    return BrowseNeeds(
        Accounts(gallery, kit.sessions),
        gallery,
        kit.settings.feed_page_size,
        kit.personas,
        kit.writer,
        billing(kit, spent),
        writing=writing(kit, spent),
        answerable=partial(answerable, chooses),
        # Ranked only for a writer that makes plans (the offline writer and
        # FLEET_LLM__PLANS=false make none: nothing to rank the page for).
        likely=partial(likely_comments, chooses) if makes_plans(kit.writer) else None,
        home_share=kit.settings.home_feed_share,
        public=following.PublicPage(gallery, kit.settings.feed_page_size),
    )


Needs = TypeVar("Needs")


@dataclass(frozen=True, slots=True)
class Handler(Generic[Needs]):
    """A kind's handler and what it needs, narrowed from the kit (``fleet.actions.perform``)."""

    # What the kind needs, narrowed from the kit and the delivery's collector of what its
    # LLM calls billed.
    narrow: Callable[[ActionKit, OnSpent], Needs]
    # The action carried out with its needs: (needs, claim, last attempt) -> its effect.
    handle: Callable[[Needs, Claim, bool], Effect]
    # Its needs are the kit's alone (no collector of LLM bills: none, or charged as they
    # bill): narrowed once per kit.
    per_kit: bool = False


# The handler of each kind of action in the registry (``fleet.core.kinds``).
HANDLERS: dict[Action, Handler[Any]] = {
    Action.POST: Handler(for_post, post.handle, per_kit=True),
    Action.COMMENT: Handler(for_comment, commenting.handle, per_kit=True),
    Action.REPLY: Handler(for_reply, reply.handle),
    Action.LIKE: Handler(for_like, engage.like, per_kit=True),
    Action.BROWSE: Handler(for_browse, engage.browse),
    Action.FOLLOW: Handler(for_follow, following.follow, per_kit=True),
}
if set(HANDLERS) != set(KINDS):
    raise RuntimeError(
        f"kinds without a handler: {sorted(set(KINDS) - set(HANDLERS))}; "
        f"handlers without a kind: {sorted(set(HANDLERS) - set(KINDS))}"
    )
