"""Each handler's dependencies, and no more, built from the kit in this one place.

The composition root builds one ``ActionKit`` per process; a handler is handed only what
its kind uses (``PostNeeds``, ``CommentNeeds``, ``ReplyNeeds``, ``LikeNeeds``,
``BrowseNeeds``), so its signature says what it depends on. ``perform`` builds them per
delivery from the kit it was given (a batch's kit has its own gallery) and the delivery's
collector of what its LLM calls billed (``spent``).

The choice of a target (``fleet.actions.choosing``) still reads the whole kit (the feeds,
taste, interests, the welcome): a handler gets it as one bound function.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from fleet.actions.choosing import (
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

# A delivery's collector of what its succeeding actions' LLM calls billed, charged and
# recorded with its end (``perform.end``); None: charged and recorded at once.
Spent = Callable[[tuple[int, int, Usage]], None] | None


def accounts(kit: ActionKit) -> Accounts:
    return Accounts(kit.gallery, kit.sessions)


def ledger(kit: ActionKit) -> Ledger:
    return Ledger(kit.sessions, kit.now)


def billing(kit: ActionKit, spent: Spent = None) -> Billing:
    return Billing(kit.spending, ledger(kit), spent)


def writing(kit: ActionKit, spent: Spent = None) -> Writing:
    return Writing(
        kit.personas,
        kit.writer,
        kit.guard,
        kit.recall,
        kit.sessions,
        kit.now,
        billing(kit, spent),
        operator=kit.operator,
    )


def for_post(kit: ActionKit, spent: Spent = None) -> PostNeeds:
    return PostNeeds(
        accounts(kit),
        writing(kit, spent),
        ledger(kit),
        kit.gallery,
        kit.review.kinds,
        kit.image_fallback,
        kit.placeholder_image_url,
        kit.provenance,
        kit.provenance_required,
    )


def for_comment(kit: ActionKit, spent: Spent = None) -> CommentNeeds:
    return CommentNeeds(
        accounts(kit),
        writing(kit, spent),
        ledger(kit),
        kit.gallery,
        kit.review.kinds,
        target=partial(target_of, kit),
        prefer=partial(choose_planned, kit),
    )


def for_reply(kit: ActionKit, spent: Spent = None) -> ReplyNeeds:
    return ReplyNeeds(
        accounts(kit),
        writing(kit, spent),
        ledger(kit),
        kit.gallery,
        kit.review.kinds,
        choose_comment=partial(choose_comment, kit),
        identity=kit.identity,
        plan_session=partial(plan_session, for_browse(kit, spent)) if _plans(kit) else None,
    )


def for_like(kit: ActionKit, spent: Spent = None) -> LikeNeeds:
    return LikeNeeds(
        accounts(kit),
        kit.gallery,
        kit.review.kinds,
        choose_post=partial(choose_post, kit),
        feed_snapshot=kit.feed_snapshot,
    )


def for_browse(kit: ActionKit, spent: Spent = None) -> BrowseNeeds:
    return BrowseNeeds(
        accounts(kit),
        kit.gallery,
        kit.settings.feed_page_size,
        kit.personas,
        kit.writer,
        billing(kit, spent),
        writing=writing(kit, spent),
        answerable=partial(answerable, kit),
        # Ranked only for a writer that makes plans (the offline writer and
        # FLEET_LLM__PLANS=false make none: nothing to rank the page for).
        likely=partial(likely_comments, kit) if _plans(kit) else None,
    )


def _plans(kit: ActionKit) -> bool:
    """Whether the kit's writer makes plans (the offline writer and FLEET_LLM__PLANS=false
    make none: no page to rank or read for one)."""
    return bool(getattr(kit.writer, "makes_plans", True))
