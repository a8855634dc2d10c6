"""Carrying out one decided action, exactly once in effect, however often it is delivered.

An action claims its activity by key (a terminal one means: done, return), keeps what it
generates on the activity before it calls the gallery (so a retry never asks the LLM
again), records and charges every LLM call the provider billed whatever the outcome (a
refused answer, a failed repair, a draft the guard turned down), calls the gallery with the key as ``Idempotency-Key``, and ends the activity in
exactly one terminal state. No database transaction is open during an LLM or gallery
call. When the gallery keeps no idempotency keys and an answer was lost, a retry first
looks for the effect (its post with the same image, its comment with the same text).

Errors are left to the task layer, which owns retries: ``TransientError`` retries,
``PermanentError`` dead-letters, ``Deferred`` waits, ``Skip`` ends the activity skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from sqlalchemy.orm import Session, sessionmaker

from fleet import activities
from fleet.activities import Claim, Held
from fleet.content.guard import ContentGuard, ContentSkipped, guarded_comment, guarded_post
from fleet.content.port import Author, ContentWriter, PostSeen, Usage, spent_on
from fleet.db.engine import autocommit
from fleet.db.models import Agent
from fleet.errors import Deferred, PermanentError, Skip, TransientError
from fleet.feed import FeedSnapshot, choose_post, first_choice, target_of
from fleet.gallery.port import Gallery, GalleryPost
from fleet.personas import PersonaCatalogue
from fleet.settings import ActionSettings

Event = dict[str, Any]


class Spending(Protocol):
    """The LLM budget: checked before a call, charged after it."""

    def refusal(self, agent_id: int) -> str | None: ...

    def record(self, agent_id: int, usage: Usage) -> None: ...


class NoBudget:
    """No spending caps (the offline writer costs nothing)."""

    def refusal(self, agent_id: int) -> str | None:
        return None

    def record(self, agent_id: int, usage: Usage) -> None:
        return None


@dataclass
class ActionKit:
    """What actions need, built once per process by the composition root."""

    sessions: sessionmaker[Session]
    personas: PersonaCatalogue
    gallery: Gallery
    writer: ContentWriter
    settings: ActionSettings
    lease: timedelta
    max_attempts: int = 5
    # Claims of one action at the most: its attempts, its deferrals, and a few lost ones.
    max_deliveries: int = 35
    image_fallback: Literal["placeholder", "skip"] = "placeholder"
    placeholder_image_url: str = ""
    spending: Spending = field(default_factory=NoBudget)
    guard: ContentGuard | None = None
    feed_snapshot: FeedSnapshot = field(default_factory=lambda: FeedSnapshot(0.0))
    publish: Callable[[Event], None] = lambda event: None
    now: Callable[[], datetime] = lambda: datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one delivery of an action ended."""

    status: str  # succeeded, skipped, already-finished or held-elsewhere
    activity_id: int | None = None
    detail: dict[str, Any] | None = None


def perform(kit: ActionKit, key: str) -> Outcome:
    """Carry out the action ``key`` names, or return at once if it already ended."""
    claim = activities.claim(
        kit.sessions, key, now=kit.now(), lease=kit.lease, first_choice=first_choice(kit, key)
    )
    if claim is None:
        return Outcome("already-finished")
    if isinstance(claim, Held):
        # Another delivery holds it (a copy re-sent while the first was queued or running):
        # no second LLM call, no second effect. Should the holder die, its lease runs out
        # and the sweeper sends the action again.
        return Outcome("held-elsewhere")
    if claim.deliveries > kit.max_deliveries:
        # Deliveries that never reached a verdict (a worker killed, a message lost) would
        # otherwise come back for ever: this one ends the action.
        raise PermanentError(
            f"delivered {claim.deliveries} times, more than the {kit.max_deliveries} its "
            "attempts, deferrals and lost deliveries allow: its workers died or its "
            "messages were lost before it ended"
        )
    last_attempt = claim.attempts + 1 >= kit.max_attempts
    try:
        if not claim.actor.active and claim.attempts == 0 and claim.deliveries <= 1:
            # Pausing stops new actions. One an earlier delivery began may have reached
            # the gallery (its answer lost): it is finished, looking before it acts, not
            # abandoned as skipped with its effect on the gallery.
            raise Skip(f"agent {claim.actor.handle} is {claim.actor.status}, not active")
        handler = _HANDLERS[claim.action]
        result, engagement, thought = handler(kit, claim, last_attempt)
    except Skip as skip:
        ended = activities.finish(
            kit.sessions, claim.id, "skipped", now=kit.now(), reason=str(skip)
        )
        if ended:
            _announce(kit, claim, "skipped", {"reason": str(skip)})
        return Outcome("skipped" if ended else "already-finished", claim.id, {"reason": str(skip)})
    ended = activities.finish(
        kit.sessions,
        claim.id,
        "succeeded",
        now=kit.now(),
        result=result,
        engagement=engagement,
        thought=thought,
    )
    if ended:
        _announce(kit, claim, "succeeded", result)
    return Outcome("succeeded" if ended else "already-finished", claim.id, result)


@dataclass(frozen=True, slots=True)
class Ended:
    """An activity that reached its terminal state, as the live feed tells it."""

    activity_id: int
    agent_id: int
    handle: str
    persona: str
    action: str
    key: str


def announce(kit: ActionKit, ended: Ended, status: str, detail: dict[str, Any] | None) -> None:
    """Publish the event of an activity's end on the live feed (``fleet:activity``)."""
    kit.publish(
        {
            "activity_id": ended.activity_id,
            "agent_id": ended.agent_id,
            "handle": ended.handle,
            "persona": ended.persona,
            "action": ended.action,
            "status": status,
            "key": ended.key,
            "detail": detail or {},
            "at": kit.now().isoformat(),
        }
    )


def _announce(kit: ActionKit, claim: Claim, status: str, detail: dict[str, Any] | None) -> None:
    actor = claim.actor
    ended = Ended(claim.id, actor.id, actor.handle, actor.persona, claim.action, claim.key)
    announce(kit, ended, status, detail)


def _author(kit: ActionKit, claim: Claim, *, recent: bool = True) -> Author:
    """The agent as a writer, with its own recent texts (not to be repeated) if ``recent``."""
    own: list[str] = []
    if recent:
        with autocommit(kit.sessions).connect() as connection:
            own = activities.recent_texts(connection, agent_id=claim.actor.id, limit=20)
    return Author(claim.actor.handle, claim.actor.display_name, claim.actor.seed, tuple(own))


def _fleet_recent(kit: ActionKit) -> list[str]:
    with autocommit(kit.sessions).connect() as connection:
        return activities.recent_texts(connection, limit=200)


def _keep_spent(kit: ActionKit, claim: Claim, usage: Usage) -> None:
    """Charge the budgets and record on the activity what LLM calls were billed."""
    _charge(kit, claim, usage)
    activities.save_progress(kit.sessions, claim.id, now=kit.now(), usage=asdict(usage))


@contextmanager
def _billed(kit: ActionKit, claim: Claim) -> Iterator[None]:
    """Around a writer's call: what a failed writing was billed is kept before its error
    goes on (drafts the guard refused twice become a Skip)."""
    try:
        yield
    except ContentSkipped as skipped:
        _keep_spent(kit, claim, skipped.usage)
        raise Skip(f"content guard: {skipped.reason}") from None
    except Exception as error:
        spent = spent_on(error)
        if spent is not None and spent.calls:
            _keep_spent(kit, claim, spent)
        raise


def _nonce(claim: Claim) -> int:
    return int(claim.due_at.timestamp())


def ensure_user(kit: ActionKit, claim: Claim) -> str:
    """The agent's gallery user id, provisioning the account on first use (idempotent)."""
    if claim.actor.platform_user_id:
        return claim.actor.platform_user_id
    user = kit.gallery.provision_user(
        handle=claim.actor.handle, name=claim.actor.display_name, persona=claim.actor.persona
    )
    with kit.sessions.begin() as session:
        agent = session.get_one(Agent, claim.actor.id)
        agent.platform_user_id = user.id
    return user.id


def _charge(kit: ActionKit, claim: Claim, usage: Usage) -> None:
    kit.spending.record(claim.actor.id, usage)


def _refuse_if_over_budget(kit: ActionKit, claim: Claim) -> None:
    reason = kit.spending.refusal(claim.actor.id)
    if reason is not None:
        raise Skip(f"degraded: {reason}")


Handled = tuple[dict[str, Any], tuple[str, str] | None, str | None]


def _post(kit: ActionKit, claim: Claim, last_attempt: bool) -> Handled:
    ensure_user(kit, claim)
    persona = kit.personas.get(claim.actor.persona)
    content = dict(claim.content)
    if "title" not in content:
        _refuse_if_over_budget(kit, claim)
        author = _author(kit, claim)
        with _billed(kit, claim):
            if kit.guard is not None:
                draft = guarded_post(
                    kit.writer,
                    kit.guard,
                    persona,
                    author,
                    nonce=_nonce(claim),
                    fleet_recent=_fleet_recent(kit),
                )
            else:
                draft = kit.writer.write_post(persona, author, nonce=_nonce(claim))
        _charge(kit, claim, draft.usage)
        content.update(
            image_prompt=draft.image_prompt,
            style=draft.style,
            title=draft.title,
            description=draft.description,
        )
        activities.save_progress(
            kit.sessions, claim.id, now=kit.now(), content=content, usage=asdict(draft.usage)
        )
    handle = claim.actor.handle
    if "image_url" not in content:
        content["image_url"] = _image(kit, claim, content, last_attempt)
        activities.save_progress(
            kit.sessions, claim.id, now=kit.now(), content={"image_url": content["image_url"]}
        )
    if content.get("posting"):
        # An earlier delivery may have posted and lost the answer: look before posting.
        found = _find_own_post(kit, handle, content["image_url"])
        if found is not None:
            return {"post_id": found.id, "recovered": True}, None, None
    else:
        activities.save_progress(kit.sessions, claim.id, now=kit.now(), content={"posting": True})
    post = kit.gallery.create_post(
        agent=handle,
        image_url=content["image_url"],
        title=content["title"],
        description=content["description"],
        idempotency_key=claim.key,
    )
    return {"post_id": post.id, "image_url": post.image_url}, None, None


def _image(kit: ActionKit, claim: Claim, content: dict[str, Any], last_attempt: bool) -> str:
    try:
        return kit.gallery.generate_image(
            agent=claim.actor.handle,
            prompt=content["image_prompt"],
            style=content["style"],
            persona=claim.actor.persona,
            # One key per kind of call: the workflow run and the post are two effects.
            idempotency_key=f"{claim.key}:image",
        )
    except (PermanentError, TransientError) as exc:
        # A budget or pause answer (Deferred) is a TransientError too, but it never falls back.
        if isinstance(exc, Deferred):
            raise
        if isinstance(exc, TransientError) and not last_attempt:
            raise
        if kit.image_fallback == "skip" or not kit.placeholder_image_url:
            raise Skip(f"image workflow failed ({exc}); image fallback is skip") from exc
        return kit.placeholder_image_url


def _find_own_post(kit: ActionKit, handle: str, image_url: str) -> GalleryPost | None:
    for page in range(3):
        posts = kit.gallery.feed(agent=handle, limit=50, offset=page * 50, sort="recent")
        for post in posts:
            if post.username == handle and post.image_url == image_url:
                return post
        if len(posts) < 50:
            break
    return None


def _like(kit: ActionKit, claim: Claim, last_attempt: bool) -> Handled:
    ensure_user(kit, claim)
    # A retry, or a claim that kept its first choice, knows its target already.
    post_id = claim.target_post_id or choose_post(kit, claim, "like").id
    liked = kit.gallery.like(agent=claim.actor.handle, post_id=post_id, idempotency_key=claim.key)
    return {"post_id": post_id, "like_count": liked.like_count}, (post_id, "like"), None


def _seen(post: GalleryPost) -> PostSeen:
    return PostSeen(
        post.id, post.title, post.description, post.username, post.user_is_agent, post.image_url
    )


def _comment(kit: ActionKit, claim: Claim, last_attempt: bool) -> Handled:
    ensure_user(kit, claim)
    content = dict(claim.content)
    if claim.target_post_id is not None and "text" in content:
        # A retry with its reply already written needs no read of the post.
        return _publish_comment(kit, claim, claim.target_post_id, content)
    post = target_of(kit, claim, "comment")
    persona = kit.personas.get(claim.actor.persona)
    if "text" not in content:
        _refuse_if_over_budget(kit, claim)
        author = _author(kit, claim)
        with _billed(kit, claim):
            if kit.guard is not None:
                draft = guarded_comment(
                    kit.writer,
                    kit.guard,
                    persona,
                    author,
                    _seen(post),
                    nonce=_nonce(claim),
                    fleet_recent=_fleet_recent(kit),
                )
            else:
                draft = kit.writer.write_comment(persona, author, _seen(post), nonce=_nonce(claim))
        _charge(kit, claim, draft.usage)
        content["text"] = draft.text
        activities.save_progress(
            kit.sessions,
            claim.id,
            now=kit.now(),
            content={"text": draft.text},
            usage=asdict(draft.usage),
        )
    return _publish_comment(kit, claim, post.id, content)


def _publish_comment(
    kit: ActionKit, claim: Claim, post_id: str, content: dict[str, Any]
) -> Handled:
    handle = claim.actor.handle
    if content.get("commenting"):
        for existing in kit.gallery.comments(agent=handle, post_id=post_id, limit=100):
            if existing.username == handle and existing.content == content["text"]:
                return (
                    {"post_id": post_id, "comment_id": existing.id, "recovered": True},
                    (post_id, "comment"),
                    None,
                )
    else:
        activities.save_progress(
            kit.sessions, claim.id, now=kit.now(), content={"commenting": True}
        )
    made = kit.gallery.comment(
        agent=handle, post_id=post_id, content=content["text"], idempotency_key=claim.key
    )
    return {"post_id": post_id, "comment_id": made.id}, (post_id, "comment"), None


def _browse(kit: ActionKit, claim: Claim, last_attempt: bool) -> Handled:
    ensure_user(kit, claim)
    persona = kit.personas.get(claim.actor.persona)
    feed = kit.gallery.feed(
        agent=claim.actor.handle, limit=kit.settings.feed_page_size, sort="recent"
    )
    seen = [_seen(p) for p in feed if p.username != claim.actor.handle]
    # A thought repeats nothing the agent wrote: its prompt does not show the recent texts.
    author = _author(kit, claim, recent=False)
    with _billed(kit, claim):
        thought = kit.writer.think(persona, author, seen, nonce=_nonce(claim))
    if thought.usage.calls:
        _keep_spent(kit, claim, thought.usage)
    return {"seen": [p.post_id for p in seen], "thought": thought.text}, None, thought.text


_HANDLERS: dict[str, Callable[[ActionKit, Claim, bool], Handled]] = {
    "post": _post,
    "comment": _comment,
    "like": _like,
    "browse": _browse,
}
