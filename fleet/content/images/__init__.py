"""Images Fleet makes, marks and signs itself, for a platform that does not generate them
(the port's ``ImageSource``): the sandbox's painters or an OpenAI-compatible endpoint
paint, ``marking`` embeds IPTC's digital source type (XMP) and signs a C2PA manifest with
the operator's pair, ``store`` keeps the result by idempotency key; what a platform that
strips the marks loses is said in words by ``fleet.honesty.image_disclosure``."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Protocol

from fleet.content.images.marking import Marker, marks_for, pair_of
from fleet.content.images.store import ImageStore
from fleet.core.kinds import ActionKey
from fleet.errors import ConfigError, PermanentError
from fleet.gallery.port import MadeImage
from fleet.settings import Settings

__all__ = ["MarkedImages", "Paints", "build_image_source"]


class Paints(Protocol):
    """What paints a PNG: a painter or a model."""

    model: str

    def paint(self, *, prompt: str, style: str, persona: str) -> bytes: ...


class MarkedImages:
    """The port's ``ImageSource``: paint, mark for the key's agent, sign, keep by key.

    The image is made for the agent the idempotency key names (``{agent_id}:...``,
    ``fleet.core.kinds``): ``handle_of`` gives its handle, which the manifest names."""

    def __init__(
        self,
        painter: Callable[[], Paints],
        marker: Marker,
        store: ImageStore,
        *,
        settings: Settings,
        handle_of: Callable[[int], str],
    ) -> None:
        self._make_painter = painter
        self._painter: Paints | None = None
        self._lock = threading.Lock()
        self._marker = marker
        self._store = store
        self._settings = settings
        self._handle_of = functools.lru_cache(maxsize=4096)(handle_of)

    def _paints(self) -> Paints:
        with self._lock:
            if self._painter is None:
                self._painter = self._make_painter()  # ConfigError when it cannot be had
            return self._painter

    def make(self, *, prompt: str, style: str, persona: str, idempotency_key: str) -> MadeImage:
        kept = self._store.get(idempotency_key)
        if kept is not None:
            return kept
        try:
            # The post's image call carries its action's key with ":image" (one key per
            # kind of call, ``fleet.actions.post``).
            agent_id = ActionKey.parse(idempotency_key.removesuffix(":image")).agent_id
        except ValueError as error:
            raise PermanentError(str(error)) from None
        agent = self._handle_of(agent_id)
        painter = self._paints()
        png = painter.paint(prompt=prompt, style=style, persona=persona)
        if len(png) > self._settings.images.max_image_bytes:
            raise PermanentError("the image made is over FLEET_IMAGES__MAX_IMAGE_BYTES")
        marks = marks_for(
            agent, painter.model, self._settings.provenance, self._settings.disclosure
        )
        signed = self._marker.mark(png, marks, title=f"{style} by {agent}")
        return self._store.keep(idempotency_key, MadeImage(signed, "image/png"))

    def close(self) -> None:
        """Close the painter's HTTP client, if it has one."""
        close = getattr(self._painter, "close", None)
        if close is not None:
            close()
        self._painter = None


def painter_of(settings: Settings) -> Paints:
    """The painter FLEET_IMAGES__SOURCE names."""
    images = settings.images
    if images.source == "painter":
        from fleet.content.images.painter import Painter

        return Painter(width=images.width, height=images.height)
    from fleet.content.images.endpoint import ImageEndpoint

    key = images.api_key or settings.openai_api_key
    if images.base_url is None and key is None:
        raise ConfigError(
            "FLEET_IMAGES__SOURCE=openai needs FLEET_IMAGES__BASE_URL (a local server) or a "
            "key (FLEET_IMAGES__API_KEY or OPENAI_API_KEY)"
        )
    return ImageEndpoint(images, api_key=None if key is None else key.get_secret_value())


def build_image_source(settings: Settings, *, handle_of: Callable[[int], str]) -> MarkedImages:
    """The configured ``ImageSource``: its painter made at the first image."""
    return MarkedImages(
        lambda: painter_of(settings),
        Marker(lambda: pair_of(settings.provenance)),
        ImageStore(settings.images.directory, max_bytes=settings.images.max_image_bytes),
        settings=settings,
        handle_of=handle_of,
    )
