"""What the handlers of several kinds share: the agent's gallery account, its activity
row, the LLM budget, the agent as a writer, and what a handler makes (``Effect``).

Each shared need is a small frozen dataclass (``Accounts``, ``Ledger``, ``Billing``,
``Writing``); a handler's own needs (``PostNeeds``, ``LikeNeeds``...) are made of them,
built from the kit in one place (``fleet.actions.perform``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from fleet import activities, agents
from fleet.actions.remembering import Recall
from fleet.activities import Claim
from fleet.activities.drafts import APPROVED
from fleet.content.guard.guard import ContentGuard, ContentSkipped, Echoes
from fleet.content.llm.budget import usage_record
from fleet.content.port import Author, ContentWriter, PostSeen, Usage, spent_on
from fleet.core.memory import MemoryKind
from fleet.errors import Skip, UnderReview
from fleet.gallery.answers import GalleryRefused
from fleet.gallery.port import Gallery, GalleryPost
from fleet.infra.persona_files import PersonaCatalogue

# What a handler made, returned when it succeeds: the activity's result (the post's id,
# the comment's text...) and the (target, kind) the success adds to the engagement ledger
# (None: the kind does not engage). Not how the action ended: a handler that returns has
# succeeded (a skip or a failure is raised), and ``perform.carry_out`` makes its outcome
# (``Succeeded``) of it.
Effect = tuple[dict[str, Any], tuple[str, str] | None]


# The fleet's newest texts a writer is shown, to steer clear of.
FLEET_RECENT = 60


class Spending(Protocol):
    """The LLM budget: checked before a call, charged after it."""

    def refusal(self, agent_id: int) -> str | None: ...

    def record(self, agent_id: int, usage: Usage) -> None: ...

    def record_many(self, spent: Sequence[tuple[int, Usage]]) -> None:
        """``record`` for a batch's calls at once (one round trip where the budget can)."""
        ...


class NoBudget:
    """No spending caps (the offline writer costs nothing)."""

    def refusal(self, agent_id: int) -> str | None:
        return None

    def record(self, agent_id: int, usage: Usage) -> None:
        return None

    def record_many(self, spent: Sequence[tuple[int, Usage]]) -> None:
        return None


@dataclass(frozen=True, slots=True)
class Accounts:
    """An agent's gallery account, provisioned on its first action (``ensure_user``)."""

    gallery: Gallery
    sessions: sessionmaker[Session]  # where the account's user id is kept (the agents')


@dataclass(frozen=True, slots=True)
class Ledger:
    """The action's own activity row, where what it made so far is kept before each
    gallery call (so a retry re-uses it)."""

    sessions: sessionmaker[Session]
    now: Callable[[], datetime]

    def save(
        self,
        claim: Claim,
        *,
        content: dict[str, Any] | None = None,
        usage: dict[str, Any] | None = None,
    ) -> None:
        activities.save_progress(
            self.sessions, claim.id, now=self.now(), content=content, usage=usage
        )


@dataclass(frozen=True, slots=True)
class Billing:
    """The LLM budgets: checked before a call, charged after it, and what it billed kept
    on the activity."""

    spending: Spending
    ledger: Ledger
    # In a batch: what a succeeding action billed, handed over to be charged and recorded
    # with the delivery's end (``perform.end``); None: charged and recorded at once.
    spent: Callable[[tuple[int, int, Usage]], None] | None = None


@dataclass(frozen=True, slots=True)
class Writing:
    """What a text in an agent's voice needs: its persona, the writer and its guard, what
    it and the fleet wrote lately, what it remembers, and the budget it is billed to."""

    personas: PersonaCatalogue
    writer: ContentWriter
    guard: ContentGuard | None
    recall: Recall | None
    sessions: sessionmaker[Session]  # the recent texts, the agent's and the fleet's
    now: Callable[[], datetime]
    billing: Billing
    # Who runs the fleet (``FLEET_DISCLOSURE__OPERATOR_NAME``), as the writers name them.
    operator: str = ""
    # Whether the writer writes a session's words in one plan (``makes_plans``), read once
    # when the needs are built: a post or comment of a writer that makes none (the offline
    # writer) neither waits for a plan nor reads one.
    plans: bool = True


def plain_author(claim: Claim) -> Author:
    """The agent as a writer, without its recent texts or memories."""
    actor = claim.actor
    return Author(actor.handle, actor.display_name, actor.seed)


def author_of(
    writing: Writing,
    claim: Claim,
    *,
    about: PostSeen | None = None,
    fleet: Sequence[str] | None = None,
) -> Author:
    """The agent as a writer, with its own recent texts (not to be repeated) and what it
    remembers that bears on a text about ``about`` (None: a post of its own). ``fleet``:
    the fleet's newest texts when the caller read them for its guard (``fleet_recent``),
    so that one read serves both; else the writer's share of them is read here."""
    own = activities.recent_texts_of(writing.sessions, agent_id=claim.actor.id, limit=20)
    if fleet is None:
        others = activities.recent_texts_of(writing.sessions, limit=FLEET_RECENT)
    else:
        others = list(fleet[:FLEET_RECENT])
    remembered: tuple[str, ...] = ()
    if writing.recall is not None:
        remembered = writing.recall.memories_for(claim.actor.id, now=writing.now(), about=about)
    actor = claim.actor
    return Author(
        actor.handle,
        actor.display_name,
        actor.seed,
        tuple(own),
        remembered,
        tuple(others),
        operator=writing.operator,
    )


def echo_check(writing: Writing, claim: Claim, *, reply: bool = False) -> Echoes | None:
    """The no-echo check of this agent's drafts (None: no vectors to check with); a
    reply's at the replies' threshold."""
    if writing.recall is None:
        return None
    kind = MemoryKind.POSTED if claim.action == "post" else MemoryKind.SAID
    return writing.recall.echo_check(
        persona=claim.actor.persona, now=writing.now(), kind=kind, reply=reply
    )


def fleet_recent(writing: Writing) -> list[str]:
    """The fleet's newest published texts (a draft must not repeat them)."""
    return activities.recent_texts_of(writing.sessions, limit=200)


def guarded_author(
    writing: Writing, claim: Claim, *, about: PostSeen | None = None
) -> tuple[Author, list[str]]:
    """The agent as a writer (``author_of``), and the fleet's newest texts its guard checks
    a draft against: one read of those serves both; without a guard, none are read but
    the writer's share."""
    if writing.guard is None:
        return author_of(writing, claim, about=about), []
    fleet = fleet_recent(writing)
    return author_of(writing, claim, about=about, fleet=fleet), fleet


def keep_spent(billing: Billing, claim: Claim, usage: Usage) -> None:
    """Charge the budgets and record on the activity what LLM calls were billed."""
    charge(billing, claim, usage)
    billing.ledger.save(claim, usage=usage_record(usage))


def keep_spent_at_end(billing: Billing, claim: Claim, usage: Usage) -> None:
    """What a call billed, as ``keep_spent``; in a batch, charged and recorded with the
    batch's end. Only once nothing can fail after it (the action succeeds)."""
    if billing.spent is None:
        keep_spent(billing, claim, usage)
    else:
        billing.spent((claim.id, claim.actor.id, usage))


@contextmanager
def billed(billing: Billing, claim: Claim) -> Iterator[None]:
    """Around a writer's call: what a failed writing was billed is kept before its error
    goes on (drafts the guard refused twice become a Skip)."""
    try:
        yield
    except ContentSkipped as skipped:
        keep_spent(billing, claim, skipped.usage)
        raise Skip(f"content guard: {skipped.reason}") from None
    except Exception as error:
        spent = spent_on(error)
        if spent is not None and spent.calls:
            keep_spent(billing, claim, spent)
        raise


def nonce(claim: Claim) -> int:
    """The number a draft is varied by: the tick's second."""
    return int(claim.due_at.timestamp())


def ensure_user(accounts: Accounts, claim: Claim) -> str:
    """The agent's gallery user id, provisioning the account on first use (idempotent)."""
    if claim.actor.platform_user_id:
        return claim.actor.platform_user_id
    user = accounts.gallery.provision_user(
        handle=claim.actor.handle, name=claim.actor.display_name, persona=claim.actor.persona
    )
    agents.set_platform_user(accounts.sessions, claim.actor.id, user.id)
    return user.id


def charge(billing: Billing, claim: Claim, usage: Usage) -> None:
    """Charge what the LLM billed to the agent's and the fleet's budgets."""
    billing.spending.record(claim.actor.id, usage)


# How long after its tick's due time a text's first delivery takes the tick's answer from
# the LLM budget as its own (``refuse_if_over_budget``). A queue that held the action
# longer (a backlog, a worker down) asks again: the actions a burst decided under the
# budget must not all spend past it once it is spent.
TICK_BUDGET_SECONDS = 30.0


def refuse_if_over_budget(writing: Writing, claim: Claim) -> None:
    """Skip (as degraded) when the agent's or the fleet's LLM budget is spent.

    The budget is asked only when the tick that decided the action did not answer for
    it: the tick's answer serves the action's first delivery (``claim.notes.budgeted``)
    within ``TICK_BUDGET_SECONDS`` of its due time. The tick asked seconds before the
    handler would: the same check of the same counters, the handler's adding only the
    seconds between (what a call costs is charged after its effect either way). A later
    delivery (a retry, a wait for a plan) asks again, as does an action no tick asked the
    budget for (an owed truthful answer, an admin's act: ``TickNotes``) and one delivered
    later than that."""
    waited = (writing.now() - claim.due_at).total_seconds()
    if claim.notes.budgeted and claim.deliveries == 1 and waited < TICK_BUDGET_SECONDS:
        return
    reason = writing.billing.spending.refusal(claim.actor.id)
    if reason is not None:
        raise Skip(f"degraded: {reason}")


def seen(post: GalleryPost) -> PostSeen:
    """A gallery post as a writer reads it."""
    return PostSeen(
        post.id, post.title, post.description, post.username, post.user_is_agent, post.image_url
    )


# Review mode in the actions: a content action of an agent under review stops at its draft.
#
# The handler writes its text and image and keeps them on the activity as always, then
# asks ``stop_for_review`` before its gallery call. Under review, that raises
# ``UnderReview``; ``perform`` turns the activity ``awaiting_review`` and records the draft
# (``fleet.activities.drafts``). An approval sends the same activity again, marked
# approved: the same handler finds its text kept, passes this check and publishes, with the
# same key, as a retry would.

# Marks of a delivery that may have reached the gallery (its answer lost): such an action
# is finished, looking before it acts, never held back as a draft.
_UNDER_WAY = ("posting", "commenting")


def stop_for_review(kinds: Collection[str], claim: Claim, content: dict[str, Any]) -> None:
    """Raise ``UnderReview`` if this action is to wait for an owner: its agent is under
    review, its kind is among the reviewed ``kinds`` (``ReviewSettings.kinds``), and it
    was neither approved nor begun on the gallery."""
    if not claim.actor.review or claim.action not in kinds:
        return
    if content.get(APPROVED) or any(content.get(mark) for mark in _UNDER_WAY):
        return
    raise UnderReview(f"{claim.action} of {claim.actor.handle} waits for review")


class _Comments(Protocol):
    @property
    def gallery(self) -> Gallery: ...


@contextmanager
def answered_comment_kept(
    needs: _Comments, handle: str, post_id: str, parent_id: str | None
) -> Iterator[None]:
    """Around a reply's gallery call: the comment it answers may have been deleted
    meanwhile (while its draft waited for review, say), and the gallery then refuses the
    reply (422: no such parent). If the comment is no longer on the post, the reply ends
    skipped, saying so, not dead."""
    try:
        yield
    except GalleryRefused as refused:
        if parent_id is None or refused.status not in (404, 422):
            raise
        try:
            there = needs.gallery.comments(agent=handle, post_id=post_id, limit=100)
        except GalleryRefused:
            raise refused from None
        if any(comment.id == parent_id for comment in there):
            raise
        raise Skip("the comment it answers was deleted") from None


@contextmanager
def answered_post_kept(content: dict[str, Any]) -> Iterator[None]:
    """Around an approved comment's gallery call: the post it answers may have been
    deleted while it waited for review; it then ends skipped, saying so."""
    try:
        yield
    except GalleryRefused as refused:
        if refused.status == 404 and content.get(APPROVED):
            raise Skip("the post it answers was deleted while it waited for review") from None
        raise
