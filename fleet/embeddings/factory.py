"""Building the embedder from ``FLEET_EMBEDDINGS__*``: local, an endpoint, or none."""

from __future__ import annotations

import httpx

from fleet.embeddings.cached import CachedEmbedder
from fleet.embeddings.degrading import DegradingEmbedder, checked_at_start
from fleet.embeddings.local import DIMENSIONS, LocalEmbedder
from fleet.embeddings.openai import OpenAIEmbedder
from fleet.embeddings.port import Embedder
from fleet.errors import ConfigError
from fleet.settings import EmbeddingSettings


def build_embedder(
    settings: EmbeddingSettings, *, client: httpx.Client | None = None
) -> Embedder | None:
    """The configured embedder, unchecked; None for ``off``."""
    if settings.provider == "off":
        return None
    if settings.provider == "local":
        if settings.dimensions is not None and settings.dimensions != DIMENSIONS:
            raise ConfigError(
                f"FLEET_EMBEDDINGS__DIMENSIONS is {settings.dimensions}, but the local model "
                f"multilingual-e5-small answers {DIMENSIONS}"
            )
        return LocalEmbedder(parallel=settings.local_parallel)
    assert settings.base_url is not None  # the settings refuse openai without it
    key = settings.api_key.get_secret_value() if settings.api_key is not None else None
    return OpenAIEmbedder(
        base_url=str(settings.base_url),
        model=settings.model,
        dimensions=settings.dimensions,
        api_key=key,
        timeout_seconds=settings.timeout_seconds,
        client=client,
    )


def start_embedder(
    settings: EmbeddingSettings, *, client: httpx.Client | None = None
) -> DegradingEmbedder | None:
    """The embedder, probed once: a wrong vector size is refused here (ConfigError naming
    the model); one that does not answer starts degraded. The local model is loaded
    lazily (its size is known), so a process that never embeds never loads it. Behind
    a bounded cache (``CachedEmbedder``): a text the process embedded lately is not
    embedded again."""
    embedder = build_embedder(settings, client=client)
    if embedder is None:
        return None
    if isinstance(embedder, LocalEmbedder):
        return DegradingEmbedder(CachedEmbedder(embedder))
    return checked_at_start(CachedEmbedder(embedder), expected=settings.dimensions)
