"""The limits every worker of the fleet shares in Redis, each under its own key.

The gallery's requests a second (``gallery_limit``, whose load is the decider's
back-pressure) and its breaker; each LLM provider's requests and tokens a minute and its
breaker. The composition root (``fleet.service.root``) puts the gallery and the writer
behind them when there is Redis.
"""

from __future__ import annotations

import redis

from fleet.content.factory import breaker_key
from fleet.content.llm.limited import LimitedWriter
from fleet.content.port import ContentWriter
from fleet.gallery.limited import LimitedGallery
from fleet.gallery.port import Gallery
from fleet.infra.limits import CircuitBreaker, TokenBucket
from fleet.settings import Settings


def gallery_limit(client: redis.Redis, settings: Settings) -> TokenBucket:
    """The gallery's requests a second, shared by every worker in Redis."""
    actions = settings.actions
    return TokenBucket(
        client,
        f"{settings.broker_key_prefix}fleet:limits:gallery",
        rate=actions.gallery_requests_per_second,
        burst=max(1.0, actions.gallery_requests_per_second),
        window=actions.back_pressure_window_seconds,
    )


def limited_gallery(
    client: redis.Redis, settings: Settings, gallery: Gallery, limit: TokenBucket
) -> Gallery:
    """The gallery behind the fleet's shared request ``limit`` and breaker (in Redis)."""
    actions = settings.actions
    return LimitedGallery(
        gallery,
        limit,
        CircuitBreaker(
            client,
            f"{settings.broker_key_prefix}fleet:breaker:gallery",
            threshold=actions.breaker_threshold,
            open_seconds=actions.breaker_open_seconds,
        ),
    )


def limited_writer(
    client: redis.Redis, settings: Settings, writer: ContentWriter, number: int
) -> ContentWriter:
    """The writer behind its provider's shared limits and breaker (the chain's
    ``number``: the primary keeps the keys it always had, a fallback has its own)."""
    prefix, actions, suffix = settings.broker_key_prefix, settings.actions, breaker_key(number)
    return LimitedWriter(
        writer,
        requests=TokenBucket(
            client,
            f"{prefix}fleet:limits:llm-requests{suffix}",
            rate=actions.llm_requests_per_minute / 60,
            burst=actions.llm_requests_per_minute,
        ),
        tokens=TokenBucket(
            client,
            f"{prefix}fleet:limits:llm-tokens{suffix}",
            rate=actions.llm_tokens_per_minute / 60,
            burst=actions.llm_tokens_per_minute,
        ),
        breaker=CircuitBreaker(
            client,
            f"{prefix}fleet:breaker:llm{suffix}",
            threshold=actions.breaker_threshold,
            open_seconds=actions.breaker_open_seconds,
        ),
        reserve_tokens=actions.llm_tokens_reserved_per_call,
    )
