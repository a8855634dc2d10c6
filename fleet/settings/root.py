"""The root of the settings: every area as a field, and the checks across them."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

from pydantic import AnyUrl, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from fleet.core.taste import Weights
from fleet.settings.actions import ActionSettings, ImpactSettings, MemorySettings, ReviewSettings
from fleet.settings.base import (
    ANTHROPIC_API,
    LOOPBACK_HOSTS,
    RedisUrl,
    WebUrl,
    default_database_url,
)
from fleet.settings.console import ConsoleSettings
from fleet.settings.gallery import (
    ConsentSettings,
    DisclosureSettings,
    GallerySettings,
    ProvenanceSettings,
)
from fleet.settings.llm import EmbeddingSettings, LLMEndpoint, LLMSettings, ProviderSettings
from fleet.settings.platform import CredentialSettings, ImageSettings
from fleet.settings.running import DispatchSettings, TaskSettings
from fleet.settings.taste import TasteSettings, WelcomeSettings


class Settings(BaseSettings):
    """Everything Fleet reads from its environment."""

    model_config = SettingsConfigDict(
        env_prefix="FLEET_",
        env_nested_delimiter="__",
        extra="ignore",
        validate_default=True,
    )

    database_url: str = Field(default_factory=default_database_url)
    # Connections each process keeps open: at least a thread-pool worker's concurrency,
    # or threads beyond it open and close a connection per use.
    database_pool_size: int = Field(default=20, ge=1, le=500)
    broker_url: str = "memory://"
    redis_url: RedisUrl | None = AnyUrl("redis://127.0.0.1:6379/0")
    broker_key_prefix: str = Field(default="", max_length=64)
    seed: int = Field(default=1, ge=0, lt=2**63)
    personas_dir: Path | None = None
    anthropic_api_key: SecretStr | None = Field(default=None, alias="ANTHROPIC_API_KEY")
    # The SDK's own variable, read here too so that a bad one is refused at start-up and
    # `fleet status` shows where LLM calls go; FLEET_LLM__BASE_URL wins over it.
    anthropic_base_url: WebUrl | None = Field(default=None, alias="ANTHROPIC_BASE_URL")
    openai_api_key: SecretStr | None = Field(default=None, alias="OPENAI_API_KEY")
    gallery: GallerySettings = GallerySettings()
    llm: LLMSettings = LLMSettings()
    dispatch: DispatchSettings = DispatchSettings()
    tasks: TaskSettings = TaskSettings()
    actions: ActionSettings = ActionSettings()
    taste: TasteSettings = TasteSettings()
    welcome: WelcomeSettings = WelcomeSettings()
    console: ConsoleSettings = ConsoleSettings()
    embeddings: EmbeddingSettings = EmbeddingSettings()
    memory: MemorySettings = MemorySettings()
    review: ReviewSettings = ReviewSettings()
    disclosure: DisclosureSettings = DisclosureSettings()
    impact: ImpactSettings = ImpactSettings()

    provenance: ProvenanceSettings = ProvenanceSettings()

    consent: ConsentSettings = ConsentSettings()
    credentials: CredentialSettings = CredentialSettings()
    images: ImageSettings = ImageSettings()
    image_fallback: Literal["placeholder", "skip"] = "placeholder"

    @field_validator("anthropic_base_url", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _gallery_call_within_the_task(self) -> Settings:
        if self.gallery.timeout_seconds >= self.tasks.soft_time_limit_seconds:
            raise ValueError(
                f"FLEET_GALLERY__TIMEOUT_SECONDS ({self.gallery.timeout_seconds:g}) must be "
                "under FLEET_TASKS__SOFT_TIME_LIMIT_SECONDS "
                f"({self.tasks.soft_time_limit_seconds:g})"
            )
        return self

    @model_validator(mode="after")
    def _operator_named_outside_the_demo(self) -> Settings:
        # A gallery off this machine has real people on it: the demo's operator will not do.
        host = (self.gallery.url.host or "").strip("[]").lower()
        if host in LOOPBACK_HOSTS or host.startswith("127."):
            return self
        defaults = DisclosureSettings()
        unset = [
            f"FLEET_DISCLOSURE__{name.upper()}"
            for name in ("operator_name", "operator_url")
            if getattr(self.disclosure, name) == getattr(defaults, name)
        ]
        if unset:
            raise ValueError(
                f"{' and '.join(unset)} must name who runs the agents: the gallery "
                f"{self.gallery.url.host} is not this machine's sandbox, and every agent "
                "account shows its operator with a link (docs/disclosure.md)"
            )
        return self

    @model_validator(mode="after")
    def _llm_chain_resolves(self) -> Settings:
        self.llm_chain()
        return self

    def llm_chain(self) -> list[LLMEndpoint]:
        """The writers in the order they are tried: the primary, then the fallbacks.

        Raises ValueError naming the variable when one cannot be used (no key, no model).
        """
        llm = self.llm
        key = _key(llm.api_key)
        provider = llm.provider or (
            "anthropic" if key or _key(self.anthropic_api_key) else "offline"
        )
        model_set = "model" in llm.model_fields_set
        chain = [
            self._endpoint(
                ProviderSettings(
                    provider=provider,
                    base_url=llm.base_url,
                    model=llm.model if (model_set or provider == "anthropic") else None,
                    api_key=key,
                ),
                "FLEET_LLM__",
            )
        ]
        for number, fallback in enumerate(llm.fallbacks):
            chain.append(self._endpoint(fallback, f"FLEET_LLM__FALLBACKS[{number}]."))
        return chain

    def _endpoint(self, entry: ProviderSettings, where: str) -> LLMEndpoint:
        def name(field: str) -> str:
            return where + (field.upper() if where.endswith("__") else field)

        if entry.provider == "offline":
            return LLMEndpoint("offline", "offline", None, None)
        if entry.provider == "anthropic":
            key = _key(entry.api_key) or _key(self.anthropic_api_key)
            if key is None:
                raise ValueError(
                    f"{name('provider')} is anthropic but no key is set "
                    f"({name('api_key')} or ANTHROPIC_API_KEY)"
                )
            base = entry.base_url or self.anthropic_base_url
            return LLMEndpoint(
                "anthropic",
                entry.model or self.llm.model,
                None if base is None else str(base),
                key,
            )
        key = _key(entry.api_key) or _key(self.openai_api_key)
        if entry.model is None:
            raise ValueError(f"{name('model')} must name the model for provider openai")
        if entry.base_url is None and key is None:
            raise ValueError(
                f"{name('provider')} is openai with neither {name('base_url')} (a local "
                f"server) nor a key ({name('api_key')} or OPENAI_API_KEY)"
            )
        return LLMEndpoint(
            "openai", entry.model, None if entry.base_url is None else str(entry.base_url), key
        )

    def llm_endpoint(self) -> tuple[str, str]:
        """Where LLM calls go and which setting says so: FLEET_LLM__BASE_URL, else
        ANTHROPIC_BASE_URL, else Anthropic's API (the SDK's order, Fleet's variable first)."""
        if self.llm.base_url is not None:
            return str(self.llm.base_url), "FLEET_LLM__BASE_URL"
        if self.anthropic_base_url is not None:
            return str(self.anthropic_base_url), "ANTHROPIC_BASE_URL"
        return ANTHROPIC_API, "default"

    def taste_weights(self) -> Weights:
        """Taste's weights; people's posts weigh what ``actions.human_share`` says, as odds
        (0.7: ~0.85 more; 0.5 or less: no more than an agent's)."""
        share = min(self.actions.human_share, 0.999)
        return self.taste.weights(person=max(0.0, math.log(share / (1 - share))))

    def max_deliveries(self) -> int:
        """How many times an action's message may be delivered: its attempts, its deferrals
        and the deliveries that may be lost."""
        tasks = self.tasks
        return tasks.max_retries + 1 + self.actions.max_deferrals + tasks.max_lost_deliveries

    def provenance_asked(self) -> dict[str, str]:
        """What the gallery's save step is asked to embed besides the agent
        (docs/gallery-api.md)."""
        return {
            "digitalSourceType": self.provenance.source_type,
            "operator": self.disclosure.operator_name,
            "operatorUrl": str(self.disclosure.operator_url),
        }

    def secrets(self) -> tuple[str, ...]:
        """Every secret in the settings (keys, tokens, passwords in URLs), to be masked
        wherever text leaves the process."""
        found = [self.gallery.token.get_secret_value()]
        for key in (self.anthropic_api_key, self.openai_api_key, self.llm.api_key):
            if key is not None:
                found.append(key.get_secret_value())
        for fallback in self.llm.fallbacks:
            if fallback.api_key is not None:
                found.append(fallback.api_key.get_secret_value())
            if fallback.base_url is not None and fallback.base_url.password:
                found.append(fallback.base_url.password)
        found += self.credentials.key_list()
        for secret in (
            self.console.password,
            self.console.secret_key,
            self.embeddings.api_key,
            self.images.api_key,
        ):
            if secret is not None:
                found.append(secret.get_secret_value())
        for url in (
            self.llm.base_url,
            self.anthropic_base_url,
            self.gallery.url,
            self.embeddings.base_url,
            self.images.base_url,
        ):
            if url is not None and url.password:
                found.append(url.password)
        return tuple(secret for secret in found if secret.strip())

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        scheme = value.split("://", 1)[0] if "://" in value else ""
        if scheme not in {"sqlite", "postgresql+psycopg", "postgresql"}:
            raise ValueError(
                "must start with sqlite:/// or postgresql+psycopg:// "
                f"(got {scheme + '://' if scheme else 'no scheme'})"
            )
        if scheme == "postgresql":
            value = "postgresql+psycopg://" + value.split("://", 1)[1]
        return value

    @field_validator("redis_url", mode="before")
    @classmethod
    def _no_redis(cls, value: object) -> object:
        # The embedded mode (the demo) runs without Redis: FLEET_REDIS_URL=none.
        return None if isinstance(value, str) and value.strip().lower() in {"", "none"} else value

    @field_validator("broker_url")
    @classmethod
    def _broker_url(cls, value: str) -> str:
        scheme = value.split("://", 1)[0] if "://" in value else ""
        if scheme not in {"memory", "redis", "rediss", "amqp", "pyamqp"}:
            raise ValueError(f"must be a memory://, redis:// or amqp:// URL (got {value[:20]!r})")
        return value

    @field_validator("personas_dir")
    @classmethod
    def _personas_dir(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(f"{value} is not a directory")
        return value


def _key(value: SecretStr | None) -> SecretStr | None:
    return value if value is not None and value.get_secret_value().strip() else None
