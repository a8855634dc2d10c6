"""The gallery Fleet acts on, and what it owes the people there: disclosure, consent, provenance marks."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import quote

from pydantic import AnyUrl, Field, SecretStr, field_validator, model_validator

from fleet.settings.base import WebUrl, _Nested


class GallerySettings(_Nested):
    """The gallery (FloImg Studio API or the sandbox) Fleet acts on."""

    # Which API the gallery speaks: "floimg" (FloImg Studio, the sandbox) or "mastodon"
    # (any server of the Mastodon client API: Takahē, GoToSocial, Mastodon, Pixelfed...;
    # one access token per agent, docs/platforms.md).
    kind: Literal["floimg", "mastodon"] = "floimg"
    url: AnyUrl = AnyUrl("http://127.0.0.1:8700")
    token: SecretStr = SecretStr("sandbox-service-token")  # the sandbox's DEFAULT_TOKEN
    # The whole of one call, connect to last byte (each read too: a trickle is cut).
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # The largest answer read from one call: a larger one is refused unread.
    max_answer_bytes: int = Field(default=2_000_000, ge=16_384, le=100_000_000)
    image_model: str = "sandbox-diffusion-1"
    image_generator: str = "sandbox"
    # Where a person sees one post on the gallery: a path under ``url``, ``{id}`` the post's
    # id (the sandbox's own post page by default). The console links thumbnails there.
    post_page: str = Field(default="/posts/{id}", pattern=r"^/.*\{id\}")

    def post_url(self, post_id: object) -> str:
        """The address of one post's page on the gallery."""
        return str(self.url).rstrip("/") + self.post_page.replace("{id}", quote(str(post_id)))


class DisclosureSettings(_Nested):
    """Who runs the fleet, said on every agent account and in every answer about it.

    Every agent account says it is automated and names its operator with a link
    (docs/disclosure.md). The defaults name the demo's operator: outside the demo, set both.
    """

    # The operator a person sees beside "Automated account": plain text, no markup.
    operator_name: str = Field(default="Fleet demo operator", min_length=1, max_length=80)
    # Where a person learns who runs the agents and how to reach them.
    operator_url: WebUrl = AnyUrl("http://127.0.0.1:8700/about/agents")

    @field_validator("operator_name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must name the operator (it is empty)")
        if any(ch in value for ch in "<>&\"'`") or any(ord(ch) < 32 for ch in value):
            raise ValueError("must be plain text: no markup, quotes or control characters")
        return value


SourceType = Literal["trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia"]


class ProvenanceSettings(_Nested):
    """Provenance marks on every published image (docs/provenance.md).

    The image workflow's save step embeds them (IPTC's digital source type in XMP and a
    signed C2PA manifest); Fleet fetches the image and verifies both before it posts.
    """

    # A post whose image fails the check ends skipped, "no provenance", unpublished.
    require: bool = True
    # What the marks say the image is: made by a model, or a photo a model transformed.
    source_type: SourceType = "trainedAlgorithmicMedia"
    # The operator's signing pair (PEM files: the certificate chain, signer first, and its
    # key). Set, an image must be signed by that certificate; the sandbox signs with it.
    certificate: Path | None = None
    private_key: Path | None = None
    # An image fetched for the check is read within this many bytes and pixels.
    max_image_bytes: int = Field(default=20_000_000, ge=65_536, le=200_000_000)
    max_pixels: int = Field(default=40_000_000, ge=65_536, le=400_000_000)

    @field_validator("certificate", "private_key", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _pair_loads(self) -> ProvenanceSettings:
        if (self.certificate is None) != (self.private_key is None):
            raise ValueError(
                "FLEET_PROVENANCE__CERTIFICATE and FLEET_PROVENANCE__PRIVATE_KEY go together: "
                "set both or neither"
            )
        if self.certificate is not None and self.private_key is not None:
            _check_pair(self.certificate, self.private_key)
        return self


def _first(exc: Exception) -> str:
    """The first sentence of an error, short (cryptography's go on with a link)."""
    return str(exc).split(". ", 1)[0][:120]


def _check_pair(certificate: Path, key: Path) -> None:
    """The pair loads, is in its validity now, and the key is the certificate's."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    cert_name, key_name = "FLEET_PROVENANCE__CERTIFICATE", "FLEET_PROVENANCE__PRIVATE_KEY"
    try:
        chain = x509.load_pem_x509_certificates(certificate.read_bytes())
    except (OSError, ValueError) as exc:
        raise ValueError(
            f"{cert_name}: {certificate} is no PEM certificate ({_first(exc)})"
        ) from None
    try:
        private = serialization.load_pem_private_key(key.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise ValueError(f"{key_name}: {key} is no unencrypted PEM key ({_first(exc)})") from None
    signer, now = chain[0], dt.datetime.now(dt.UTC)
    if not signer.not_valid_before_utc <= now <= signer.not_valid_after_utc:
        raise ValueError(
            f"{cert_name}: the certificate is valid from {signer.not_valid_before_utc:%Y-%m-%d} "
            f"to {signer.not_valid_after_utc:%Y-%m-%d}, not now"
        )
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    if private.public_key().public_bytes(der, public) != signer.public_key().public_bytes(
        der, public
    ):
        raise ValueError(f"{key_name}: the key does not match {cert_name}'s certificate")


class ConsentSettings(_Nested):
    """How Fleet honours people's say over agents' engagement (docs/consent.md)."""

    # How often a process reads people's consent from the gallery again (at most 10 min:
    # an action is never chosen by a copy older than that).
    refresh_seconds: float = Field(default=120.0, ge=1, le=600, allow_inf_nan=False)
    # A person who blocks one agent: the rest of the fleet only answers them, starts nothing.
    cool_fleet: bool = True
    # On a gallery that offers no consent calls, how agents may engage people who cannot
    # say no: "replies" (answer those who speak to them, start nothing), "all", or "none".
    when_unoffered: Literal["all", "replies", "none"] = "replies"
