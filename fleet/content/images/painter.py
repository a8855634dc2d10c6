"""The sandbox's painters as a library (``pip install fleet[demo]``): a deterministic PNG
for a prompt, a style and a persona, drawn without a model or the network."""

from __future__ import annotations

from fleet.errors import ConfigError

MODEL = "fleet-painter"


class Painter:
    """Paints with ``fleet_sandbox.images.render`` at a fixed size."""

    def __init__(self, *, width: int, height: int) -> None:
        try:
            from fleet_sandbox import images
        except ImportError:
            raise ConfigError(
                "FLEET_IMAGES__SOURCE=painter needs the sandbox's painters: "
                "pip install 'fleet[demo]' (or set FLEET_IMAGES__SOURCE=openai)"
            ) from None
        self._render = images.render
        self.model = f"{MODEL} ({images.RENDERER})"
        self._size = (width, height)

    def paint(self, *, prompt: str, style: str, persona: str) -> bytes:
        width, height = self._size
        return self._render(prompt, style=style, persona=persona, width=width, height=height)
