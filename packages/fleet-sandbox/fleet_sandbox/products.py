"""Products for packshots, each drawn standing on a floor line from a few shapes.

``PRODUCTS`` maps subject words to a product; ``draw_product`` paints one on an RGBA
layer, ``s`` pixels tall (about), centred on ``cx`` and standing on ``floor``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from PIL import ImageDraw

from fleet_sandbox.palettes import RGB, shade, tint

PRODUCTS: dict[str, str] = {
    "water bottle": "bottle", "bottle": "bottle", "cold brew": "bottle", "perfume": "perfume",
    "serum": "dropper", "dropper": "dropper", "pour-over": "pourover", "pour over": "pourover",
    "carafe": "pourover", "kettle": "kettle", "teapot": "kettle", "wallet": "wallet",
    "card holder": "wallet", "sneakers": "sneakers", "sneaker": "sneakers", "shoes": "sneakers",
    "lamp": "lamp", "tote": "tote", "bag": "tote", "watch": "watch", "mugs": "mugs",
    "mug": "mugs", "cup": "mugs", "soap": "soap", "pan": "pan", "skillet": "pan",
    "candle": "candle", "pen": "pen", "beanie": "beanie", "hat": "beanie",
    "earbuds": "earbuds", "headphones": "earbuds", "cutting board": "board", "board": "board",
    "scarf": "scarf", "jar": "jar", "cream": "jar", "box": "box", "package": "box",
}  # fmt: skip
NEUTRAL_MATERIALS: dict[str, RGB] = {
    "black": (38, 38, 40), "cast-iron": (48, 48, 50), "iron": (48, 48, 50),
    "white": (238, 238, 236), "steel": (170, 172, 175), "chrome": (190, 192, 195),
    "silver": (190, 192, 195),
}  # fmt: skip


@dataclass(frozen=True)
class Look:
    """A product's colours: body, trim and a dark for details."""

    body: RGB
    trim: RGB
    dark: RGB

    @property
    def light(self) -> RGB:
        return tint(self.body, 0.55)


Painter = Callable[[ImageDraw.ImageDraw, float, float, float, Look], None]


def _bottle(d: ImageDraw.ImageDraw, cx: float, f: float, s: float, c: Look) -> None:
    w = s * 0.34
    d.rounded_rectangle((cx - w / 2, f - s * 0.78, cx + w / 2, f), w * 0.22, fill=c.body)
    d.rectangle((cx - w * 0.22, f - s * 0.9, cx + w * 0.22, f - s * 0.76), fill=c.body)
    d.rounded_rectangle((cx - w * 0.26, f - s, cx + w * 0.26, f - s * 0.88), w * 0.06, fill=c.trim)
    d.rectangle((cx - w / 2, f - s * 0.5, cx + w / 2, f - s * 0.3), fill=c.light)


def _perfume(d: ImageDraw.ImageDraw, cx: float, f: float, s: float, c: Look) -> None:
    w = s * 0.55
    d.rounded_rectangle((cx - w / 2, f - s * 0.62, cx + w / 2, f), w * 0.12, fill=(*c.light, 215))
    d.rounded_rectangle(
        (cx - w * 0.4, f - s * 0.45, cx + w * 0.4, f - s * 0.04), w * 0.08, fill=c.body
    )
    d.rectangle((cx - w * 0.1, f - s * 0.74, cx + w * 0.1, f - s * 0.62), fill=c.trim)
    d.rounded_rectangle((cx - w * 0.24, f - s, cx + w * 0.24, f - s * 0.74), w * 0.05, fill=c.dark)


def _dropper(d: ImageDraw.ImageDraw, cx: float, f: float, s: float, c: Look) -> None:
    w = s * 0.3
    d.rounded_rectangle((cx - w / 2, f - s * 0.55, cx + w / 2, f), w * 0.2, fill=c.body)
    d.rectangle((cx - w * 0.32, f - s * 0.66, cx + w * 0.32, f - s * 0.55), fill=c.trim)
    d.ellipse((cx - w * 0.24, f - s, cx + w * 0.24, f - s * 0.62), fill=c.dark)
    d.rectangle((cx - w / 2, f - s * 0.32, cx + w / 2, f - s * 0.18), fill=c.light)


def _pourover(d: ImageDraw.ImageDraw, cx: float, f: float, s: float, c: Look) -> None:
    d.ellipse((cx - s * 0.3, f - s * 0.55, cx + s * 0.3, f), fill=(*c.light, 220))
    d.chord((cx - s * 0.28, f - s * 0.4, cx + s * 0.28, f - s * 0.02), 0, 180, fill=c.dark)
    d.polygon(
        [
            (cx - s * 0.34, f - s),
            (cx + s * 0.34, f - s),
            (cx + s * 0.1, f - s * 0.55),
            (cx - s * 0.1, f - s * 0.55),
        ],
        fill=c.body,
    )


def _kettle(d: ImageDraw.ImageDraw, cx: float, f: float, s: float, c: Look) -> None:
    d.arc(
        (cx - s * 0.3, f - s * 1.0, cx + s * 0.3, f - s * 0.5),
        180,
        360,
        fill=c.dark,
        width=max(2, int(s * 0.05)),
    )
    d.polygon(
        [
            (cx + s * 0.25, f - s * 0.35),
            (cx + s * 0.55, f - s * 0.7),
            (cx + s * 0.5, f - s * 0.72),
            (cx + s * 0.2, f - s * 0.5),
        ],
        fill=c.body,
    )
    d.ellipse((cx - s * 0.4, f - s * 0.75, cx + s * 0.4, f), fill=c.body)
    d.ellipse((cx - s * 0.06, f - s * 0.82, cx + s * 0.06, f - s * 0.72), fill=c.trim)
    d.ellipse((cx - s * 0.28, f - s * 0.6, cx - s * 0.12, f - s * 0.3), fill=c.light)


def _wallet(d: ImageDraw.ImageDraw, cx: float, f: float, s: float, c: Look) -> None:
    w, h = s * 0.9, s * 0.22
    d.polygon(
        [(cx - w / 2, f), (cx + w / 2, f), (cx + w * 0.4, f - h), (cx - w * 0.6, f - h)],
        fill=c.body,
    )
    d.polygon(
        [
            (cx - w * 0.3, f - h),
            (cx + w * 0.2, f - h),
            (cx + w * 0.15, f - h * 1.5),
            (cx - w * 0.35, f - h * 1.5),
        ],
        fill=c.trim,
    )
    d.line((cx - w * 0.45, f - h * 0.15, cx + w * 0.45, f - h * 0.15), fill=c.light, width=2)


def _sneakers(d: ImageDraw.ImageDraw, cx: float, f: float, s: float, c: Look) -> None:
    for dx, lift in ((-s * 0.28, 0.0), (s * 0.22, s * 0.05)):
        x, base = cx + dx, f - lift
        d.rounded_rectangle(
            (x - s * 0.35, base - s * 0.1, x + s * 0.35, base), s * 0.04, fill=c.trim
        )
        d.polygon(
            [
                (x - s * 0.34, base - s * 0.1),
                (x - s * 0.3, base - s * 0.4),
                (x - s * 0.05, base - s * 0.42),
                (x + s * 0.34, base - s * 0.16),
                (x + s * 0.34, base - s * 0.1),
            ],
            fill=c.body,
        )
        for k in range(3):
            lx = x - s * 0.02 + k * s * 0.07
            d.line(
                (lx, base - s * 0.36 + k * s * 0.05, lx + s * 0.06, base - s * 0.3 + k * s * 0.05),
                fill=c.dark,
                width=2,
            )


def _lamp(d: ImageDraw.ImageDraw, cx: float, f: float, s: float, c: Look) -> None:
    d.ellipse((cx - s * 0.25, f - s * 0.07, cx + s * 0.25, f), fill=c.body)
    d.line(
        (cx, f - s * 0.04, cx + s * 0.12, f - s * 0.6, cx - s * 0.05, f - s * 0.8),
        fill=c.dark,
        width=max(2, int(s * 0.03)),
    )
    d.polygon(
        [
            (cx - s * 0.2, f - s * 0.75),
            (cx + s * 0.05, f - s * 0.95),
            (cx + s * 0.25, f - s * 0.68),
            (cx, f - s * 0.55),
        ],
        fill=c.trim,
    )


def _tote(d: ImageDraw.ImageDraw, cx: float, f: float, s: float, c: Look) -> None:
    d.arc(
        (cx - s * 0.22, f - s * 1.0, cx + s * 0.22, f - s * 0.45),
        180,
        360,
        fill=c.dark,
        width=max(2, int(s * 0.035)),
    )
    d.polygon(
        [
            (cx - s * 0.38, f - s * 0.7),
            (cx + s * 0.38, f - s * 0.7),
            (cx + s * 0.42, f),
            (cx - s * 0.42, f),
        ],
        fill=c.body,
    )
    d.rectangle((cx - s * 0.38, f - s * 0.7, cx + s * 0.38, f - s * 0.62), fill=c.trim)


def _watch(d: ImageDraw.ImageDraw, cx: float, f: float, s: float, c: Look) -> None:
    cy, r = f - s * 0.5, s * 0.26
    d.rounded_rectangle((cx - r * 0.6, f - s, cx + r * 0.6, f), r * 0.2, fill=c.dark)
    d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=c.trim)
    d.ellipse((cx - r * 0.82, cy - r * 0.82, cx + r * 0.82, cy + r * 0.82), fill=c.light)
    d.line((cx, cy, cx + r * 0.5, cy - r * 0.3), fill=c.dark, width=max(2, int(r * 0.08)))
    d.line((cx, cy, cx - r * 0.1, cy - r * 0.65), fill=c.dark, width=max(2, int(r * 0.06)))


def _mugs(d: ImageDraw.ImageDraw, cx: float, f: float, s: float, c: Look) -> None:
    for k, (dx, colour) in enumerate(
        ((-s * 0.3, c.body), (s * 0.15, c.trim), (-s * 0.07, c.light))
    ):
        base = f - (s * 0.42 if k == 2 else 0)
        x = cx + dx
        d.arc(
            (x + s * 0.1, base - s * 0.32, x + s * 0.3, base - s * 0.1),
            270,
            90,
            fill=colour,
            width=max(2, int(s * 0.04)),
        )
        d.rounded_rectangle(
            (x - s * 0.18, base - s * 0.4, x + s * 0.18, base), s * 0.04, fill=colour
        )
        d.ellipse(
            (x - s * 0.18, base - s * 0.43, x + s * 0.18, base - s * 0.37), fill=shade(colour, 0.15)
        )


def _soap(d: ImageDraw.ImageDraw, cx: float, f: float, s: float, c: Look) -> None:
    d.rounded_rectangle((cx - s * 0.45, f - s * 0.28, cx + s * 0.45, f), s * 0.1, fill=c.body)
    d.rounded_rectangle(
        (cx - s * 0.42, f - s * 0.28, cx + s * 0.42, f - s * 0.2), s * 0.05, fill=c.light
    )
    d.ellipse(
        (cx - s * 0.18, f - s * 0.18, cx + s * 0.18, f - s * 0.08),
        outline=shade(c.body, 0.2),
        width=2,
    )


def _pan(d: ImageDraw.ImageDraw, cx: float, f: float, s: float, c: Look) -> None:
    d.rounded_rectangle(
        (cx + s * 0.3, f - s * 0.2, cx + s * 0.95, f - s * 0.13), s * 0.03, fill=c.dark
    )
    d.ellipse((cx - s * 0.5, f - s * 0.3, cx + s * 0.5, f), fill=c.body)
    d.ellipse((cx - s * 0.42, f - s * 0.28, cx + s * 0.42, f - s * 0.05), fill=shade(c.body, 0.3))


def _candle(d: ImageDraw.ImageDraw, cx: float, f: float, s: float, c: Look) -> None:
    w = s * 0.5
    d.ellipse(
        (cx - s * 0.1, f - s * 0.98, cx + s * 0.1, f - s * 0.72), fill=(*tint(c.trim, 0.5), 110)
    )
    d.rounded_rectangle((cx - w / 2, f - s * 0.62, cx + w / 2, f), w * 0.08, fill=(*c.body, 225))
    d.rectangle((cx - w * 0.42, f - s * 0.5, cx + w * 0.42, f - s * 0.06), fill=c.light)
    d.line((cx, f - s * 0.62, cx, f - s * 0.7), fill=c.dark, width=2)
    d.ellipse((cx - s * 0.035, f - s * 0.84, cx + s * 0.035, f - s * 0.69), fill=tint(c.trim, 0.4))


def _pen(d: ImageDraw.ImageDraw, cx: float, f: float, s: float, c: Look) -> None:
    a = math.radians(-28)
    dx, dy = math.cos(a) * s * 0.55, math.sin(a) * s * 0.55
    d.line(
        (cx - dx, f - s * 0.1 - dy, cx + dx, f - s * 0.1 + dy),
        fill=c.body,
        width=max(3, int(s * 0.09)),
    )
    d.line(
        (cx + dx * 0.7, f - s * 0.1 + dy * 0.7, cx + dx * 1.15, f - s * 0.1 + dy * 1.15),
        fill=c.trim,
        width=max(2, int(s * 0.05)),
    )
    d.line(
        (cx - dx * 0.9, f - s * 0.16 - dy * 0.9, cx - dx * 0.4, f - s * 0.16 - dy * 0.4),
        fill=c.trim,
        width=2,
    )


def _beanie(d: ImageDraw.ImageDraw, cx: float, f: float, s: float, c: Look) -> None:
    d.chord((cx - s * 0.4, f - s * 0.9, cx + s * 0.4, f + s * 0.3), 180, 360, fill=c.body)
    d.rounded_rectangle(
        (cx - s * 0.42, f - s * 0.22, cx + s * 0.42, f), s * 0.05, fill=shade(c.body, 0.15)
    )
    for k in range(-3, 4):
        d.line(
            (cx + k * s * 0.1, f - s * 0.2, cx + k * s * 0.1, f - s * 0.03),
            fill=shade(c.body, 0.3),
            width=2,
        )
    d.ellipse((cx - s * 0.1, f - s * 1.02, cx + s * 0.1, f - s * 0.84), fill=c.trim)


def _earbuds(d: ImageDraw.ImageDraw, cx: float, f: float, s: float, c: Look) -> None:
    d.rounded_rectangle((cx - s * 0.3, f - s * 0.36, cx + s * 0.3, f), s * 0.14, fill=c.body)
    d.line(
        (cx - s * 0.3, f - s * 0.22, cx + s * 0.3, f - s * 0.22), fill=shade(c.body, 0.2), width=2
    )
    for x in (cx + s * 0.45, cx + s * 0.65):
        d.ellipse((x - s * 0.08, f - s * 0.2, x + s * 0.08, f - s * 0.04), fill=c.trim)
        d.rounded_rectangle((x - s * 0.03, f - s * 0.1, x + s * 0.03, f), s * 0.02, fill=c.trim)


def _board(d: ImageDraw.ImageDraw, cx: float, f: float, s: float, c: Look) -> None:
    d.rounded_rectangle((cx - s * 0.3, f - s * 0.95, cx + s * 0.3, f), s * 0.08, fill=c.body)
    d.ellipse((cx - s * 0.06, f - s * 0.88, cx + s * 0.06, f - s * 0.78), fill=shade(c.body, 0.5))
    for k in range(5):
        x = cx - s * 0.2 + k * s * 0.1
        d.line((x, f - s * 0.7, x + s * 0.02, f - s * 0.05), fill=shade(c.body, 0.15), width=2)


def _scarf(d: ImageDraw.ImageDraw, cx: float, f: float, s: float, c: Look) -> None:
    top, bottom = [], []
    for k in range(41):  # a ribbon of silk, folded in waves across the surface
        t = k / 40
        x = cx - s * 0.9 + t * s * 1.8
        y = f - s * 0.18 - math.sin(t * math.pi * 2.2) * s * 0.14
        width = s * (0.12 + 0.08 * math.cos(t * math.pi * 3))
        top.append((x, y - width))
        bottom.append((x, y + width))
    d.polygon(top + bottom[::-1], fill=c.body)
    d.line(top, fill=c.light, width=max(2, int(s * 0.025)))
    d.line([(x, y + s * 0.04) for x, y in top[5:36]], fill=c.trim, width=max(2, int(s * 0.02)))


def _jar(d: ImageDraw.ImageDraw, cx: float, f: float, s: float, c: Look) -> None:
    w = s * 0.55
    d.rounded_rectangle((cx - w / 2, f - s * 0.5, cx + w / 2, f), w * 0.3, fill=c.body)
    d.rectangle((cx - w / 2 - 4, f - s * 0.62, cx + w / 2 + 4, f - s * 0.48), fill=c.trim)


def _box(d: ImageDraw.ImageDraw, cx: float, f: float, s: float, c: Look) -> None:
    w = s * 0.7
    d.polygon(
        [
            (cx - w / 2, f - s * 0.6),
            (cx - w * 0.3, f - s * 0.75),
            (cx + w * 0.7, f - s * 0.75),
            (cx + w / 2, f - s * 0.6),
        ],
        fill=c.light,
    )
    d.polygon(
        [
            (cx + w / 2, f - s * 0.6),
            (cx + w * 0.7, f - s * 0.75),
            (cx + w * 0.7, f - s * 0.15),
            (cx + w / 2, f),
        ],
        fill=shade(c.body, 0.25),
    )
    d.rectangle((cx - w / 2, f - s * 0.6, cx + w / 2, f), fill=c.body)
    d.rectangle((cx - w * 0.06, f - s * 0.6, cx + w * 0.06, f), fill=c.trim)


PAINTERS: dict[str, Painter] = {
    "bottle": _bottle, "perfume": _perfume, "dropper": _dropper, "pourover": _pourover,
    "kettle": _kettle, "wallet": _wallet, "sneakers": _sneakers, "lamp": _lamp, "tote": _tote,
    "watch": _watch, "mugs": _mugs, "soap": _soap, "pan": _pan, "candle": _candle,
    "pen": _pen, "beanie": _beanie, "earbuds": _earbuds, "board": _board, "scarf": _scarf,
    "jar": _jar, "box": _box,
}  # fmt: skip


def draw_product(
    d: ImageDraw.ImageDraw, kind: str, cx: float, floor: float, s: float, look: Look
) -> None:
    """Paint the product ``kind`` (a key of ``PAINTERS``)."""
    PAINTERS.get(kind, _jar)(d, cx, floor, s, look)
