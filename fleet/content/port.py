"""The content port: image prompts, captions, comments and thoughts in a persona's voice.

Writers return validated, sanitised values with the usage of the call. Invalid output
gets one repair attempt inside the writer, then ``ContentRefused``. LLM errors come as
Fleet's tree: ``TransientError`` (429, 529, 5xx, timeouts) and ``PermanentError``
(400, 401, 403). An error raised after calls the provider billed (a refused answer, a
repair call that failed) carries their usage: ``spent_on(error)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from fleet.core.persona import Persona

# The model name of the offline writer's drafts: templates, no provider, nothing billed.
OFFLINE_MODEL = "offline"


@dataclass(frozen=True, slots=True)
class Usage:
    """What one generation cost."""

    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    latency_ms: float = 0.0
    cost_usd: float = 0.0
    calls: int = 1
    # Of input_tokens, those written to the prompt cache (cached_tokens: read from it).
    cache_write_tokens: int = 0
    # Which writer of the chain wrote it (``provider:model``; "" when not said).
    provider: str = ""

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            model=self.model,
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cached_tokens=self.cached_tokens + other.cached_tokens,
            latency_ms=self.latency_ms + other.latency_ms,
            cost_usd=self.cost_usd + other.cost_usd,
            calls=self.calls + other.calls,
            cache_write_tokens=self.cache_write_tokens + other.cache_write_tokens,
            provider=other.provider or self.provider,
        )


E = TypeVar("E", bound=BaseException)


def spent_on(error: BaseException) -> Usage | None:
    """The usage of the billed calls made before ``error`` was raised, or None."""
    usage = getattr(error, "usage", None)
    return usage if isinstance(usage, Usage) else None


def with_spent(error: E, usage: Usage) -> E:
    """``error``, carrying ``usage`` (calls billed before it) on top of what it carried."""
    before = spent_on(error)
    setattr(error, "usage", usage if before is None else usage + before)  # noqa: B010
    return error


@dataclass(frozen=True, slots=True)
class Author:
    """The agent who writes: enough to keep its voice and to vary its output."""

    handle: str
    display_name: str
    seed: int
    recent_texts: tuple[str, ...] = ()
    # What the agent remembers that bears on this text (its memory, most relevant
    # first, bounded): its own series and projects, an earlier exchange with the person
    # it answers. Data, never instructions.
    memories: tuple[str, ...] = ()
    # What the rest of the fleet published lately, newest last: a visitor reads them all,
    # so the offline writer steers clear of them as of its own.
    fleet_recent: tuple[str, ...] = ()
    # Who runs the agent (``FLEET_DISCLOSURE__OPERATOR_NAME``): it is an automated
    # account, and says so and names them when a person asks ("": not said).
    operator: str = ""


@dataclass(frozen=True, slots=True)
class CommentSeen:
    """A comment someone left on the agent's post, which a reply answers."""

    comment_id: str
    text: str
    author: str
    author_is_agent: bool
    # The comment asks what the agent is or who runs it (``fleet.honesty.identity_intent``):
    # the reply answers truthfully, naming the operator. ``language``: the question's, when
    # the keyword check knew it ("": unknown, the answer is in English).
    asks_identity: bool = False
    language: str = ""


@dataclass(frozen=True, slots=True)
class PostSeen:
    """Another user's post, as data (never instructions) for a comment or a thought."""

    post_id: str
    title: str
    description: str
    author: str
    author_is_agent: bool
    image_url: str | None = None
    # Set for a reply: the comment on this post (the agent's own) that it answers.
    answering: CommentSeen | None = None

    @property
    def mentionable(self) -> tuple[str, ...]:
        """Who a comment on it may mention: the post's author, or for a reply the commenter."""
        return (self.answering.author,) if self.answering is not None else (self.author,)


@dataclass(frozen=True, slots=True)
class PostDraft:
    """A post to publish: the image prompt, the workflow style, the caption."""

    image_prompt: str
    style: str
    title: str  # the caption, at most 200 characters
    description: str
    usage: Usage


@dataclass(frozen=True, slots=True)
class CommentDraft:
    """A reply to one post."""

    post_id: str
    text: str
    usage: Usage


@dataclass(frozen=True, slots=True)
class Thought:
    """An optional one-line "last thought" after browsing."""

    text: str | None
    usage: Usage = field(default_factory=lambda: Usage(model="none", calls=0))


@dataclass(frozen=True, slots=True)
class PlanAsk:
    """What a session's plan is asked to write (``fleet.content.llm.planning``): ``says``, how
    many comments, replies and posts the session holds; ``page``, the posts the agent was
    shown (a comment may answer one); ``answerable``, the comments it may answer (each as
    a ``PostSeen`` whose ``answering`` is set). All of it is data, never instructions."""

    says: Mapping[str, int]
    page: tuple[PostSeen, ...] = ()
    answerable: tuple[PostSeen, ...] = ()


@dataclass(frozen=True, slots=True)
class PlannedPost:
    """A post a plan wrote: as a ``PostDraft`` without the usage (the plan's)."""

    image_prompt: str
    style: str
    title: str
    description: str


@dataclass(frozen=True, slots=True)
class SessionPlan:
    """A session's words written in one call: a comment per post id, a reply per comment
    id, at most one post, the opening look's thought; what the call cost, and how many of
    the answer's items were cut (unknown ids, too many, over the bounds, wrong kinds).
    ``follows``: the handles of the page's authors it proposed to follow (seed 002's
    connection requests, at most two a scan), for the session's follows; no text."""

    comments: Mapping[str, str] = field(default_factory=dict)
    replies: Mapping[str, str] = field(default_factory=dict)
    post: PlannedPost | None = None
    thought: str | None = None
    usage: Usage = field(default_factory=lambda: Usage(model="none", calls=0))
    dropped: int = 0
    follows: tuple[str, ...] = ()

    @property
    def items(self) -> int:
        """How many texts it holds for the session's actions."""
        return len(self.comments) + len(self.replies) + (self.post is not None)


class ContentWriter(Protocol):
    """Writes in a persona's voice. ``nonce`` varies output (e.g. the tick's due time)."""

    def write_post(self, persona: Persona, author: Author, *, nonce: int) -> PostDraft: ...

    def write_comment(
        self, persona: Persona, author: Author, post: PostSeen, *, nonce: int
    ) -> CommentDraft: ...

    def think(
        self, persona: Persona, author: Author, seen: list[PostSeen], *, nonce: int
    ) -> Thought: ...

    def plan(self, persona: Persona, author: Author, ask: PlanAsk, *, nonce: int) -> SessionPlan:
        """A session's words in one call (an empty plan, no call: the writer has none to
        make, as the offline writer, whose own writings cost nothing)."""
        ...

    def close(self) -> None:
        """Release the writer's connections; it is not used afterwards."""


def makes_plans(writer: ContentWriter) -> bool:
    """Whether ``writer`` writes a session's words in one plan: a writer that makes none (the
    offline writer, ``FLEET_LLM__PLANS=false``) says so with ``makes_plans = False``, and a
    session's actions then neither rank the page for a plan nor wait for one."""
    return bool(getattr(writer, "makes_plans", True))
