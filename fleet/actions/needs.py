"""Each handler's dependencies, and no more, built from the kit in this one place.

The composition root builds one ``ActionKit`` per process; a handler is handed only what
its kind uses (``PostNeeds``, ``CommentNeeds``, ``ReplyNeeds``, ``LikeNeeds``,
``BrowseNeeds``), so its signature says what it depends on. ``perform`` builds them per
delivery from the kit, the delivery's collector of what its LLM calls billed (``spent``)
and the gallery it calls (``gallery``: a batch's, its calls admitted at once; None: the
kit's).

The choice of a target gets its own narrow dependency, ``Choosing``
(``fleet.actions.choosing``), built here too; a handler gets a choice as one bound
function of it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from fleet.actions.choosing import (
    Choosing,
    answerable,
    choose_comment,
    choose_planned,
    choose_post,
    likely_comments,
    target_of,
)
from fleet.actions.comment import CommentNeeds
from fleet.actions.common import Accounts, Billing, Ledger, Writing
from fleet.actions.engage import BrowseNeeds, LikeNeeds, plan_session
from fleet.actions.kit import ActionKit
from fleet.actions.post import PostNeeds
from fleet.actions.reply import ReplyNeeds
from fleet.content.port import Usage
from fleet.gallery.port import Gallery

# A delivery's collector of what its succeeding actions' LLM calls billed, charged and
# recorded with its end (``perform.end``); None: charged and recorded at once.
Spent = Callable[[tuple[int, int, Usage]], None] | None


def accounts(kit: ActionKit, gallery: Gallery | None = None) -> Accounts:
    return Accounts(gallery or kit.gallery, kit.sessions)


def ledger(kit: ActionKit) -> Ledger:
    return Ledger(kit.sessions, kit.now)


def billing(kit: ActionKit, spent: Spent = None) -> Billing:
    return Billing(kit.limits.spending, ledger(kit), spent)


def writing(kit: ActionKit, spent: Spent = None) -> Writing:
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
    )


def for_post(kit: ActionKit, spent: Spent = None, gallery: Gallery | None = None) -> PostNeeds:
    rules, gallery = kit.authorship.publishing, gallery or kit.gallery
    return PostNeeds(
        accounts(kit, gallery),
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
    kit: ActionKit, spent: Spent = None, gallery: Gallery | None = None
) -> CommentNeeds:
    chooses, gallery = choosing(kit, gallery), gallery or kit.gallery
    return CommentNeeds(
        accounts(kit, gallery),
        writing(kit, spent),
        ledger(kit),
        gallery,
        kit.authorship.publishing.review.kinds,
        target=partial(target_of, chooses),
        prefer=partial(choose_planned, chooses),
    )


def for_reply(kit: ActionKit, spent: Spent = None, gallery: Gallery | None = None) -> ReplyNeeds:
    gallery = gallery or kit.gallery
    return ReplyNeeds(
        accounts(kit, gallery),
        writing(kit, spent),
        ledger(kit),
        gallery,
        kit.authorship.publishing.review.kinds,
        choose_comment=partial(choose_comment, choosing(kit, gallery)),
        identity=kit.authorship.voice.identity,
        plan_session=(
            partial(plan_session, for_browse(kit, spent, gallery)) if _plans(kit) else None
        ),
    )


def for_like(kit: ActionKit, spent: Spent = None, gallery: Gallery | None = None) -> LikeNeeds:
    gallery = gallery or kit.gallery
    return LikeNeeds(
        accounts(kit, gallery),
        gallery,
        kit.authorship.publishing.review.kinds,
        choose_post=partial(choose_post, choosing(kit, gallery)),
        feed_snapshot=kit.targeting.feed_snapshot,
    )


def for_browse(kit: ActionKit, spent: Spent = None, gallery: Gallery | None = None) -> BrowseNeeds:
    chooses, gallery = choosing(kit, gallery), gallery or kit.gallery
    return BrowseNeeds(
        accounts(kit, gallery),
        gallery,
        kit.settings.feed_page_size,
        kit.personas,
        kit.writer,
        billing(kit, spent),
        writing=writing(kit, spent),
        answerable=partial(answerable, chooses),
        # Ranked only for a writer that makes plans (the offline writer and
        # FLEET_LLM__PLANS=false make none: nothing to rank the page for).
        likely=partial(likely_comments, chooses) if _plans(kit) else None,
    )


def _plans(kit: ActionKit) -> bool:
    """Whether the kit's writer makes plans (the offline writer and FLEET_LLM__PLANS=false
    make none: no page to rank or read for one)."""
    return bool(getattr(kit.writer, "makes_plans", True))
