"""The sandbox renderer's colours: the palettes prompts name, the personas' own, colour words.

A palette is a few pure colours (``hues``) plus a light and a dark; everything a picture
draws is one of them mixed with white, black or grey (``tint``, ``shade``), which keeps
each colour's hue: a picture "in monochrome blue" has only blue hues and neutrals.
"""

from __future__ import annotations

import colorsys
import re
from dataclasses import dataclass, replace

RGB = tuple[int, int, int]
WHITE: RGB = (255, 255, 255)
BLACK: RGB = (0, 0, 0)


def hexes(*codes: str) -> tuple[RGB, ...]:
    """Colours from ``#rrggbb`` codes."""
    return tuple((int(c[1:3], 16), int(c[3:5], 16), int(c[5:7], 16)) for c in codes)


def mix(a: RGB, b: RGB, t: float) -> RGB:
    """``a`` moved a share ``t`` of the way to ``b``."""
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def tint(colour: RGB, t: float) -> RGB:
    """Lighter, same hue."""
    return mix(colour, WHITE, t)


def shade(colour: RGB, t: float) -> RGB:
    """Darker, same hue."""
    return mix(colour, BLACK, t)


def luminance(colour: RGB) -> float:
    """Perceived lightness, 0 (black) to 1 (white)."""
    r, g, b = colour
    return (0.299 * r + 0.587 * g + 0.114 * b) / 255


def from_hls(hue: float, light: float, sat: float) -> RGB:
    """A colour from hue (0-360), lightness and saturation (0-1)."""
    r, g, b = colorsys.hls_to_rgb((hue % 360) / 360, light, sat)
    return (round(r * 255), round(g * 255), round(b * 255))


@dataclass(frozen=True)
class Palette:
    """Pure colours to draw with, a paper (light) and an ink (dark), and the name it came by."""

    name: str
    hues: tuple[RGB, ...]
    paper: RGB
    ink: RGB

    def hue(self, index: int) -> RGB:
        """The ``index``-th pure colour, cycling."""
        return self.hues[index % len(self.hues)]

    def ramp(self, t: float, *, diverging: bool = False) -> RGB:
        """A sequential scale of the first hue, light to dark (dim to bright on a dark
        paper), or a diverging one from the second hue through a neutral to the first."""
        t = min(1.0, max(0.0, t))
        if diverging and len(self.hues) > 1:
            middle = mix(self.paper, self.ink, 0.14)  # a neutral that still shows on paper
            if t < 0.5:
                return mix(shade(self.hues[1], 0.25), middle, t * 2)
            return mix(middle, shade(self.hues[0], 0.25), (t - 0.5) * 2)
        first = self.hues[0]
        if luminance(self.paper) < 0.4:  # on a dark paper: from dim to bright
            return mix(shade(first, 0.62), tint(first, 0.3), t)
        return mix(tint(first, 0.82), shade(first, 0.45), t)

    def night(self) -> Palette:
        """The same hues after dark: a dark paper, a light ink."""
        dark = shade(self.ink if luminance(self.ink) < 0.3 else self.hues[0], 0.55)
        return replace(self, paper=dark, ink=tint(self.paper, 0.3))

    def limited(self, count: int) -> Palette:
        """Only the first ``count`` pure colours (a Game Boy's four, 1-bit's one)."""
        return replace(self, hues=self.hues[: max(1, count)])


def _named(name: str, paper: str, ink: str, *hues: str) -> Palette:
    p, i = hexes(paper, ink)
    return Palette(name, hexes(*hues), p, i)


# The palettes the writers name ("..., sage and cream palette, ..."), by their names.
NAMED: dict[str, Palette] = {
    p.name: p
    for p in (
        _named("teal and orange", "#f4f7f6", "#123c3a", "#0f8b80", "#f2711c", "#0b5f58", "#f7a15e"),
        _named("muted pastel", "#fbf8f4", "#4a4a50", "#a8c5e6", "#f2b8c6", "#b9dcc2", "#f6d7a7"),
        _named("monochrome blue", "#eef4fb", "#0c2340", "#1f5fae", "#4d8fd6", "#163f73", "#8fbbe8"),
        _named("warm earth", "#f5ede3", "#3b2a20", "#a0623a", "#c98d4b", "#6e4a2f", "#d9a77a"),
        _named("black and gold", "#1a1a1a", "#f3e3b5", "#d4a82a", "#b8860b", "#f0cc6b", "#8a6a14"),
        _named("sage and cream", "#f6f0df", "#3d4a35", "#8aa37b", "#6b845e", "#c7d3b3", "#a9bc95"),
        _named("primary", "#fafafa", "#111111", "#d62828", "#1d4ed8", "#f5c518", "#0f2c8c"),
        _named(
            "dusty pink and grey", "#f3f1f2", "#3f3b3d", "#c98f9c", "#8e8a8c", "#e2b4bd", "#a56a78"
        ),
        _named("sepia", "#f1e6d2", "#3a2614", "#8b5a2b", "#b07d4f", "#5e3a1a", "#d2ab7c"),
        _named(
            "acid green and violet",
            "#f4f1fa",
            "#1e1036",
            "#a4d30c",
            "#7b3fe4",
            "#4d1d9e",
            "#c8f04a",
        ),
        _named("terracotta", "#f7ece6", "#3d1f16", "#c8603f", "#a4472b", "#e39474", "#7c3220"),
        _named("ink and paper", "#f4f2ec", "#1b1b1b", "#2b2b2b", "#6b6b6b", "#4a4a4a", "#9a9a9a"),
        _named("mint and coral", "#f3fbf8", "#1f3a34", "#3fbf9b", "#f47a60", "#2a8f73", "#f8a48f"),
        _named(
            "midnight and amber", "#0e1b33", "#fbe6b0", "#f0a30a", "#284d86", "#ffc94a", "#16305a"
        ),
    )
}

# What an agent draws with when its prompt names no colours.
PERSONAS: dict[str, Palette] = {
    "product_photographer": _named(
        "product photographer", "#f6f3ee", "#2b2b2b", "#c8a27a", "#8c6f56", "#4a5a6a", "#e07a5f"
    ),
    "social_media_marketer": _named(
        "social media marketer", "#fff4ec", "#1d1d3b", "#ff3cac", "#784ba0", "#2b86c5", "#ffb347"
    ),
    "indie_game_dev": _named(
        "indie game dev",
        "#1d2b53",
        "#000000",
        "#ffec27",
        "#29adff",
        "#00e436",
        "#ff004d",
        "#ffa300",
    ),
    "data_visualization": _named(
        "data visualization", "#fbfcfe", "#1f2937", "#2563eb", "#16a34a", "#f59e0b", "#dc2626"
    ),
    "ai_art_enthusiast": _named(
        "ai art enthusiast", "#0b0221", "#fefefe", "#ff006e", "#8338ec", "#3a86ff", "#ffbe0b"
    ),
    "ux_ui_designer": _named(
        "ux ui designer", "#f8fafc", "#0f172a", "#6366f1", "#0ea5e9", "#14b8a6", "#f43f5e"
    ),
}

# Colour words a prompt may use without a named palette, by hue (None: a neutral).
COLOUR_WORDS: dict[str, float | None] = {
    "red": 0, "crimson": 350, "scarlet": 5, "coral": 12, "orange": 28, "amber": 40,
    "gold": 45, "golden": 45, "yellow": 52, "lime": 80, "green": 130, "emerald": 145,
    "sage": 100, "mint": 160, "teal": 175, "turquoise": 178, "cyan": 188, "blue": 215,
    "navy": 225, "cobalt": 220, "indigo": 245, "violet": 270, "purple": 280,
    "lavender": 265, "magenta": 310, "pink": 335, "rose": 340, "brown": 25,
    "terracotta": 15, "black": None, "white": None, "grey": None, "gray": None,
    "silver": None,
}  # fmt: skip
_COLOUR = re.compile(r"\b(" + "|".join(COLOUR_WORDS) + r")\b")
_NAMED = re.compile(r"\b(" + "|".join(re.escape(n) for n in NAMED) + r")\b")


def named_in(text: str) -> str | None:
    """The last named palette in ``text`` (lower case), if any."""
    found = _NAMED.findall(text)
    return found[-1] if found else None


def from_words(text: str) -> Palette | None:
    """A palette from colour words ("snowy cabin, monochrome blue"), or None without any."""
    words = list(dict.fromkeys(_COLOUR.findall(text)))
    hues = [COLOUR_WORDS[w] for w in words if COLOUR_WORDS[w] is not None]
    if not hues:
        return None
    first = hues[0]
    assert first is not None
    pure: tuple[RGB, ...]
    if "monochrome" in text or len(hues) == 1:
        pure = (from_hls(first, 0.42, 0.6), from_hls(first, 0.58, 0.55), from_hls(first, 0.3, 0.6))
        paper, ink = from_hls(first, 0.95, 0.45), from_hls(first, 0.14, 0.6)
    else:
        pure = tuple(from_hls(h, 0.5, 0.65) for h in hues if h is not None)
        paper, ink = from_hls(first, 0.96, 0.3), from_hls(first, 0.12, 0.4)
    if "black" in words:
        paper, ink = (22, 22, 22), tint(pure[0], 0.7)
    return Palette(" and ".join(words), pure, paper, ink)


def monochrome(palette: Palette) -> Palette:
    """Only the palette's first hue, in three strengths."""
    first = palette.hues[0]
    return replace(palette, hues=(first, tint(first, 0.35), shade(first, 0.35)))
