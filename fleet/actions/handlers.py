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
from fleet.gallery.port import Gallery
from fleet.honesty import ledger as identity

# Each handler's dependencies, and no more, built from the kit in this one place.
#
# The composition root builds one ``ActionKit`` per process; a handler is handed only what
# its kind uses (``PostNeeds``, ``CommentNeeds``, ``ReplyNeeds``, ``LikeNeeds``,
# ``BrowseNeeds``), so its signature says what it depends on. ``perform`` builds them per
# delivery from the kit, the delivery's collector of what its LLM calls billed (``spent``)
# and the gallery it calls (``gallery``: a batch's, its calls admitted at once; None: the
# kit's).
#
# The choice of a target gets its own narrow dependency, ``Choosing``
# (``fleet.actions.choosing``), built here too; a handler gets a choice as one bound
# function of it.

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
    )


def choosing(kit: ActionKit, gallery: Gallery | None = None) -> Choosing:
    """What choosing a target reads, through ``gallery`` (None: the kit's)."""
    targeting = kit.targeting
    return Choosing(
        kit.sessions,
        gallery or kit.gallery,
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


def for_post(kit: ActionKit, spent: OnSpent = None, gallery: Gallery | None = None) -> PostNeeds:
    rules, gallery = kit.authorship.publishing, gallery or kit.gallery
    return PostNeeds(
        Accounts(gallery, kit.sessions),
        writing(kit, spent),
        ledger(kit),
        gallery,
        rules.review.kinds,
        rules.image_fallback,
        rules.placeholder_image_url,
        rules.provenance,
        rules.provenance_required,
    )


def for_comment(
    kit: ActionKit, spent: OnSpent = None, gallery: Gallery | None = None
) -> CommentNeeds:
    chooses, gallery = choosing(kit, gallery), gallery or kit.gallery
    return CommentNeeds(
        Accounts(gallery, kit.sessions),
        writing(kit, spent),
        ledger(kit),
        gallery,
        kit.authorship.publishing.review.kinds,
        target=partial(target_of, chooses),
        prefer=partial(choose_planned, chooses),
        consent=kit.targeting.consent,
    )


def _owes(kit: ActionKit, claim: Claim, comment_id: str) -> bool:
    return identity.owes_answer(kit.sessions, claim.actor.id, comment_id)


def for_reply(kit: ActionKit, spent: OnSpent = None, gallery: Gallery | None = None) -> ReplyNeeds:
    gallery = gallery or kit.gallery
    return ReplyNeeds(
        Accounts(gallery, kit.sessions),
        writing(kit, spent),
        ledger(kit),
        gallery,
        kit.authorship.publishing.review.kinds,
        choose_comment=partial(choose_comment, choosing(kit, gallery)),
        identity=kit.authorship.voice.identity,
        owes=partial(_owes, kit),
        plan_session=(
            partial(plan_session, for_browse(kit, spent, gallery))
            if makes_plans(kit.writer)
            else None
        ),
        consent=kit.targeting.consent,
    )


def for_like(kit: ActionKit, spent: OnSpent = None, gallery: Gallery | None = None) -> LikeNeeds:
    gallery = gallery or kit.gallery
    return LikeNeeds(
        Accounts(gallery, kit.sessions),
        gallery,
        kit.authorship.publishing.review.kinds,
        choose_post=partial(choose_post, choosing(kit, gallery)),
        feed_snapshot=kit.targeting.feed_snapshot,
        consent=kit.targeting.consent,
        reactions=kit.settings.reactions,
    )


def for_follow(
    kit: ActionKit, spent: OnSpent = None, gallery: Gallery | None = None
) -> following.FollowNeeds:
    gallery = gallery or kit.gallery
    review = kit.authorship.publishing.review.kinds
    return following.FollowNeeds(
        Accounts(gallery, kit.sessions), gallery, review, choosing(kit, gallery)
    )


def for_browse(
    kit: ActionKit, spent: OnSpent = None, gallery: Gallery | None = None
) -> BrowseNeeds:
    chooses, gallery = choosing(kit, gallery), gallery or kit.gallery
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
    )


Needs = TypeVar("Needs")


@dataclass(frozen=True, slots=True)
class Handler(Generic[Needs]):
    """A kind's handler and what it needs, narrowed from the kit (``fleet.actions.perform``)."""

    # What the kind needs, narrowed from the kit, the delivery's collector of what its LLM
    # calls billed and the gallery it calls (None: the kit's).
    narrow: Callable[[ActionKit, OnSpent, Gallery | None], Needs]
    # The action carried out with its needs: (needs, claim, last attempt) -> its effect.
    handle: Callable[[Needs, Claim, bool], Effect]


# The handler of each kind of action in the registry (``fleet.core.kinds``).
HANDLERS: dict[Action, Handler[Any]] = {
    Action.POST: Handler(for_post, post.handle),
    Action.COMMENT: Handler(for_comment, commenting.handle),
    Action.REPLY: Handler(for_reply, reply.handle),
    Action.LIKE: Handler(for_like, engage.like),
    Action.BROWSE: Handler(for_browse, engage.browse),
    Action.FOLLOW: Handler(for_follow, following.follow),
}
if set(HANDLERS) != set(KINDS):
    raise RuntimeError(
        f"kinds without a handler: {sorted(set(KINDS) - set(HANDLERS))}; "
        f"handlers without a kind: {sorted(set(HANDLERS) - set(KINDS))}"
    )
