"""What the handlers of several kinds share: the agent as a writer, its gallery account,
the LLM budget, and what a handler returns."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fleet import activities, agents
from fleet.actions.kit import ActionKit
from fleet.activities import Claim
from fleet.content.budget import usage_record
from fleet.content.guard import ContentSkipped
from fleet.content.port import Author, PostSeen, Usage, spent_on
from fleet.core.memory import MemoryKind
from fleet.errors import Skip
from fleet.gallery.port import GalleryPost

# What a handler returns: the activity's result, and the (target, kind) the success adds
# to the engagement ledger (None: the kind does not engage).
Handled = tuple[dict[str, Any], tuple[str, str] | None]


# The fleet's newest texts a writer is shown, to steer clear of.
FLEET_RECENT = 60


def author_of(
    kit: ActionKit, claim: Claim, *, recent: bool = True, about: PostSeen | None = None
) -> Author:
    """The agent as a writer, with its own recent texts (not to be repeated) if ``recent``
    and what it remembers that bears on a text about ``about`` (None: a post of its own)."""
    own: list[str] = []
    others: list[str] = []
    remembered: tuple[str, ...] = ()
    if recent:
        own = activities.recent_texts_of(kit.sessions, agent_id=claim.actor.id, limit=20)
        others = activities.recent_texts_of(kit.sessions, limit=FLEET_RECENT)
        if kit.recall is not None:
            remembered = kit.recall.memories_for(claim.actor.id, now=kit.now(), about=about)
    actor = claim.actor
    return Author(
        actor.handle, actor.display_name, actor.seed, tuple(own), remembered, tuple(others)
    )


def echo_check(kit: ActionKit, claim: Claim) -> Callable[[str], str | None] | None:
    """The no-echo check of this agent's drafts (None: no vectors to check with)."""
    if kit.recall is None:
        return None
    kind = MemoryKind.POSTED if claim.action == "post" else MemoryKind.SAID
    return kit.recall.echo_check(persona=claim.actor.persona, now=kit.now(), kind=kind)


def fleet_recent(kit: ActionKit) -> list[str]:
    """The fleet's newest published texts (a draft must not repeat them)."""
    return activities.recent_texts_of(kit.sessions, limit=200)


def keep_spent(kit: ActionKit, claim: Claim, usage: Usage) -> None:
    """Charge the budgets and record on the activity what LLM calls were billed."""
    charge(kit, claim, usage)
    activities.save_progress(kit.sessions, claim.id, now=kit.now(), usage=usage_record(usage))


def keep_spent_at_end(kit: ActionKit, claim: Claim, usage: Usage) -> None:
    """What a call billed, as ``keep_spent``; in a batch, charged and recorded with the
    batch's end. Only once nothing can fail after it (the action succeeds)."""
    if kit.spent is None:
        keep_spent(kit, claim, usage)
    else:
        kit.spent((claim.id, claim.actor.id, usage))


@contextmanager
def billed(kit: ActionKit, claim: Claim) -> Iterator[None]:
    """Around a writer's call: what a failed writing was billed is kept before its error
    goes on (drafts the guard refused twice become a Skip)."""
    try:
        yield
    except ContentSkipped as skipped:
        keep_spent(kit, claim, skipped.usage)
        raise Skip(f"content guard: {skipped.reason}") from None
    except Exception as error:
        spent = spent_on(error)
        if spent is not None and spent.calls:
            keep_spent(kit, claim, spent)
        raise


def nonce(claim: Claim) -> int:
    """The number a draft is varied by: the tick's second."""
    return int(claim.due_at.timestamp())


def ensure_user(kit: ActionKit, claim: Claim) -> str:
    """The agent's gallery user id, provisioning the account on first use (idempotent)."""
    if claim.actor.platform_user_id:
        return claim.actor.platform_user_id
    user = kit.gallery.provision_user(
        handle=claim.actor.handle, name=claim.actor.display_name, persona=claim.actor.persona
    )
    agents.set_platform_user(kit.sessions, claim.actor.id, user.id)
    return user.id


def charge(kit: ActionKit, claim: Claim, usage: Usage) -> None:
    """Charge what the LLM billed to the agent's and the fleet's budgets."""
    kit.spending.record(claim.actor.id, usage)


def refuse_if_over_budget(kit: ActionKit, claim: Claim) -> None:
    """Skip (as degraded) when the agent's or the fleet's LLM budget is spent."""
    reason = kit.spending.refusal(claim.actor.id)
    if reason is not None:
        raise Skip(f"degraded: {reason}")


def seen(post: GalleryPost) -> PostSeen:
    """A gallery post as a writer reads it."""
    return PostSeen(
        post.id, post.title, post.description, post.username, post.user_is_agent, post.image_url
    )
