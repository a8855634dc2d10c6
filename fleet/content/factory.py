"""Building the content writer, the guard and the spend ledger from the settings.

The writer is the chain of ``Settings.llm_chain()``: the primary provider (anthropic,
openai or offline; unset: anthropic with ``ANTHROPIC_API_KEY``, else offline), then the
fallbacks, tried in order while the one before is down (``fleet.content.llm.fallback``).
An offline writer alone is returned as it is; any other chain as a ``ChainWriter``,
which labels each result with the writer that wrote it. ``limit`` wraps each provider's
writer (the service's shared rate limits and circuit breaker, one set per provider).
With ``FLEET_LLM__PLANS=false`` the chain makes no plans (``PerAction``): each comment,
reply and post of a session calls for its own words.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx2
import redis

from fleet.content.guard.guard import ContentGuard
from fleet.content.llm.anthropic import AnthropicWriter
from fleet.content.llm.base import prices_from_settings
from fleet.content.llm.budget import SpendLedger
from fleet.content.llm.fallback import ChainWriter
from fleet.content.llm.openai import ChatServer, OpenAIWriter
from fleet.content.offline.writer import OfflineWriter
from fleet.content.port import (
    Author,
    CommentDraft,
    ContentWriter,
    PlanAsk,
    PostDraft,
    PostSeen,
    SessionPlan,
    Thought,
)
from fleet.core.persona import Persona
from fleet.errors import ConfigError
from fleet.honesty.claims import HumanClaimCheck
from fleet.settings import LLMEndpoint, Settings

Limit = Callable[[LLMEndpoint, int, ContentWriter], ContentWriter]


def breaker_key(number: int) -> str:
    """The suffix of a chain member's Redis keys: none for the primary, ``:N`` after."""
    return "" if number == 0 else f":{number}"


def build_writer(
    settings: Settings,
    *,
    http_client: httpx2.Client | None = None,
    limit: Limit | None = None,
) -> ContentWriter:
    """The configured writer chain; close it when done.

    A writing may take two calls (one repair), so two timeouts must fit in the task's
    soft time limit: Celery, not the SDK, owns the retries.
    """
    chain = settings.llm_chain()
    if len(chain) == 1 and chain[0].provider == "offline":
        return OfflineWriter()
    llm, tasks = settings.llm, settings.tasks
    if 2 * llm.timeout_seconds >= tasks.soft_time_limit_seconds:
        raise ConfigError(
            f"FLEET_LLM__TIMEOUT_SECONDS ({llm.timeout_seconds:g}) must be under half of "
            f"FLEET_TASKS__SOFT_TIME_LIMIT_SECONDS ({tasks.soft_time_limit_seconds:g})"
        )
    writers: list[tuple[str, ContentWriter]] = []
    try:
        for number, endpoint in enumerate(chain):
            writer = build_one(settings, endpoint, http_client=http_client)
            if limit is not None and endpoint.provider != "offline":
                writer = limit(endpoint, number, writer)
            writers.append((endpoint.label, writer))
    except BaseException:
        for _, built in writers:
            built.close()
        raise
    chained = ChainWriter(writers)
    return chained if llm.plans else PerAction(chained)


class PerAction:
    """A writer that makes no plans (``FLEET_LLM__PLANS=false``): a session's comments,
    replies and post each call for their own words, as the offline writer's do."""

    makes_plans = False

    def __init__(self, writer: ContentWriter) -> None:
        self.writer = writer

    def write_post(self, persona: Persona, author: Author, *, nonce: int) -> PostDraft:
        return self.writer.write_post(persona, author, nonce=nonce)

    def write_comment(
        self, persona: Persona, author: Author, post: PostSeen, *, nonce: int
    ) -> CommentDraft:
        return self.writer.write_comment(persona, author, post, nonce=nonce)

    def think(
        self, persona: Persona, author: Author, seen: list[PostSeen], *, nonce: int
    ) -> Thought:
        return self.writer.think(persona, author, seen, nonce=nonce)

    def plan(self, persona: Persona, author: Author, ask: PlanAsk, *, nonce: int) -> SessionPlan:
        """No plan and no call: the session's actions write their own."""
        return SessionPlan()

    def close(self) -> None:
        self.writer.close()


def build_one(
    settings: Settings, endpoint: LLMEndpoint, *, http_client: httpx2.Client | None = None
) -> ContentWriter:
    """The writer of one member of the chain."""
    llm = settings.llm
    prices = prices_from_settings(llm)
    if endpoint.provider == "offline":
        return OfflineWriter()
    if endpoint.provider == "anthropic":
        assert endpoint.api_key is not None  # the settings refuse an anthropic without one
        return AnthropicWriter(
            endpoint.api_key,
            llm.model_copy(update={"model": endpoint.model}),
            http_client=http_client,
            base_url=endpoint.base_url,
            image_host=settings.gallery.url.host,
        )
    return OpenAIWriter(
        ChatServer(
            model=endpoint.model,
            api_key=endpoint.api_key,
            base_url=endpoint.base_url,
            timeout_seconds=llm.timeout_seconds,
        ),
        prices=prices,
        http_client=http_client,
        image_host=settings.gallery.url.host if llm.vision else None,
    )


def build_guard(settings: Settings, claims: HumanClaimCheck | None = None) -> ContentGuard:
    """The content guard with the configured near-duplicate threshold, and the check of a
    claim to be human (by default, the words alone)."""
    return ContentGuard(threshold=settings.llm.guard_similarity, claims=claims or HumanClaimCheck())


def build_ledger(settings: Settings, client: redis.Redis) -> SpendLedger:
    """The daily spend ledger, under the fleet's Redis key prefix."""
    prefix = f"{settings.broker_key_prefix}fleet:llm"
    return SpendLedger.from_settings(client, settings.llm, prefix=prefix)
