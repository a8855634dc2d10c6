"""Generative and surreal art: the subject's silhouette in a dreamlike field.

The subject picks the figure (a jellyfish cathedral, a melting clock tower, a whale, a
fox of smoke, a lighthouse, a house on a cloud...). Forms: generative (the figure cut
from a flow field or rings), surreal (the figure over a mirrored horizon), style transfer
(the scene repainted in brush strokes that take its own colours). Looks add scanlines
(VHS), a smear (datamosh), a lens (fisheye, snow globe, bubble), a second moon.
"""

from __future__ import annotations

import math
import random

from PIL import Image, ImageDraw

from fleet_sandbox.briefs import Brief, first_match
from fleet_sandbox.canvas import gradient, layer, soft
from fleet_sandbox.dream_figures import FIGURES
from fleet_sandbox.palettes import Palette, shade, tint

SCENES: dict[str, str] = {
    "cathedral": "cathedral", "jellyfish": "jellyfish", "clock": "clock", "whale": "whale",
    "library": "whale", "roses": "roses", "rose": "roses", "desert": "roses", "moon": "moon",
    "staircase": "stairs", "stairs": "stairs", "coral": "coral", "forest": "coral",
    "fox": "fox", "orchard": "orchard", "tree": "orchard", "train": "train", "mirror": "mirror",
    "garden": "garden", "house": "house", "astronaut": "astronaut", "city": "city",
    "lighthouse": "lighthouse", "tower": "lighthouse", "tea party": "tea", "teapot": "tea",
    "river": "river", "eye": "moon", "portal": "mirror",
}  # fmt: skip


def scene_of(subject: str) -> str | None:
    """The figure a subject names."""
    return first_match(subject, SCENES)


def _field(image: Image.Image, p: Palette, rng: random.Random, kind: int) -> None:
    """A generative field: flow lines, rings or shards."""
    w, h = image.size
    d = ImageDraw.Draw(image)
    if kind == 0:  # flow field
        a, b = rng.uniform(1, 4), rng.uniform(1, 4)
        for _ in range(220):
            x, y = rng.uniform(0, w), rng.uniform(0, h)
            pts = []
            for _ in range(14):
                angle = math.sin(x / w * a * 3.1) + math.cos(y / h * b * 3.1)
                x, y = x + math.cos(angle * 2) * w / 70, y + math.sin(angle * 2) * h / 70
                pts.append((x, y))
            d.line(pts, fill=p.hue(rng.randrange(len(p.hues))), width=max(2, w // 220))
    elif kind == 1:  # rings
        cx, cy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
        for k in range(38, 0, -1):
            r = k * max(w, h) / 40
            d.ellipse((cx - r, cy - r, cx + r, cy + r), outline=p.hue(k), width=max(2, w // 130))
    else:  # shards
        for _ in range(60):
            x, y, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(w / 30, w / 8)
            d.regular_polygon(
                (x, y, r),
                rng.randint(3, 5),
                rotation=rng.uniform(0, 120),
                fill=tint(p.hue(rng.randrange(len(p.hues))), rng.uniform(0, 0.4)),
            )


def draw(brief: Brief, rng: random.Random, size: tuple[int, int]) -> Image.Image:
    """The picture of a generative or surreal brief."""
    w, h = size
    p = brief.palette
    sky_hue = p.hue(rng.randrange(len(p.hues)))
    dark = brief.has("night", "moonlight", "3 a.m.", "midnight", "blue-hour", "nebula") or (
        rng.random() < 0.5 and not brief.has("pastel")
    )
    top, bottom = (
        (shade(sky_hue, 0.8), shade(sky_hue, 0.45))
        if dark
        else (tint(sky_hue, 0.25), tint(sky_hue, 0.75))
    )
    image = gradient(size, top, bottom)
    figure = FIGURES.get(brief.scene or "", FIGURES[rng.choice(sorted(FIGURES))])
    mask = Image.new("L", size, 0)
    s = min(w, h) * rng.uniform(0.62, 0.8)
    horizon = int(h * rng.uniform(0.72, 0.84))
    figure(ImageDraw.Draw(mask), w / 2 + rng.uniform(-0.1, 0.1) * w, horizon, s, rng)
    ink = tint(p.hue(rng.randrange(len(p.hues))), 0.15 if dark else 0)
    if brief.form == "generative":
        _field(image, p, rng, rng.randrange(3))
        fill = Image.new("RGB", size, shade(sky_hue, 0.85) if not dark else tint(sky_hue, 0.85))
        image.paste(fill, (0, 0), mask)  # the figure cut out of the field
    else:
        d = ImageDraw.Draw(image)
        for _ in range(rng.randint(3, 9)):  # orbs
            r, x, y = rng.uniform(w / 40, w / 9), rng.uniform(0, w), rng.uniform(0, horizon * 0.7)
            d.ellipse(
                (x - r, y - r, x + r, y + r), fill=tint(p.hue(rng.randrange(len(p.hues))), 0.2)
            )
        d.rectangle((0, horizon, w, h), fill=shade(sky_hue, 0.6 if dark else 0.25))
        glow = soft(mask, w // 16)
        layer(image, tint(ink, 0.5), glow)
        layer(image, ink, mask)
        reflection = (
            mask.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
            .crop((0, h - horizon, w, 2 * h - horizon))
            .point(lambda v: v // 4)
        )
        image.paste(tint(ink, 0.3), (0, horizon, w, h), reflection.crop((0, 0, w, h - horizon)))
    if brief.has("two moons", "moon") and brief.scene != "moon":
        d = ImageDraw.Draw(image)
        for k in range(2 if brief.has("two moons") else 1):
            r = w * (0.05 - k * 0.02)
            d.ellipse(
                (w * (0.2 + k * 0.55) - r, h * 0.15 - r, w * (0.2 + k * 0.55) + r, h * 0.15 + r),
                fill=(236, 236, 236),
            )
    if brief.form == "transfer" or brief.has("oil paint", "brush"):
        _strokes(image, rng)
    _effects(image, brief, rng)
    return image


def _strokes(image: Image.Image, rng: random.Random) -> None:
    """Repaint in short strokes, each in the colour under it."""
    w, h = image.size
    small = image.reduce(8)
    raw, sw = small.tobytes(), small.width
    d = ImageDraw.Draw(image)
    width = max(3, w // 80)
    for _ in range(600):
        x, y = int(rng.random() * w), int(rng.random() * h)
        at = 3 * (min(small.height - 1, y // 8) * sw + min(sw - 1, x // 8))
        length, angle = w / 60 + rng.random() * w / 24, rng.random() * 1.2 - 0.6
        end = (x + math.cos(angle) * length, y + math.sin(angle) * length)
        d.line((x, y, *end), fill=(raw[at], raw[at + 1], raw[at + 2]), width=width)


def _effects(image: Image.Image, brief: Brief, rng: random.Random) -> None:
    w, h = image.size
    d = ImageDraw.Draw(image)
    if brief.has("vhs", "scanlines"):
        lines = Image.new("L", (w, h), 0)
        ld = ImageDraw.Draw(lines)
        for y in range(0, h, 6):
            ld.line((0, y, w, y), fill=70, width=2)
        layer(image, (0, 0, 0), lines)
    if brief.has("datamosh", "glitch"):
        for _ in range(rng.randint(4, 9)):
            y, bh, dx = (
                rng.randrange(h),
                rng.randint(h // 60, h // 12),
                rng.randint(-w // 8, w // 8),
            )
            strip = image.crop((0, y, w, min(h, y + bh)))
            image.paste(strip, (dx, y))
    if brief.has("fisheye", "snow globe", "soap bubble", "kaleidoscope"):
        ring = Image.new("L", (w, h), 255)
        ImageDraw.Draw(ring).ellipse((w * 0.04, h * 0.04, w * 0.96, h * 0.96), fill=0)
        layer(image, (12, 12, 14), ring)
        d.ellipse(
            (w * 0.04, h * 0.04, w * 0.96, h * 0.96),
            outline=(235, 235, 235),
            width=max(2, w // 150),
        )
