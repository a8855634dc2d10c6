"""Building the content writer, the guard and the spend ledger from the settings.

With ``ANTHROPIC_API_KEY`` set the writer is Anthropic's, at ``FLEET_LLM__BASE_URL``, else
``ANTHROPIC_BASE_URL``, else Anthropic's API; without a key, the offline one.
"""

from __future__ import annotations

import httpx2
import redis

from fleet.content.anthropic_writer import AnthropicWriter, prices_from_settings
from fleet.content.budget import SpendLedger
from fleet.content.guard import ContentGuard
from fleet.content.offline import OfflineWriter
from fleet.content.port import ContentWriter
from fleet.errors import ConfigError
from fleet.settings import Settings


def build_writer(settings: Settings, *, http_client: httpx2.Client | None = None) -> ContentWriter:
    """Anthropic's writer when a key is set, else the offline one; close it when done.

    A post may take two calls (one repair), so two timeouts must fit in the task's soft
    time limit: Celery, not the SDK, owns the retries.
    """
    key = settings.anthropic_api_key
    if key is None or not key.get_secret_value().strip():
        return OfflineWriter()
    llm, tasks = settings.llm, settings.tasks
    if 2 * llm.timeout_seconds >= tasks.soft_time_limit_seconds:
        raise ConfigError(
            f"FLEET_LLM__TIMEOUT_SECONDS ({llm.timeout_seconds:g}) must be under half of "
            f"FLEET_TASKS__SOFT_TIME_LIMIT_SECONDS ({tasks.soft_time_limit_seconds:g})"
        )
    base_url, _source = settings.llm_endpoint()
    return AnthropicWriter(
        key, llm, prices_from_settings(llm), http_client=http_client, base_url=base_url
    )


def build_guard(settings: Settings) -> ContentGuard:
    """The content guard with the configured near-duplicate threshold."""
    return ContentGuard(threshold=settings.llm.guard_similarity)


def build_ledger(settings: Settings, client: redis.Redis) -> SpendLedger:
    """The daily spend ledger, under the fleet's Redis key prefix."""
    prefix = f"{settings.broker_key_prefix}fleet:llm"
    return SpendLedger.from_settings(client, settings.llm, prefix=prefix)
