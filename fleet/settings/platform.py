"""Per-agent platform credentials and the images Fleet makes itself (``FLEET_CREDENTIALS__*``,
``FLEET_IMAGES__*``; docs/credentials.md, docs/configuration.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, SecretStr, field_validator

from fleet.settings.base import WebUrl, _Nested

ImageSourceKind = Literal["painter", "openai"]


class CredentialSettings(_Nested):
    """The keys that seal each agent's platform token at rest.

    ``keys``: Fernet keys (32 url-safe base64 bytes each), comma-separated, the newest
    first: the newest seals, every one opens (MultiFernet); ``fleet agents credentials
    rotate`` re-seals every stored token with the newest, after which older keys can go.
    """

    keys: SecretStr | None = None
    # How long a process keeps an opened token, and how many (a token refused is dropped
    # at once; one revoked elsewhere is used at most this long by another process).
    cache_seconds: float = Field(default=60.0, ge=0, le=3600)
    cache_size: int = Field(default=1024, ge=1, le=1_000_000)
    # The platform's verify_credentials call: its deadline and answer cap.
    verify_timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    @field_validator("keys", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("keys")
    @classmethod
    def _keys_are_fernet_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        from cryptography.fernet import Fernet

        for number, key in enumerate(value.get_secret_value().split(","), start=1):
            try:
                Fernet(key.strip().encode())
            except (ValueError, TypeError):
                # Never the key itself: it is a secret, and a near-miss is one too.
                raise ValueError(
                    f"key {number} is not a Fernet key (32 url-safe base64-encoded bytes; "
                    "`fleet agents credentials new-key` prints one)"
                ) from None
        return value

    def key_list(self) -> list[str]:
        """The keys, newest first (empty: none set)."""
        if self.keys is None:
            return []
        return [k.strip() for k in self.keys.get_secret_value().split(",") if k.strip()]


def _image_directory() -> Path:
    return Path(platformdirs.user_cache_dir("fleet", appauthor=False)) / "images"


class ImageSettings(_Nested):
    """Where Fleet makes an agent's image when the platform does not generate images.

    ``painter``: the sandbox's painters as a library (``pip install fleet[demo]``);
    ``openai``: any OpenAI-compatible ``/v1/images/generations`` endpoint. Either way Fleet
    marks the PNG (IPTC digital source type in XMP, a C2PA manifest signed with
    FLEET_PROVENANCE__CERTIFICATE / PRIVATE_KEY) and keeps it under ``directory`` by its
    idempotency key, so a retry gets the same bytes and never pays twice.
    """

    source: ImageSourceKind = "painter"
    directory: Path = Field(default_factory=_image_directory)
    width: int = Field(default=768, ge=64, le=4096)
    height: int = Field(default=768, ge=64, le=4096)
    base_url: WebUrl | None = None
    api_key: SecretStr | None = None
    model: str = Field(default="gpt-image-1", min_length=1, max_length=120)
    # What the endpoint is asked for ("1024x1024"); None: the endpoint's default.
    size: str | None = Field(default="1024x1024", pattern=r"^\d{2,5}x\d{2,5}$")
    timeout_seconds: float = Field(default=120.0, gt=0, le=900)
    max_image_bytes: int = Field(default=20_000_000, ge=65_536, le=200_000_000)

    @field_validator("base_url", "api_key", "size", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value
