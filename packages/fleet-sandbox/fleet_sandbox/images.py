"""Real pictures for the sandbox: a PNG drawn from what the prompt says.

Deterministic: the same prompt, style, persona and size give the same bytes. ``plan``
reads the prompt into a ``Brief`` (the decision record): the workflow style picks the
motif (a product shot, a social graphic, pixel art, a chart, generative art, an
interface) and its form; the prompt's words pick the subject drawn (a heatmap, a snowy
cabin, a silk scarf in sand), the palette (a named one such as "monochrome blue",
else colour words, else the persona's own), the light and the framing. What the prompt
leaves open is drawn from a generator seeded by the prompt, so twenty posts of one
persona look like twenty pictures, not one.

The motifs live beside this module: ``charts`` (with ``plots`` and ``chart_frame``),
``pixels`` (with ``pixel_props``), ``packshots`` (with ``products``), ``social``,
``dreams`` and ``mockups``; ``briefs`` reads prompts and ``palettes`` holds the colours.
"""

from __future__ import annotations

import functools
import hashlib
import io
import random
from collections.abc import Callable
from dataclasses import replace
from types import ModuleType

from PIL import Image, ImageDraw

from fleet_sandbox import charts, dreams, mockups, packshots, pixels, social
from fleet_sandbox.briefs import Brief, first_match, palette_for, seed_of, subject_of, words_of
from fleet_sandbox.canvas import gradient

RENDERER = "sandbox-2"

# The personas' workflow styles: the motif ("family") and its form.
STYLES: dict[str, tuple[str, str]] = {
    "packshot": ("packshot", "packshot"),
    "lifestyle": ("packshot", "lifestyle"),
    "clean-background": ("packshot", "clean"),
    "story": ("social", "story"),
    "carousel": ("social", "carousel"),
    "viral-graphic": ("social", "viral"),
    "pixel-art": ("pixel", "scene"),
    "sprite-sheet": ("pixel", "sprites"),
    "tileset": ("pixel", "tiles"),
    "chart": ("chart", "chart"),
    "infographic": ("chart", "infographic"),
    "dashboard": ("chart", "dashboard"),
    "generative": ("dream", "generative"),
    "surreal": ("dream", "surreal"),
    "style-transfer": ("dream", "transfer"),
    "mockup": ("mockup", "screen"),
    "component": ("mockup", "component"),
    "design-system": ("mockup", "system"),
}
FAMILIES: dict[str, ModuleType] = {
    "packshot": packshots,
    "social": social,
    "pixel": pixels,
    "chart": charts,
    "dream": dreams,
    "mockup": mockups,
}
# Words that name a motif, for a style no persona ships ("a bar graph of...").
FAMILY_WORDS: dict[str, str] = {
    "chart": "chart", "graph": "chart", "plot": "chart", "heatmap": "chart",
    "dashboard": "chart", "infographic": "chart", "pixel": "pixel", "sprite": "pixel",
    "8-bit": "pixel", "16-bit": "pixel", "tileset": "pixel", "product": "packshot",
    "packshot": "packshot", "still life": "packshot", "mockup": "mockup", "ui": "mockup",
    "app": "mockup", "screen": "mockup", "interface": "mockup", "poster": "social",
    "story": "social", "carousel": "social", "surreal": "dream", "generative": "dream",
    "dream": "dream", "abstract": "dream",
}  # fmt: skip
FIRST_FORM = {family: form for family, form in reversed(STYLES.values())}
PERSONA_FAMILY = {
    "product_photographer": "packshot",
    "social_media_marketer": "social",
    "indie_game_dev": "pixel",
    "data_visualization": "chart",
    "ai_art_enthusiast": "dream",
    "ux_ui_designer": "mockup",
}


def _motif(style: str, text: str, persona: str, seed: bytes) -> tuple[str, str]:
    key = style.strip().lower().replace(" ", "-").replace("_", "-")
    if key in STYLES:
        return STYLES[key]
    for name, motif in STYLES.items():  # "pixel art scene" finds "pixel-art"
        if name.split("-")[0] in key:
            return motif
    family = (
        first_match(key.replace("-", " "), FAMILY_WORDS)
        or first_match(text, FAMILY_WORDS)
        or PERSONA_FAMILY.get(persona)
        or sorted(FAMILIES)[seed[1] % len(FAMILIES)]
    )
    return family, FIRST_FORM[family]


def plan(prompt: str, *, style: str, persona: str) -> Brief:
    """What the renderer draws for this prompt: its decision record."""
    text = " ".join(prompt.lower().split())
    seed = seed_of(RENDERER, prompt, style, persona)
    family, form = _motif(style, text, persona, seed)
    palette, named = palette_for(text, persona, seed)
    subject = subject_of(text)
    brief = Brief(family, form, subject, palette, named, text=text, words=words_of(text))
    if family == "chart":
        return replace(brief, chart=charts.chart_type(text, subject, form, seed))
    scene_of: Callable[[str], str | None] = FAMILIES[family].scene_of
    return replace(brief, scene=scene_of(subject) or scene_of(text))


def image_id(prompt: str, *, style: str, persona: str, width: int, height: int) -> str:
    """The content address of a rendering: equal inputs, equal id."""
    text = "\x1f".join([RENDERER, prompt, style, persona, str(width), str(height)])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@functools.cache
def placeholder() -> bytes:
    """The stand-in picture served at ``/images/placeholder.png``: a grey frame and a sun."""
    image = gradient((512, 512), (236, 239, 243), (214, 219, 226))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((156, 176, 356, 336), 18, outline=(152, 162, 179), width=10)
    draw.polygon([(176, 316), (236, 246), (276, 290), (306, 262), (336, 316)], fill=(152, 162, 179))
    draw.ellipse((292, 200, 322, 230), fill=(152, 162, 179))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def picture(prompt: str, *, style: str, persona: str, width: int, height: int) -> Image.Image:
    """The picture ``render`` encodes, as an image."""
    brief = plan(prompt, style=style, persona=persona)
    rng = random.Random(seed_of(RENDERER, prompt, style, persona))
    # Drawn at twice the size and halved, for smooth edges; pixel art stays crisp.
    scale = 1 if brief.family == "pixel" else 2
    image: Image.Image = FAMILIES[brief.family].draw(brief, rng, (width * scale, height * scale))
    return image.reduce(scale) if scale != 1 else image


def render(prompt: str, *, style: str, persona: str, width: int, height: int) -> bytes:
    """A PNG of ``width`` x ``height`` for the prompt (see ``plan`` for what is drawn)."""
    image = picture(prompt, style=style, persona=persona, width=width, height=height)
    out = io.BytesIO()
    # zlib level 3: half the encoding time of the default 6, files a fifth larger.
    image.save(out, format="PNG", compress_level=3)
    return out.getvalue()
