"""Social graphics for marketers: the post the subject names, in a story, carousel or feed tile.

The subject picks the layout (a sale burst, a countdown, a quote card, a flat lay of an
iced latte, a mood board, a before-and-after split, a shelfie, a podcast cover...); the
look words add a split screen, a bento or pastel grid, stickers, film grain or a glow.
Headlines are drawn as bars: the prompts ask for no text.
"""

from __future__ import annotations

import random

from PIL import Image, ImageDraw

from fleet_sandbox.briefs import Brief, first_match
from fleet_sandbox.canvas import Box, gradient, layer, soft, sprinkle
from fleet_sandbox.palettes import RGB, Palette, luminance, shade, tint

SCENES: dict[str, str] = {
    "teaser": "poster", "drop": "poster", "sale": "sale", "announcement": "sale",
    "discount": "sale", "promo": "blocks", "colour-blocked": "blocks", "color-blocked": "blocks",
    "latte": "flatlay", "flat lay": "flatlay", "brunch": "flatlay", "coffee": "flatlay",
    "desk": "desk", "behind-the-scenes": "desk", "quote": "quote", "countdown": "countdown",
    "launch": "countdown", "tip": "tips", "tips": "tips", "swipe": "tips", "unboxing": "unboxing",
    "mood board": "moodboard", "moodboard": "moodboard", "giveaway": "giveaway",
    "before and after": "split", "outfit": "outfit", "festival": "outfit", "fashion": "outfit",
    "shelfie": "shelf", "skincare": "shelf", "shelf": "shelf", "podcast": "podcast",
    "meme": "meme", "brand colour": "swatches", "brand color": "swatches", "vlog": "vlog",
}  # fmt: skip


def scene_of(subject: str) -> str | None:
    """The layout a subject names."""
    return first_match(subject, SCENES)


def _bars(
    d: ImageDraw.ImageDraw,
    x: float,
    y: float,
    width: float,
    size: float,
    rng: random.Random,
    colour: RGB,
    lines: int = 3,
) -> float:
    """A headline as bars of text; returns the y under it."""
    for k in range(lines):
        length = width * (rng.uniform(0.55, 1.0) if k < lines - 1 else rng.uniform(0.3, 0.6))
        d.rounded_rectangle((x, y, x + length, y + size), size / 3, fill=colour)
        y += size * 1.6
    return y


def _on(colour: RGB) -> RGB:
    """Text colour that reads on ``colour``."""
    return (24, 24, 28) if luminance(colour) > 0.6 else (250, 250, 250)


def _content(image: Image.Image, box: Box, scene: str, p: Palette, rng: random.Random) -> None:
    d = ImageDraw.Draw(image)
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    a, b, c = p.hue(0), p.hue(1), p.hue(2)
    if scene == "sale":
        r = min(w, h) * 0.3
        d.regular_polygon(
            (cx, cy - h * 0.08, r), rng.choice((12, 16, 20)), rotation=rng.uniform(0, 30), fill=a
        )
        d.regular_polygon((cx, cy - h * 0.08, r * 0.86), 24, fill=shade(a, 0.1))
        _bars(d, cx - r * 0.55, cy - h * 0.13, r * 1.1, r * 0.16, rng, _on(a), 2)
        _bars(d, x0 + w * 0.12, y1 - h * 0.22, w * 0.76, h * 0.035, rng, p.ink, 2)
    elif scene == "countdown":
        for k in range(3):  # big digit blocks
            x = x0 + w * (0.12 + k * 0.27)
            d.rounded_rectangle(
                (x, cy - h * 0.2, x + w * 0.22, cy + h * 0.12), w * 0.03, fill=(a, b, c)[k]
            )
            d.rounded_rectangle(
                (x + w * 0.06, cy - h * 0.12, x + w * 0.16, cy + h * 0.04),
                w * 0.02,
                fill=_on((a, b, c)[k]),
            )
        _bars(d, x0 + w * 0.12, cy + h * 0.2, w * 0.76, h * 0.04, rng, p.ink, 2)
    elif scene == "quote":
        for k in range(2):
            x = x0 + w * (0.1 + k * 0.12)
            d.ellipse((x, y0 + h * 0.12, x + w * 0.09, y0 + h * 0.12 + w * 0.09), fill=a)
            d.polygon(
                [
                    (x + w * 0.02, y0 + h * 0.17),
                    (x + w * 0.09, y0 + h * 0.17),
                    (x + w * 0.03, y0 + h * 0.26),
                ],
                fill=a,
            )
        _bars(d, x0 + w * 0.1, y0 + h * 0.34, w * 0.8, h * 0.05, rng, p.ink, 4)
        d.ellipse((x0 + w * 0.1, y1 - h * 0.2, x0 + w * 0.1 + h * 0.08, y1 - h * 0.12), fill=b)
    elif scene == "flatlay":
        for _ in range(rng.randint(2, 4)):  # cups seen from above, ice and a straw
            r = min(w, h) * rng.uniform(0.1, 0.2)
            x, y = rng.uniform(x0 + r, x1 - r), rng.uniform(y0 + r, y1 - r)
            d.ellipse((x - r, y - r, x + r, y + r), fill=(245, 245, 245))
            d.ellipse(
                (x - r * 0.8, y - r * 0.8, x + r * 0.8, y + r * 0.8),
                fill=shade(rng.choice((a, b, c)), 0.35),
            )
            for _ in range(3):
                ix, iy = x + rng.uniform(-r / 2, r / 2), y + rng.uniform(-r / 2, r / 2)
                d.rounded_rectangle(
                    (ix - r * 0.15, iy - r * 0.15, ix + r * 0.15, iy + r * 0.15),
                    r * 0.05,
                    fill=tint(b, 0.7),
                )
        for _ in range(5):
            x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
            d.ellipse((x, y, x + w * 0.04, y + w * 0.04), fill=c)
    elif scene in ("moodboard", "swatches", "tips", "blocks", "vlog", "meme", "podcast"):
        _grid_content(d, box, scene, p, rng)
    elif scene in ("split", "unboxing", "giveaway", "desk", "outfit", "shelf"):
        _object_content(d, box, scene, p, rng)
    else:  # a poster: a hero shape and a headline
        r = min(w, h) * rng.uniform(0.22, 0.32)
        d.ellipse((cx - r, y0 + h * 0.12, cx + r, y0 + h * 0.12 + 2 * r), fill=a)
        d.rectangle((x0 + w * 0.2, y0 + h * 0.12 + r, x1 - w * 0.2, y0 + h * 0.12 + 2 * r), fill=b)
        _bars(d, x0 + w * 0.1, y1 - h * 0.3, w * 0.8, h * 0.05, rng, p.ink, 3)


def _grid_content(
    d: ImageDraw.ImageDraw, box: Box, scene: str, p: Palette, rng: random.Random
) -> None:
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    if scene == "swatches":
        for k in range(len(p.hues)):
            y = y0 + h * (0.1 + k * 0.8 / len(p.hues))
            d.rounded_rectangle(
                (x0 + w * 0.1, y, x1 - w * 0.1, y + h * 0.8 / len(p.hues) - h * 0.03),
                w * 0.03,
                fill=p.hue(k),
            )
            _bars(d, x0 + w * 0.15, y + h * 0.04, w * 0.3, h * 0.025, rng, _on(p.hue(k)), 1)
    elif scene == "podcast":
        r = min(w, h) * 0.2
        cx, cy = (x0 + x1) / 2, y0 + h * 0.38
        d.rounded_rectangle(
            (cx - r * 0.45, cy - r, cx + r * 0.45, cy + r * 0.4), r * 0.45, fill=p.hue(0)
        )
        d.arc(
            (cx - r * 0.75, cy - r * 0.5, cx + r * 0.75, cy + r * 0.75),
            0,
            180,
            fill=p.ink,
            width=max(3, int(r * 0.08)),
        )
        for k in range(24):  # a waveform
            x, amp = x0 + w * (0.1 + k * 0.8 / 24), h * rng.uniform(0.01, 0.08)
            d.rounded_rectangle(
                (x, y0 + h * 0.78 - amp, x + w * 0.018, y0 + h * 0.78 + amp),
                w * 0.009,
                fill=p.hue(1),
            )
    elif scene == "tips":
        for k in range(rng.randint(3, 5)):
            y = y0 + h * (0.12 + k * 0.17)
            d.ellipse((x0 + w * 0.1, y, x0 + w * 0.1 + h * 0.09, y + h * 0.09), fill=p.hue(k))
            _bars(d, x0 + w * 0.1 + h * 0.13, y + h * 0.015, w * 0.6, h * 0.025, rng, p.ink, 2)
    else:  # a mood board, a bento of blocks, a vlog or meme frame
        cells: list[tuple[float, float, float, float]] = [
            (0, 0, 2, 1), (2, 0, 3, 2), (0, 1, 1, 3), (1, 1, 2, 2), (1, 2, 3, 3),
        ]  # fmt: skip
        if scene == "meme":
            cells = [(0, 0, 3, 1.4), (0, 1.6, 3, 3)]
        gap = w * 0.02
        for k, (a, bb, c, e) in enumerate(cells):
            box2 = (
                x0 + a * w / 3 + gap,
                y0 + bb * h / 3 + gap,
                x0 + c * w / 3 - gap,
                y0 + e * h / 3 - gap,
            )
            colour = (
                p.hue(rng.randrange(len(p.hues))) if rng.random() < 0.7 else tint(p.hue(k), 0.6)
            )
            d.rounded_rectangle(box2, w * 0.02, fill=colour)
            if scene in ("vlog", "meme") or rng.random() < 0.3:
                r = (box2[3] - box2[1]) * 0.25
                mx, my = (box2[0] + box2[2]) / 2, (box2[1] + box2[3]) / 2
                d.ellipse((mx - r, my - r, mx + r, my + r), fill=_on(colour))
                d.polygon(
                    [
                        (mx - r * 0.3, my - r * 0.45),
                        (mx - r * 0.3, my + r * 0.45),
                        (mx + r * 0.5, my),
                    ],
                    fill=colour,
                )


def _object_content(
    d: ImageDraw.ImageDraw, box: Box, scene: str, p: Palette, rng: random.Random
) -> None:
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    cx = (x0 + x1) / 2
    if scene == "split":  # before | after, side by side or one above the other
        across = rng.random() < 0.5
        cut = (x0 + w * rng.uniform(0.35, 0.65)) if across else (y0 + h * rng.uniform(0.35, 0.65))
        first = (x0, y0, cut, y1) if across else (x0, y0, x1, cut)
        second = (cut, y0, x1, y1) if across else (x0, cut, x1, y1)
        r = min(w, h) * rng.uniform(0.08, 0.15)
        for part, fill, mark in ((first, tint(p.hue(1), 0.55), shade(p.hue(1), 0.3)), (second, p.hue(0), _on(p.hue(0)))):  # fmt: skip
            d.rectangle(part, fill=fill)
            mx = rng.uniform(part[0] + r, max(part[0] + r, part[2] - r))
            my = rng.uniform(part[1] + r, max(part[1] + r, part[3] - r))
            d.ellipse((mx - r, my - r, mx + r, my + r), fill=mark)
        line = (cut, y0, cut, y1) if across else (x0, cut, x1, cut)
        d.line(line, fill=(250, 250, 250), width=max(3, int(w * 0.01)))
    elif scene in ("unboxing", "giveaway"):
        bw = w * 0.5
        top = y0 + h * 0.45
        d.rectangle((cx - bw / 2, top, cx + bw / 2, y0 + h * 0.85), fill=p.hue(0))
        d.rectangle((cx - bw * 0.08, top, cx + bw * 0.08, y0 + h * 0.85), fill=p.hue(1))
        lid = top - h * (0.12 if scene == "unboxing" else 0.02)
        d.polygon(
            [
                (cx - bw * 0.55, lid),
                (cx + bw * 0.55, lid - h * 0.05),
                (cx + bw * 0.55, lid + h * 0.04),
                (cx - bw * 0.55, lid + h * 0.09),
            ],
            fill=shade(p.hue(0), 0.2),
        )
        if scene == "giveaway":
            for k in (-1, 1):
                d.ellipse(
                    (
                        cx + k * bw * 0.2 - bw * 0.15,
                        lid - h * 0.12,
                        cx + k * bw * 0.2 + bw * 0.15,
                        lid,
                    ),
                    outline=p.hue(1),
                    width=max(4, int(w * 0.02)),
                )
        for _ in range(14):  # confetti
            x, y = rng.uniform(x0, x1), rng.uniform(y0, top)
            d.rectangle((x, y, x + w * 0.02, y + w * 0.035), fill=p.hue(rng.randrange(4)))
    elif scene == "shelf":
        for k in range(3):
            y = y0 + h * (0.32 + k * 0.25)
            d.rectangle((x0 + w * 0.08, y, x1 - w * 0.08, y + h * 0.02), fill=p.ink)
            x = x0 + w * 0.12
            while x < x1 - w * 0.2:
                bw, bh = w * rng.uniform(0.06, 0.12), h * rng.uniform(0.08, 0.18)
                d.rounded_rectangle((x, y - bh, x + bw, y), bw * 0.2, fill=p.hue(rng.randrange(4)))
                x += bw + w * 0.03
    elif scene == "outfit":
        cx = x0 + w * rng.uniform(0.3, 0.7)
        d.ellipse(
            (cx - w * 0.07, y0 + h * 0.1, cx + w * 0.07, y0 + h * 0.1 + w * 0.14),
            fill=tint(p.hue(3), 0.3),
        )
        d.polygon(
            [
                (cx - w * 0.18, y0 + h * 0.28),
                (cx + w * 0.18, y0 + h * 0.28),
                (cx + w * 0.25, y0 + h * 0.6),
                (cx - w * 0.25, y0 + h * 0.6),
            ],
            fill=p.hue(0),
        )
        d.rectangle((cx - w * 0.15, y0 + h * 0.6, cx - w * 0.03, y0 + h * 0.92), fill=p.hue(1))
        d.rectangle((cx + w * 0.03, y0 + h * 0.6, cx + w * 0.15, y0 + h * 0.92), fill=p.hue(1))
    else:  # a desk from above: laptop, notebook, phone, plant
        d.rounded_rectangle(
            (x0 + w * 0.1, y0 + h * 0.2, x0 + w * 0.62, y0 + h * 0.55), w * 0.02, fill=(60, 60, 64)
        )
        d.rounded_rectangle(
            (x0 + w * 0.13, y0 + h * 0.23, x0 + w * 0.59, y0 + h * 0.5),
            w * 0.01,
            fill=tint(p.hue(0), 0.3),
        )
        d.rectangle((x0 + w * 0.66, y0 + h * 0.25, x0 + w * 0.9, y0 + h * 0.6), fill=p.hue(1))
        d.ellipse(
            (x0 + w * 0.15, y0 + h * 0.65, x0 + w * 0.35, y0 + h * 0.65 + w * 0.2), fill=p.hue(2)
        )


def draw(brief: Brief, rng: random.Random, size: tuple[int, int]) -> Image.Image:
    """The picture of a social brief."""
    w, h = size
    p = brief.palette
    if brief.has("duotone"):
        p = p.limited(2)
    ground = p.hue(rng.randrange(len(p.hues)))
    image = gradient(
        size, tint(ground, rng.uniform(0.2, 0.5)), tint(ground, rng.uniform(0.55, 0.85))
    )
    d = ImageDraw.Draw(image)
    if brief.has("neon gradients", "neon", "glow") or rng.random() < 0.3:
        glow = Image.new("L", size, 0)
        gd = ImageDraw.Draw(glow)
        for _ in range(3):
            r, x, y = rng.randint(w // 6, w // 3), rng.randrange(w), rng.randrange(h)
            gd.ellipse((x - r, y - r, x + r, y + r), fill=150)
        layer(image, p.hue(rng.randrange(len(p.hues))), soft(glow, w // 10))
    scene = brief.scene or rng.choice(("poster", "blocks", "quote", "sale"))
    if brief.has("split screen"):
        scene = "split"
    elif brief.has("bento", "pastel grid") and scene not in ("flatlay", "split"):
        scene = "moodboard"
    if brief.form == "story" or brief.has("9:16"):  # a phone-shaped story frame
        fw = int(min(w, h * 9 / 16) * rng.uniform(0.65, 0.9))
        left = int((w - fw) / 2 + rng.uniform(-0.25, 0.25) * (w - fw))
        box = (left, int(h * 0.04), left + fw, int(h * 0.96))
        d.rounded_rectangle(box, fw // 14, fill=p.paper)
        for k in range(rng.randint(3, 5)):  # progress bars of the story
            seg = (fw - fw // 10) / 5
            px = box[0] + fw // 20 + k * seg
            d.rounded_rectangle(
                (px, box[1] + h * 0.02, px + seg - 8, box[1] + h * 0.028),
                4,
                fill=p.hue(0) if k == 0 else tint(p.ink, 0.75),
            )
        inner = (
            box[0] + fw // 16,
            box[1] + int(h * 0.06),
            box[2] - fw // 16,
            box[3] - int(h * 0.04),
        )
    elif brief.form == "carousel":
        box = (int(w * 0.08), int(h * 0.08), int(w * 0.92), int(h * 0.86))
        d.rounded_rectangle(box, w // 30, fill=p.paper)
        d.rectangle(
            (box[2] - w // 40, box[1] + h // 20, w, box[3] - h // 20), fill=tint(p.hue(1), 0.4)
        )
        for k in range(5):
            x = w // 2 + (k - 2) * w // 24
            d.ellipse(
                (x - 7, h - h // 16 - 7, x + 7, h - h // 16 + 7),
                fill=p.ink if k == rng.randrange(5) else tint(p.ink, 0.7),
            )
        inner = (box[0] + w // 20, box[1] + h // 20, box[2] - w // 20, box[3] - h // 20)
    else:
        inner = (int(w * 0.06), int(h * 0.06), int(w * 0.94), int(h * 0.94))
    if scene not in ("split", "moodboard", "swatches") and rng.random() < 0.6:
        # A headline block above or below the content, the content in the rest.
        x0, y0, x1, y1 = inner
        band = int((y1 - y0) * rng.uniform(0.22, 0.32))
        top = rng.random() < 0.5
        head = (x0, y0, x1, y0 + band) if top else (x0, y1 - band, x1, y1)
        inner = (x0, y0 + band, x1, y1) if top else (x0, y0, x1, y1 - band)
        if rng.random() < 0.5:
            d.rounded_rectangle(head, w // 40, fill=p.hue(rng.randrange(len(p.hues))))
        colour = _on(image.getpixel((head[0] + 2, head[1] + 2)))  # type: ignore[arg-type]
        _bars(d, head[0] + w * 0.04, head[1] + band * 0.2, (x1 - x0) * 0.8, band * 0.16, rng, colour, 2)  # fmt: skip
    _content(image, inner, scene, p, rng)
    if brief.has("sticker"):
        for _ in range(3):
            r, x, y = rng.randint(w // 18, w // 10), rng.randrange(w), rng.randrange(h)
            d.ellipse((x - r - 8, y - r - 8, x + r + 8, y + r + 8), fill=(250, 250, 250))
            d.regular_polygon((x, y, r), 5, fill=p.hue(rng.randrange(len(p.hues))))
    if brief.has("grainy", "film", "grain"):
        sprinkle(d, rng, (0, 0, w, h), w * 6, tint(p.ink, 0.2), 1)
    return image
