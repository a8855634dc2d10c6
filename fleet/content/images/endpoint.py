"""An OpenAI-compatible ``/v1/images/generations`` endpoint as an image maker (the
``openai`` SDK, one try, held to a deadline and a byte cap: ``fleet.infra.bounded``)."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any

from fleet.errors import PermanentError, TransientError
from fleet.infra import bounded, transports
from fleet.settings import ImageSettings


class ImageEndpoint:
    """Asks the endpoint for one PNG (``b64_json``) of the prompt."""

    def __init__(self, settings: ImageSettings, *, api_key: str | None) -> None:
        import openai

        base = None if settings.base_url is None else str(settings.base_url)
        self._secrets = tuple(s for s in (api_key,) if s)
        self._settings = settings
        url = base or "https://api.openai.com/v1"
        # The answer holds the image in base64: 4/3 of its bytes, and the JSON around it.
        transport = transports.Transport2(
            verify=None,
            proxy=transports.proxy_for(url),
            limits=openai.DEFAULT_CONNECTION_LIMITS,
            max_bytes=settings.max_image_bytes * 4 // 3 + 65_536,
        )
        self._client = openai.OpenAI(
            api_key=api_key or "unused",
            base_url=base,
            max_retries=0,
            timeout=settings.timeout_seconds,
            http_client=openai.DefaultHttpxClient(transport=transport),
        )
        self.model = settings.model

    def paint(self, *, prompt: str, style: str, persona: str) -> bytes:
        """The endpoint's PNG for the prompt in the style (``persona`` is in the prompt
        the writer wrote already)."""
        import openai

        from fleet.content.llm.openai import translate

        asked: dict[str, Any] = {
            "model": self._settings.model,
            "prompt": f"{prompt.strip()[:3000]} (style: {style.strip()[:80]})",
            "n": 1,
            "response_format": "b64_json",
        }
        if self._settings.size is not None:
            asked["size"] = self._settings.size
        try:
            with bounded.within(self._settings.timeout_seconds):
                answer = self._client.images.generate(**asked)
        except openai.OpenAIError as error:
            raise translate(error, datetime.now(UTC), secrets=self._secrets) from None
        except bounded.AnswerRefused as error:
            raise TransientError(f"images endpoint: {error}") from None
        return self._png(answer)

    def _png(self, answer: Any) -> bytes:
        data = getattr(answer, "data", None) or []
        encoded = getattr(data[0], "b64_json", None) if data else None
        if not isinstance(encoded, str) or not encoded:
            raise PermanentError("the images endpoint answered no b64_json image")
        if len(encoded) > self._settings.max_image_bytes * 4 // 3 + 4:
            raise PermanentError(
                f"the image is over {self._settings.max_image_bytes:,} bytes "
                "(FLEET_IMAGES__MAX_IMAGE_BYTES)"
            )
        try:
            return base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise PermanentError("the images endpoint's b64_json is not base64") from None

    def close(self) -> None:
        self._client.close()
