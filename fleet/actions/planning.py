"""A speaking session's plan in the actions: written once at its opening look, used by
its comments, replies and post.

The opening look of a session that holds a comment, a reply or a post (the tick's decision
marks it with ``session`` and ``says``, ``fleet.agents.deciding``) asks the writer for
all of those words in one call (``fleet.content.llm.planning``), shown the page it read and
the comments it may answer, and keeps the plan with the session
(``fleet.activities.plans``) before any action uses it; a retried look finds it kept
and pays nothing, and a plan that failed is kept empty, so nothing pays for it twice.

Each of the session's actions then chooses its target as always (a comment prefers the
posts its plan wrote for, within the same rules: consent, the holdout, the hourly cap,
its own engagements) and takes the plan's text for that target, when there is one, after
the guard's check of it alone; a text the guard refuses, or a target the plan has no
text for, falls back to the action's own call. A reply to a comment that asks what the
agent is never takes a planned text: it keeps its truthful path (``actions.reply``).
Under review, a planned text stops at its action's draft like any other.

The plan may also propose follows from the page it was shown (at most two a scan, seed
002); a follow of the session takes them first (``planned_follows_of``,
``actions.following``), after people's say, the holdout and the ledger, as any follow. A
follow does not wait for its plan: one that comes before the plan is kept chooses alone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from fleet import activities
from fleet.actions.common import (
    Billing,
    Writing,
    author_of,
    billed,
    echo_check,
    guarded_author,
    keep_spent_at_end,
    nonce,
)
from fleet.activities import Claim
from fleet.activities.plans import keep_plan, opening_pending, plan_before, plan_of
from fleet.content.guard.guard import ACCEPT, Verdict, no_echo
from fleet.content.llm import planning
from fleet.content.port import (
    CommentDraft,
    PlanAsk,
    PostDraft,
    PostSeen,
    SessionPlan,
    Usage,
)
from fleet.core.memory import post_text
from fleet.errors import Deferred
from fleet.infra.logs import get_logger

log = get_logger(__name__)

# The usage a planned text is recorded with: no call of its own (the plan's call is on
# the opening look's activity), the plan's writer named.
PLANNED = "plan"
# A comment, reply or post whose session's opening look is still pending (queued behind
# it on another queue, or writing the plan now) waits for the plan: it looks again after
# PLAN_WAIT_STEP, delivered at most PLAN_WAITS times (about 20 s; under the deferrals a
# task may take, ``max_deferrals``), then writes its own words. Counted in deliveries,
# not from its due time: a backlog (or the demo's 10-minute dispatch slices) delays the
# look as much as the word.
PLAN_WAITS = 10
PLAN_WAIT_STEP = timedelta(seconds=2)
# A follow carries no mark of its session (the dispatcher marks only the words'): it takes
# the follows proposed by the plan of the agent's latest session opened at most this long
# before it is due (a session lasts minutes).
FOLLOW_REACH = timedelta(hours=1)


def session_of(claim: Claim) -> datetime | None:
    """The opening second of the session this action belongs to (None: not in one)."""
    opened = claim.notes.session
    return None if opened is None else datetime.fromtimestamp(opened, UTC)


def says(claim: Claim) -> dict[str, int]:
    """What the session holds as drawn, when this is its opening look (else nothing)."""
    return dict(claim.notes.says)


def make_plan(
    writing: Writing,
    billing: Billing,
    claim: Claim,
    page: list[PostSeen],
    answerable: Callable[[Claim], list[PostSeen]],
) -> SessionPlan | None:
    """The session's plan, written once at its opening look and kept; None when this look
    opens no speaking session (it thinks as before). A plan kept before is read, not
    written again; one that cannot be written (the budget spent, the writer down or
    refusing) is kept empty, logged once: each action then writes its own words."""
    opened, said = session_of(claim), says(claim)
    if opened is None or not said:
        return None
    kept = plan_of(writing.sessions, claim.actor.id, opened)
    if kept is not None:
        return planning.from_record(kept)
    ask = PlanAsk(said, tuple(page), tuple(answerable(claim)) if said.get("reply") else ())
    if not planning.wanted(ask) or billing.spending.refusal(claim.actor.id) is not None:
        return None
    persona = writing.personas.get(claim.actor.persona)
    author = author_of(writing, claim)
    try:
        with billed(billing, claim):
            plan = writing.writer.plan(persona, author, ask, nonce=nonce(claim))
    except Exception as error:  # a plan is an economy: it never fails the look
        log.warning(
            "the session's plan was not written; its actions write their own",
            agent=claim.actor.id,
            reason=str(error)[:200],
        )
        plan = SessionPlan(usage=Usage(model="failed", calls=0))
    else:
        if plan.usage.calls == 0 and plan.items == 0:
            return None  # a writer with no plans to make (offline): nothing to keep
    if plan.dropped:
        log.warning(
            "the session's plan had items cut (unknown targets, too many, over the bounds)",
            agent=claim.actor.id,
            dropped=plan.dropped,
            kept=plan.items,
        )
    record = planning.as_record(plan)
    record["provider"] = plan.usage.provider or plan.usage.model
    kept = keep_plan(writing.sessions, claim.actor.id, opened, record, now=writing.now())
    if plan.usage.calls:
        keep_spent_at_end(billing, claim, plan.usage)
    return planning.from_record(kept)


def await_plan(writing: Writing, claim: Claim) -> None:
    """Raise ``Deferred`` (a little later, no failure counted) while this comment, reply
    or post's session has no plan kept and the session's opening look, which writes it,
    is still pending: the look goes to the ``engage`` queue and the words to ``content``,
    so a worker may take a word first, which then chose and wrote without its plan (5-8 %
    of comments in ``bench.community``). Delivered ``PLAN_WAITS`` times, it waits no
    more. The opening action itself (``says``), one outside a session, and any action of
    a writer that makes no plans (the offline writer, ``FLEET_LLM__PLANS=false``) never
    wait."""
    if not writing.plans:
        return
    opened = session_of(claim)
    if opened is None or says(claim) or claim.deliveries > PLAN_WAITS:
        return
    if plan_of(writing.sessions, claim.actor.id, opened) is not None:
        return
    if not opening_pending(writing.sessions, claim.actor.id, opened):
        return
    raise Deferred("its session's plan is being written", until=writing.now() + PLAN_WAIT_STEP)


def _kept(writing: Writing, claim: Claim) -> tuple[SessionPlan, str] | None:
    """The plan kept for this action's session, and who wrote it; None outside a session,
    or before its plan, or for a writer that makes none (the offline writer,
    ``FLEET_LLM__PLANS=false``): the ledger is not read for a plan no one writes."""
    if not writing.plans:
        return None
    opened = session_of(claim)
    if opened is None:
        return None
    kept = plan_of(writing.sessions, claim.actor.id, opened)
    if kept is None:
        return None
    return planning.from_record(kept), str(kept.get("provider") or PLANNED)[:100]


def planned_replies(sessions: sessionmaker[Session], claim: Claim) -> frozenset[str]:
    """The comments this reply's session plan wrote replies to (none: no plan)."""
    opened = session_of(claim)
    kept = None if opened is None else plan_of(sessions, claim.actor.id, opened)
    return frozenset(planning.from_record(kept).replies) if kept is not None else frozenset()


def planned_follows_of(sessions: sessionmaker[Session], claim: Claim) -> tuple[str, ...]:
    """The handles the plan of this follow's session proposed to follow, from the page its
    opening look saw (none: no plan kept yet, or the writer makes none). Each is a
    proposal: the follow still leaves out whom it may not follow."""
    kept = plan_before(sessions, claim.actor.id, claim.due_at, FOLLOW_REACH)
    return planning.from_record(kept).follows if kept is not None else ()


def planned_targets(writing: Writing, claim: Claim) -> list[str]:
    """The posts this comment's session plan wrote a comment for."""
    found = _kept(writing, claim)
    return list(found[0].comments) if found is not None else []


def _usage(provider: str) -> Usage:
    return Usage(model=PLANNED, calls=0, provider=provider)


def planned_comment(
    writing: Writing, claim: Claim, post: PostSeen
) -> tuple[CommentDraft, Verdict] | None:
    """The plan's comment on ``post`` (its reply to ``post.answering``), if the session's
    plan wrote one, with the guard's verdict on it alone (None: no planned text; the
    action writes its own). A refused one is the action's first draft
    (``guard.write_guarded``'s ``first``): one call of its own follows, not two."""
    if post.answering is not None and post.answering.asks_identity:
        return None  # a truthful answer is never a planned one
    found = _kept(writing, claim)
    if found is None:
        return None
    plan, provider = found
    if post.answering is not None:
        text = plan.replies.get(post.answering.comment_id)
    else:
        text = plan.comments.get(post.post_id)
    if not text:
        return None
    draft = CommentDraft(post.post_id, text, _usage(provider))
    if writing.guard is None:
        return draft, ACCEPT
    author, fleet = guarded_author(writing, claim, about=post)
    verdict = no_echo(
        writing.guard.check_comment(draft, author, post, fleet),
        draft.text,
        echo_check(writing, claim, reply=post.answering is not None),
    )
    if not verdict.ok:
        _refused(writing, claim, verdict.reason)
    return draft, verdict


def planned_post(writing: Writing, claim: Claim) -> PostDraft | None:
    """The plan's post, if the session's plan wrote one and the guard accepts it."""
    found = _kept(writing, claim)
    if found is None or found[0].post is None:
        return None
    made, provider = found[0].post, found[1]
    persona = writing.personas.get(claim.actor.persona)
    if made.style not in persona.workflow_styles or not made.title:
        return None
    draft = PostDraft(made.image_prompt, made.style, made.title, made.description, _usage(provider))
    if writing.guard is not None:
        author, fleet = guarded_author(writing, claim)
        verdict = no_echo(
            writing.guard.check_post(draft, author, fleet),
            post_text(draft.title, draft.description),
            echo_check(writing, claim),
        )
        if not verdict.ok:
            _refused(writing, claim, verdict.reason)
            return None
    return draft


def _refused(writing: Writing, claim: Claim, reason: str | None) -> None:
    """A planned text the guard refused: the action writes its own, and says why on its
    activity (``plan_refused``), so a session that paid twice can be read."""
    said = (reason or "refused")[:120]
    log.info("a planned text was refused by the guard", agent=claim.actor.id, reason=said)
    activities.save_progress(
        writing.sessions, claim.id, now=writing.now(), content={"plan_refused": said}
    )


def as_content(draft: PostDraft | CommentDraft) -> dict[str, Any]:
    """What an activity keeps of a planned text: that it was planned (nothing for a text
    the action wrote itself)."""
    return {"planned": True} if draft.usage.model == PLANNED else {}
