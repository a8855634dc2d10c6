"""Real pictures for the sandbox: a PNG drawn from the prompt, the workflow style and the persona.

Deterministic: the same prompt, style, persona and size give the same bytes. The style
picks the motif (a product packshot, a bold social graphic, a pixel-art scene, a chart,
generative art, a UI mockup), the persona picks the palette, and the prompt seeds every
other choice, so two prompts of one agent look related but different.
"""

from __future__ import annotations

import colorsys
import functools
import hashlib
import io
import random
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFilter

RENDERER = "sandbox-1"
RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Palette:
    """Two background colours (top, bottom), an ink colour and accents."""

    top: RGB
    bottom: RGB
    ink: RGB
    accents: tuple[RGB, ...]


def _hex(*codes: str) -> tuple[RGB, ...]:
    return tuple((int(c[1:3], 16), int(c[3:5], 16), int(c[5:7], 16)) for c in codes)


def _palette(top: str, bottom: str, ink: str, *accents: str) -> Palette:
    t, b, i = _hex(top, bottom, ink)
    return Palette(t, b, i, _hex(*accents))


PALETTES = {
    "product_photographer": _palette(
        "#f6f3ee", "#d8d1c6", "#2b2b2b", "#c8a27a", "#8c6f56", "#4a5a6a", "#e07a5f"
    ),
    "social_media_marketer": _palette(
        "#ff5f6d", "#ffc371", "#1d1d3b", "#ff3cac", "#784ba0", "#2b86c5", "#fffb7d"
    ),
    "indie_game_dev": _palette(
        "#1d2b53", "#7e2553", "#000000", "#ffec27", "#29adff", "#00e436", "#ff004d", "#ffa300"
    ),
    "data_visualization": _palette(
        "#fbfcfe", "#e9eef5", "#1f2937", "#2563eb", "#16a34a", "#f59e0b", "#dc2626", "#7c3aed"
    ),
    "ai_art_enthusiast": _palette(
        "#0b0221", "#3a0ca3", "#fefefe", "#ff006e", "#8338ec", "#3a86ff", "#ffbe0b", "#06d6a0"
    ),
    "ux_ui_designer": _palette(
        "#f8fafc", "#dfe6ef", "#0f172a", "#6366f1", "#0ea5e9", "#14b8a6", "#f43f5e"
    ),
}


def _hashed_palette(seed: bytes) -> Palette:
    """A palette for an unknown persona: hues spread from a hash."""
    hue = seed[0] / 255

    def tone(shift: float, light: float, sat: float) -> RGB:
        r, g, b = colorsys.hls_to_rgb((hue + shift) % 1.0, light, sat)
        return (round(r * 255), round(g * 255), round(b * 255))

    return Palette(
        tone(0, 0.85, 0.4),
        tone(0.08, 0.65, 0.45),
        tone(0, 0.15, 0.3),
        tuple(tone(k / 5, 0.55, 0.7) for k in range(1, 5)),
    )


def image_id(prompt: str, *, style: str, persona: str, width: int, height: int) -> str:
    """The content address of a rendering: equal inputs, equal id."""
    text = "\x1f".join([RENDERER, prompt, style, persona, str(width), str(height)])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _gradient(size: tuple[int, int], top: RGB, bottom: RGB) -> Image.Image:
    column = Image.linear_gradient("L").resize((1, size[1]), Image.Resampling.BILINEAR)
    mask = column.resize(size, Image.Resampling.NEAREST)
    return Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), mask)


def _soft(layer: Image.Image, radius: int) -> Image.Image:
    """A Gaussian blur done at a quarter of the size: the same look, a fraction of the cost."""
    small = layer.resize((layer.width // 4, layer.height // 4), Image.Resampling.BILINEAR)
    small = small.filter(ImageFilter.GaussianBlur(max(1, radius // 4)))
    return small.resize(layer.size, Image.Resampling.BILINEAR)


def _packshot(rng: random.Random, p: Palette, size: tuple[int, int], variant: int) -> Image.Image:
    w, h = size
    image = _gradient(size, p.top, p.bottom).convert("RGBA")
    shadow = Image.new("RGBA", size, (0, 0, 0, 0))
    cx, floor = w // 2 + rng.randint(-w // 10, w // 10), int(h * 0.78)
    bw, bh = int(w * rng.uniform(0.18, 0.3)), int(h * rng.uniform(0.35, 0.5))
    ImageDraw.Draw(shadow).ellipse(
        (cx - bw, floor - h // 30, cx + bw, floor + h // 30), fill=(0, 0, 0, 110)
    )
    image.alpha_composite(_soft(shadow, w // 40))
    draw = ImageDraw.Draw(image)
    body, cap = rng.choice(p.accents), p.ink
    if variant == 0:  # a bottle
        draw.rounded_rectangle((cx - bw // 2, floor - bh, cx + bw // 2, floor), bw // 5, fill=body)
        draw.rectangle((cx - bw // 6, floor - bh - h // 12, cx + bw // 6, floor - bh + 4), fill=cap)
    elif variant == 1:  # a box and a sphere: lifestyle still life
        draw.rectangle((cx - bw, floor - bh // 2, cx, floor), fill=body)
        r = bh // 4
        draw.ellipse((cx + r // 3, floor - 2 * r, cx + r // 3 + 2 * r, floor), fill=p.accents[0])
    else:  # a jar on a clean background
        draw.rounded_rectangle(
            (cx - bw // 2, floor - bh // 2, cx + bw // 2, floor), bw // 3, fill=body
        )
        draw.rectangle(
            (cx - bw // 2 - 4, floor - bh // 2 - h // 20, cx + bw // 2 + 4, floor - bh // 2),
            fill=cap,
        )
    if variant == 0:
        highlight = Image.new("RGBA", size, (0, 0, 0, 0))
        ImageDraw.Draw(highlight).rectangle(
            (cx - bw // 3, floor - bh + h // 20, cx - bw // 3 + w // 40, floor - h // 20),
            fill=(255, 255, 255, 90),
        )
        image.alpha_composite(_soft(highlight, w // 60))
    return image.convert("RGB")


def _bold(rng: random.Random, p: Palette, size: tuple[int, int], variant: int) -> Image.Image:
    w, h = size
    image = _gradient(size, p.top, p.bottom).convert("RGBA")
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    for _ in range(5 + variant * 2):
        r = rng.randint(w // 8, w // 3)
        x, y = rng.randint(-r // 2, w), rng.randint(-r // 2, h)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(*rng.choice(p.accents), 150))
    image.alpha_composite(layer)
    draw = ImageDraw.Draw(image)
    band = int(h * rng.uniform(0.55, 0.7))
    draw.rectangle((0, band, w, band + h // 6), fill=(*p.ink, 230))
    for k in range(3):  # headline "text" bars
        length = int(w * rng.uniform(0.3, 0.8))
        y = band + h // 40 + k * h // 22
        draw.rounded_rectangle(
            (w // 16, y, w // 16 + length, y + h // 40), h // 80, fill=(255, 255, 255, 255)
        )
    if variant == 1:  # carousel dots
        for k in range(5):
            x = w // 2 + (k - 2) * w // 24
            fill = (255, 255, 255) if k == 0 else (255, 255, 255, 120)
            draw.ellipse((x - 5, h - h // 14 - 5, x + 5, h - h // 14 + 5), fill=fill)
    return image.convert("RGB")


def _pixel(rng: random.Random, p: Palette, size: tuple[int, int], variant: int) -> Image.Image:
    cells = 32
    small = _gradient((cells, cells), p.top, p.bottom)
    draw = ImageDraw.Draw(small)
    ground = rng.randint(20, 25)
    if variant == 2:  # a tileset: a grid of 8x8 tiles
        for ty in range(4):
            for tx in range(4):
                colour = rng.choice(p.accents)
                draw.rectangle((tx * 8, ty * 8, tx * 8 + 7, ty * 8 + 7), fill=colour)
                for _ in range(6):
                    draw.point((tx * 8 + rng.randint(0, 7), ty * 8 + rng.randint(0, 7)), fill=p.ink)
    else:
        draw.rectangle((0, ground, cells, cells), fill=p.accents[2 % len(p.accents)])
        for x in range(0, cells, 2):
            draw.point((x, ground), fill=p.accents[0])
        for _ in range(1 if variant == 0 else 4):  # symmetric sprites
            ox, oy = rng.randint(1, cells - 7), rng.randint(3, ground - 6)
            colour = rng.choice(p.accents)
            for y in range(5):
                for x in range(3):
                    if rng.random() < 0.6:
                        draw.point((ox + x, oy + y), fill=colour)
                        draw.point((ox + 4 - x, oy + y), fill=colour)
        for _ in range(6):
            draw.point(
                (rng.randint(0, cells - 1), rng.randint(0, ground // 2)), fill=(255, 255, 255)
            )
    return small.resize(size, Image.Resampling.NEAREST)


def _chart(rng: random.Random, p: Palette, size: tuple[int, int], variant: int) -> Image.Image:
    w, h = size
    image = _gradient(size, p.top, p.bottom)
    draw = ImageDraw.Draw(image)
    panels = (
        [(0.08, 0.1, 0.92, 0.9)]
        if variant != 2
        else [(0.05, 0.05, 0.48, 0.48), (0.52, 0.05, 0.95, 0.48), (0.05, 0.52, 0.95, 0.95)]
    )
    for index, (x0, y0, x1, y1) in enumerate(panels):
        box = (int(x0 * w), int(y0 * h), int(x1 * w), int(y1 * h))
        draw.rounded_rectangle(box, w // 60, fill=(255, 255, 255), outline=(210, 215, 225))
        left, top, right, bottom = (
            box[0] + w // 20,
            box[1] + h // 20,
            box[2] - w // 30,
            box[3] - h // 20,
        )
        for k in range(4):  # grid lines
            y = top + (bottom - top) * k // 4
            draw.line((left, y, right, y), fill=(228, 232, 240), width=max(1, w // 400))
        draw.line((left, bottom, right, bottom), fill=p.ink, width=max(1, w // 256))
        if variant == 1 and index == 0:  # infographic: a donut and its legend
            r = min(right - left, bottom - top) // 3
            cx, cy = left + r + w // 20, (top + bottom) // 2
            start = 0.0
            for colour in p.accents:
                sweep = rng.uniform(40, 120)
                draw.pieslice((cx - r, cy - r, cx + r, cy + r), start, start + sweep, fill=colour)
                start += sweep
            draw.ellipse((cx - r // 2, cy - r // 2, cx + r // 2, cy + r // 2), fill=(255, 255, 255))
            for k, colour in enumerate(p.accents):
                y = top + k * (bottom - top) // len(p.accents)
                draw.rectangle(
                    (cx + r + w // 12, y, cx + r + w // 12 + w // 30, y + h // 30), fill=colour
                )
                draw.rectangle(
                    (cx + r + w // 7, y + 4, right - w // 20, y + h // 60 + 4), fill=(200, 205, 215)
                )
            continue
        bars = rng.randint(5, 9)
        step = (right - left) / bars
        values = [rng.uniform(0.15, 0.95) for _ in range(bars)]
        colour = p.accents[index % len(p.accents)]
        if index != 1 or variant != 2:
            for k, v in enumerate(values):
                x = left + k * step + step * 0.2
                draw.rectangle(
                    (x, bottom - (bottom - top) * v, x + step * 0.6, bottom), fill=colour
                )
        line = [
            (
                left + (k + 0.5) * step,
                bottom - (bottom - top) * min(0.98, v * rng.uniform(0.8, 1.1)),
            )
            for k, v in enumerate(values)
        ]
        draw.line(line, fill=p.accents[(index + 3) % len(p.accents)], width=max(2, w // 150))
    return image


def _generative(rng: random.Random, p: Palette, size: tuple[int, int], variant: int) -> Image.Image:
    w, h = size
    image = _gradient(size, p.top, p.bottom).convert("RGBA")
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    if variant == 0:  # concentric, drifting rings
        cx, cy = rng.randint(w // 4, 3 * w // 4), rng.randint(h // 4, 3 * h // 4)
        for k in range(40, 0, -1):
            r = k * max(w, h) // 50
            colour = p.accents[k % len(p.accents)]
            dx, dy = rng.randint(-w // 60, w // 60), rng.randint(-h // 60, h // 60)
            draw.ellipse(
                (cx - r + dx, cy - r + dy, cx + r + dx, cy + r + dy),
                outline=(*colour, 170),
                width=max(2, w // 120),
            )
    elif variant == 1:  # surreal: floating orbs over a horizon
        horizon = int(h * rng.uniform(0.55, 0.7))
        draw.rectangle((0, horizon, w, h), fill=(*p.accents[0], 90))
        for _ in range(9):
            r = rng.randint(w // 30, w // 7)
            x, y = rng.randint(0, w), rng.randint(0, horizon)
            draw.ellipse((x - r, y - r, x + r, y + r), fill=(*rng.choice(p.accents), 200))
            draw.ellipse(
                (x - r, 2 * horizon - y - r // 3, x + r, 2 * horizon - y + r // 3),
                fill=(255, 255, 255, 40),
            )
    else:  # style transfer: brush strokes
        for _ in range(160):
            x, y = rng.randint(0, w), rng.randint(0, h)
            length, width = rng.randint(w // 20, w // 6), rng.randint(w // 80, w // 30)
            slant = rng.randint(-h // 12, h // 12)
            draw.line(
                (x, y, x + length, y + slant), fill=(*rng.choice(p.accents), 140), width=width
            )
    image.alpha_composite(layer)
    return image.convert("RGB")


def _mockup(rng: random.Random, p: Palette, size: tuple[int, int], variant: int) -> Image.Image:
    w, h = size
    image = _gradient(size, p.top, p.bottom)
    draw = ImageDraw.Draw(image)
    grey, light = (203, 213, 225), (241, 245, 249)
    if variant == 0:  # a phone screen
        box = (w * 3 // 10, h // 12, w * 7 // 10, h * 11 // 12)
        draw.rounded_rectangle(box, w // 18, fill=p.ink)
        inner = (box[0] + w // 60, box[1] + w // 60, box[2] - w // 60, box[3] - w // 60)
        draw.rounded_rectangle(inner, w // 24, fill=(255, 255, 255))
        x0, y = inner[0] + w // 30, inner[1] + h // 14
        for k in range(4):
            draw.rounded_rectangle((x0, y, inner[2] - w // 30, y + h // 9), w // 80, fill=light)
            draw.ellipse(
                (x0 + w // 60, y + h // 40, x0 + w // 60 + h // 16, y + h // 40 + h // 16),
                fill=p.accents[k % len(p.accents)],
            )
            draw.rectangle(
                (x0 + w // 8, y + h // 30, inner[2] - w // 12, y + h // 30 + h // 60), fill=grey
            )
            y += h // 8
        draw.rounded_rectangle(
            (x0, inner[3] - h // 10, inner[2] - w // 30, inner[3] - h // 30),
            w // 60,
            fill=p.accents[0],
        )
    else:  # components on a board, or a design system's swatches
        cols = 3 if variant == 1 else 4
        for row in range(3):
            for col in range(cols):
                x = w // 16 + col * (w - w // 8) // cols
                y = h // 10 + int(row * h / 3.4)
                cw, ch = (w - w // 8) // cols - w // 30, h // 4
                if variant == 2 and row == 0:
                    draw.rounded_rectangle(
                        (x, y, x + cw, y + ch), w // 40, fill=p.accents[col % len(p.accents)]
                    )
                    continue
                draw.rounded_rectangle(
                    (x, y, x + cw, y + ch), w // 60, fill=(255, 255, 255), outline=grey
                )
                draw.rectangle(
                    (x + w // 40, y + h // 30, x + cw - w // 20, y + h // 30 + h // 50), fill=grey
                )
                button = p.accents[(row + col) % len(p.accents)] if rng.random() < 0.6 else p.ink
                draw.rounded_rectangle(
                    (x + w // 40, y + ch - h // 12, x + cw // 2, y + ch - h // 30),
                    h // 60,
                    fill=button,
                )
    return image


Motif = Callable[[random.Random, Palette, tuple[int, int], int], Image.Image]

# Each persona's three workflow styles, in order: the motif and its variant.
STYLES: dict[str, tuple[Motif, int]] = {
    "packshot": (_packshot, 0),
    "lifestyle": (_packshot, 1),
    "clean-background": (_packshot, 2),
    "story": (_bold, 0),
    "carousel": (_bold, 1),
    "viral-graphic": (_bold, 2),
    "pixel-art": (_pixel, 0),
    "sprite-sheet": (_pixel, 1),
    "tileset": (_pixel, 2),
    "chart": (_chart, 0),
    "infographic": (_chart, 1),
    "dashboard": (_chart, 2),
    "generative": (_generative, 0),
    "surreal": (_generative, 1),
    "style-transfer": (_generative, 2),
    "mockup": (_mockup, 0),
    "component": (_mockup, 1),
    "design-system": (_mockup, 2),
}
MOTIFS: tuple[Motif, ...] = (_packshot, _bold, _pixel, _chart, _generative, _mockup)


def _motif(style: str, seed: bytes) -> tuple[Motif, int]:
    key = style.strip().lower().replace(" ", "-").replace("_", "-")
    if key in STYLES:
        return STYLES[key]
    for name, motif in STYLES.items():  # "pixel art scene" finds "pixel-art"
        if name.split("-")[0] in key:
            return motif
    return MOTIFS[seed[1] % len(MOTIFS)], seed[2] % 3


@functools.cache
def placeholder() -> bytes:
    """The stand-in picture served at ``/images/placeholder.png``: a grey frame and a sun."""
    image = _gradient((512, 512), (236, 239, 243), (214, 219, 226))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((156, 176, 356, 336), 18, outline=(152, 162, 179), width=10)
    draw.polygon([(176, 316), (236, 246), (276, 290), (306, 262), (336, 316)], fill=(152, 162, 179))
    draw.ellipse((292, 200, 322, 230), fill=(152, 162, 179))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def render(prompt: str, *, style: str, persona: str, width: int, height: int) -> bytes:
    """A PNG of ``width`` x ``height`` for the prompt, in the style's motif and persona's palette."""
    seed = hashlib.sha256("\x1f".join([RENDERER, prompt, style, persona]).encode()).digest()
    palette = PALETTES.get(persona) or _hashed_palette(seed)
    motif, variant = _motif(style, seed)
    rng = random.Random(seed)
    # Drawn at twice the size and scaled down, for smooth edges (pixel art stays crisp).
    scale = 1 if motif is _pixel else 2
    image = motif(rng, palette, (width * scale, height * scale), variant)
    if scale != 1:
        image = image.reduce(scale)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()
