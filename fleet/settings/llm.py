"""The writers' language models (the chain of providers) and the embedder."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

from fleet.settings.base import ANTHROPIC_API, OPENAI_API, WebUrl, _Nested

Provider = Literal["anthropic", "openai", "offline"]


def _blank_model(value: object) -> object:
    if isinstance(value, str):
        value = value.strip()
        if not value:
            raise ValueError("must name a model (it is empty)")
    return value


class ProviderSettings(_Nested):
    """One writer of the chain: a provider, where it is, its model and key (see docs/llm.md).

    Unset fields take the provider's usual ones: the key from ``ANTHROPIC_API_KEY`` or
    ``OPENAI_API_KEY``, Anthropic's model from ``FLEET_LLM__MODEL``.
    """

    provider: Provider
    base_url: WebUrl | None = None
    model: str | None = None
    api_key: SecretStr | None = None

    _model = field_validator("model", mode="before")(_blank_model)


class LLMSettings(_Nested):
    """The language model that writes captions and comments."""

    # anthropic, openai (any OpenAI-compatible Chat Completions server) or offline; unset:
    # anthropic when ANTHROPIC_API_KEY (or FLEET_LLM__API_KEY) is set, else offline.
    provider: Provider | None = None
    # The key; unset: the provider's usual variable (ANTHROPIC_API_KEY, OPENAI_API_KEY).
    api_key: SecretStr | None = None
    # Providers tried in order when the one before is down (a JSON list of objects with
    # provider, base_url, model, api_key).
    fallbacks: Annotated[list[ProviderSettings], NoDecode] = Field(default_factory=list)
    # Captions and comments are short: a small, fast model does them well. (Sonnet 4.5
    # reaches end of life on 2026-11-30 according to the installed SDK.)
    model: str = "claude-haiku-4-5"
    # Where the Messages API is: a gateway or proxy. Unset: ANTHROPIC_BASE_URL, as the SDK
    # reads it, else Anthropic's API.
    base_url: WebUrl | None = None
    # The whole of one call, connect to last byte (a trickling answer is cut at it); a
    # post may take two calls (one repair), both inside the task's soft limit.
    timeout_seconds: float = Field(default=25.0, gt=0, le=300)
    # The whole fleet's LLM spend per UTC day; over it, agents only like and browse.
    daily_budget_usd: float = Field(default=5.0, ge=0)
    agent_daily_budget_usd: float = Field(default=0.25, ge=0)
    # Send the image of a post to the model when it has a public https URL.
    vision: bool = True
    # A speaking session's words in one call at its opening look (its plan,
    # ``fleet.content.llm.planning``); off: each comment, reply and post makes its own call.
    plans: bool = True
    # Near-duplicate threshold of the content guard (word-shingle Jaccard, 0-1).
    guard_similarity: float = Field(default=0.6, gt=0, le=1)
    # USD per million tokens; a model matches its entry or the longest prefix of its name.
    prices: dict[str, dict[str, float]] = Field(
        default_factory=lambda: {
            # Opus 4 and 4.1 at their price; later Opus 4.x fall back to it (an overestimate).
            "claude-opus-4": {"input": 15, "output": 75, "cache_read": 1.5, "cache_write": 18.75},
            "claude-opus-4-5": {"input": 5, "output": 25, "cache_read": 0.5, "cache_write": 6.25},
            "claude-sonnet-4": {"input": 3, "output": 15, "cache_read": 0.3, "cache_write": 3.75},
            "claude-haiku-4": {"input": 1, "output": 5, "cache_read": 0.1, "cache_write": 1.25},
        }
    )

    _model = field_validator("model", mode="before")(_blank_model)

    @field_validator("provider", mode="before")
    @classmethod
    def _blank_provider(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("fallbacks", mode="before")
    @classmethod
    def _fallbacks_json(cls, value: object) -> object:
        if isinstance(value, str):
            if not value.strip():
                return []
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise ValueError(f"is not JSON ({exc.msg} at character {exc.pos})") from None
            if not isinstance(value, list):
                raise ValueError("must be a JSON list of providers")
        return value

    @field_validator("prices")
    @classmethod
    def _price_rows(cls, value: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        need = {"input", "output", "cache_read", "cache_write"}
        for model, row in value.items():
            if set(row) != need:
                raise ValueError(f"price of {model!r} needs exactly {sorted(need)}")
            if any(not math.isfinite(price) or price < 0 for price in row.values()):
                raise ValueError(f"price of {model!r} must be finite and not negative")
        return value


class EmbeddingSettings(_Nested):
    """The embedder that turns texts into vectors (taste, memory, the no-echo guard).

    ``local``: the bundled model, offline. ``openai``: any OpenAI-compatible
    ``/v1/embeddings`` endpoint (Ollama, vLLM, TEI, OpenAI) at ``base_url``. ``off``: no
    vectors; memory is recalled by recency and the guard checks words only.
    """

    provider: Literal["local", "openai", "off"] = "local"
    # The endpoint's root, e.g. http://127.0.0.1:11434/v1 (``/embeddings`` is added).
    base_url: WebUrl | None = None
    model: str = Field(default="", max_length=200)
    api_key: SecretStr | None = None
    # One call, connect to last byte; an embedding rides inside an action's soft limit.
    timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    # The vector size the model must answer with (checked at start-up); unset: the
    # model's own (the local model's 384; an endpoint's first answer).
    dimensions: int | None = Field(default=None, ge=8, le=8192)
    # The local model's calls one process runs at once (a content worker's threads, each
    # on a core of its own: the engine lets go of Python's lock while it computes).
    # Unset: one per core; 1: one at a time, as before.
    local_parallel: int | None = Field(default=None, ge=1, le=64)

    @field_validator("api_key", mode="before")
    @classmethod
    def _blank_key_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _endpoint_named(self) -> EmbeddingSettings:
        if self.provider == "openai" and (self.base_url is None or not self.model.strip()):
            raise ValueError(
                "FLEET_EMBEDDINGS__PROVIDER=openai needs FLEET_EMBEDDINGS__BASE_URL and "
                "FLEET_EMBEDDINGS__MODEL"
            )
        return self


@dataclass(frozen=True, slots=True)
class LLMEndpoint:
    """One writer of the chain, resolved: its provider, model, URL (None: the SDK's
    default) and key (None: none needed, a local server)."""

    provider: Provider
    model: str
    base_url: str | None
    api_key: SecretStr | None = field(repr=False)

    @property
    def label(self) -> str:
        """What the activity and the reports call it: ``provider:model``."""
        return self.provider if self.provider == "offline" else f"{self.provider}:{self.model}"

    @property
    def host(self) -> str:
        """Where its calls go, the host and port only (never a path, user or password)."""
        if self.provider == "offline":
            return ""
        default = ANTHROPIC_API if self.provider == "anthropic" else OPENAI_API
        parts = urlsplit(self.base_url or default)
        host = parts.hostname or ""
        return host if parts.port is None else f"{host}:{parts.port}"
