"""The figures of generative and surreal pictures, drawn as masks (255: the figure).

Each takes a draw on an ``L`` mask, the figure's centre, its base line, its size and a
seeded generator; grey levels are the figure's shading.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from PIL import ImageDraw

Figure = Callable[[ImageDraw.ImageDraw, float, float, float, random.Random], None]


def _cathedral(
    d: ImageDraw.ImageDraw, cx: float, base: float, s: float, rng: random.Random
) -> None:
    for dx, tall in ((-0.3, 0.7), (0.3, 0.7), (0.0, 1.0)):
        x = cx + dx * s
        d.rectangle((x - s * 0.1, base - s * tall, x + s * 0.1, base), fill=255)
        d.polygon(
            [
                (x - s * 0.12, base - s * tall),
                (x, base - s * (tall + 0.25)),
                (x + s * 0.12, base - s * tall),
            ],
            fill=255,
        )
    d.rectangle((cx - s * 0.4, base - s * 0.35, cx + s * 0.4, base), fill=255)


def _jellyfish(
    d: ImageDraw.ImageDraw, cx: float, base: float, s: float, rng: random.Random
) -> None:
    top = base - s
    d.chord((cx - s * 0.35, top, cx + s * 0.35, top + s * 0.5), 180, 360, fill=255)
    for k in range(7):
        x = cx - s * 0.28 + k * s * 0.093
        pts = [
            (x + math.sin(j * 0.9 + k) * s * 0.04, top + s * 0.25 + j * s * 0.08) for j in range(9)
        ]
        d.line(pts, fill=200, width=max(2, int(s * 0.02)))


def _clock(d: ImageDraw.ImageDraw, cx: float, base: float, s: float, rng: random.Random) -> None:
    d.rectangle((cx - s * 0.15, base - s * 0.8, cx + s * 0.15, base), fill=255)
    d.ellipse((cx - s * 0.22, base - s * 1.05, cx + s * 0.22, base - s * 0.61), fill=255)
    for k in range(5):  # melting drips
        x = cx - s * 0.18 + k * s * 0.09
        d.rounded_rectangle(
            (x, base - s * 0.7, x + s * 0.05, base - s * rng.uniform(0.2, 0.55)),
            s * 0.025,
            fill=255,
        )
    d.ellipse((cx - s * 0.16, base - s * 0.99, cx + s * 0.16, base - s * 0.67), fill=90)


def _whale(d: ImageDraw.ImageDraw, cx: float, base: float, s: float, rng: random.Random) -> None:
    cy = base - s * 0.55
    d.ellipse((cx - s * 0.55, cy - s * 0.2, cx + s * 0.35, cy + s * 0.2), fill=255)
    d.polygon(
        [
            (cx + s * 0.3, cy),
            (cx + s * 0.62, cy - s * 0.22),
            (cx + s * 0.55, cy),
            (cx + s * 0.62, cy + s * 0.18),
        ],
        fill=255,
    )
    for k in range(4):  # the shelves it swims past
        y = base - k * s * 0.22
        d.rectangle((cx - s * 0.9, y - 4, cx + s * 0.9, y), fill=150)


def _roses(d: ImageDraw.ImageDraw, cx: float, base: float, s: float, rng: random.Random) -> None:
    for _ in range(7):
        x, h = cx + rng.uniform(-0.8, 0.8) * s, s * rng.uniform(0.3, 0.8)
        d.line((x, base, x, base - h), fill=170, width=max(2, int(s * 0.015)))
        r = s * rng.uniform(0.05, 0.1)
        d.regular_polygon((x, base - h, r), 5, rotation=rng.uniform(0, 70), fill=255)


def _moon(d: ImageDraw.ImageDraw, cx: float, base: float, s: float, rng: random.Random) -> None:
    cy, r = base - s * 0.6, s * 0.32
    d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=255)
    for k in range(-4, 5):  # the net
        d.line((cx + k * r * 0.25 - r, cy - r, cx + k * r * 0.25 + r, cy + r), fill=110, width=2)
        d.line((cx + k * r * 0.25 + r, cy - r, cx + k * r * 0.25 - r, cy + r), fill=110, width=2)


def _stairs(d: ImageDraw.ImageDraw, cx: float, base: float, s: float, rng: random.Random) -> None:
    for k in range(9):
        w = s * (0.7 - k * 0.06)
        d.rectangle(
            (
                cx - w / 2 + k * s * 0.05,
                base - (k + 1) * s * 0.1,
                cx + w / 2 + k * s * 0.05,
                base - k * s * 0.1,
            ),
            fill=255 - k * 18,
        )


def _coral(d: ImageDraw.ImageDraw, cx: float, base: float, s: float, rng: random.Random) -> None:
    for _ in range(5):
        x = cx + rng.uniform(-0.7, 0.7) * s
        stack = [(x, base, s * rng.uniform(0.25, 0.45), -math.pi / 2)]
        while stack:
            x0, y0, length, angle = stack.pop()
            x1, y1 = x0 + math.cos(angle) * length, y0 + math.sin(angle) * length
            d.line((x0, y0, x1, y1), fill=255, width=max(2, int(length * 0.12)))
            if length > s * 0.08:
                stack += [
                    (x1, y1, length * 0.68, angle + rng.uniform(0.25, 0.6)),
                    (x1, y1, length * 0.68, angle - rng.uniform(0.25, 0.6)),
                ]


def _fox(d: ImageDraw.ImageDraw, cx: float, base: float, s: float, rng: random.Random) -> None:
    d.ellipse((cx - s * 0.35, base - s * 0.45, cx + s * 0.25, base - s * 0.1), fill=220)
    d.polygon(
        [
            (cx + s * 0.15, base - s * 0.4),
            (cx + s * 0.2, base - s * 0.75),
            (cx + s * 0.32, base - s * 0.6),
            (cx + s * 0.45, base - s * 0.75),
            (cx + s * 0.45, base - s * 0.45),
            (cx + s * 0.6, base - s * 0.38),
            (cx + s * 0.3, base - s * 0.25),
        ],
        fill=255,
    )
    tail = [
        (cx - s * 0.3 - k * s * 0.05, base - s * 0.3 - math.sin(k * 0.5) * s * 0.25)
        for k in range(10)
    ]
    d.line(tail, fill=180, width=max(3, int(s * 0.09)), joint="curve")


def _orchard(d: ImageDraw.ImageDraw, cx: float, base: float, s: float, rng: random.Random) -> None:
    for k in range(-2, 3):  # upside-down trees hanging from the top
        x = cx + k * s * 0.35
        d.line((x, base - s, x, base - s * 0.6), fill=170, width=max(3, int(s * 0.03)))
        d.ellipse((x - s * 0.15, base - s * 0.7, x + s * 0.15, base - s * 0.35), fill=255)
        for _ in range(3):
            fx, fy = x + rng.uniform(-0.1, 0.1) * s, base - s * rng.uniform(0.4, 0.6)
            d.ellipse((fx - s * 0.025, fy - s * 0.025, fx + s * 0.025, fy + s * 0.025), fill=120)


def _train(d: ImageDraw.ImageDraw, cx: float, base: float, s: float, rng: random.Random) -> None:
    y = base - s * 0.45
    for k in range(4):
        x = cx - s * 0.9 + k * s * 0.45
        d.rounded_rectangle(
            (x, y - s * 0.14 + k * s * 0.03, x + s * 0.4, y + s * 0.08 + k * s * 0.03),
            s * 0.03,
            fill=255,
        )
    d.line((cx - s, y + s * 0.2, cx + s, y + s * 0.3), fill=160, width=max(2, int(s * 0.015)))


def _mirror(d: ImageDraw.ImageDraw, cx: float, base: float, s: float, rng: random.Random) -> None:
    d.ellipse((cx - s * 0.3, base - s * 1.0, cx + s * 0.3, base - s * 0.1), fill=255)
    d.ellipse((cx - s * 0.25, base - s * 0.95, cx + s * 0.25, base - s * 0.15), fill=120)
    for k in range(5):  # the sea inside it
        y = base - s * (0.5 - k * 0.07)
        d.line((cx - s * 0.22, y, cx + s * 0.22, y + s * 0.02), fill=230, width=3)


def _house(d: ImageDraw.ImageDraw, cx: float, base: float, s: float, rng: random.Random) -> None:
    for k in range(6):  # the cloud
        x = cx + (k - 2.5) * s * 0.17
        d.ellipse((x - s * 0.18, base - s * 0.3, x + s * 0.18, base - s * 0.02), fill=200)
    d.rectangle((cx - s * 0.2, base - s * 0.6, cx + s * 0.2, base - s * 0.25), fill=255)
    d.polygon(
        [(cx - s * 0.26, base - s * 0.6), (cx, base - s * 0.85), (cx + s * 0.26, base - s * 0.6)],
        fill=255,
    )
    d.rectangle((cx - s * 0.05, base - s * 0.45, cx + s * 0.05, base - s * 0.35), fill=110)


def _astronaut(
    d: ImageDraw.ImageDraw, cx: float, base: float, s: float, rng: random.Random
) -> None:
    for _ in range(40):  # the flower field
        x, y = cx + rng.uniform(-1, 1) * s, base - rng.uniform(0, 0.25) * s
        d.ellipse((x - s * 0.025, y - s * 0.025, x + s * 0.025, y + s * 0.025), fill=170)
    d.rounded_rectangle(
        (cx - s * 0.14, base - s * 0.55, cx + s * 0.14, base - s * 0.15), s * 0.06, fill=255
    )
    d.ellipse((cx - s * 0.13, base - s * 0.82, cx + s * 0.13, base - s * 0.56), fill=255)
    d.ellipse((cx - s * 0.09, base - s * 0.76, cx + s * 0.09, base - s * 0.62), fill=100)


def _city(d: ImageDraw.ImageDraw, cx: float, base: float, s: float, rng: random.Random) -> None:
    for flip in (1, -1):  # folded: a skyline and its mirror overhead
        x = cx - s
        while x < cx + s:
            w, h = s * rng.uniform(0.08, 0.16), s * rng.uniform(0.15, 0.45)
            y = base - s * 0.5
            box = (x, y - h, x + w, y) if flip > 0 else (x, y - s * 0.5, x + w, y - s * 0.5 + h)
            d.rectangle(box, fill=255 if flip > 0 else 170)
            x += w + s * 0.02


def _lighthouse(
    d: ImageDraw.ImageDraw, cx: float, base: float, s: float, rng: random.Random
) -> None:
    d.polygon(
        [
            (cx - s * 0.14, base),
            (cx - s * 0.08, base - s * 0.8),
            (cx + s * 0.08, base - s * 0.8),
            (cx + s * 0.14, base),
        ],
        fill=255,
    )
    for k in range(4):
        y = base - s * (0.15 + k * 0.18)
        d.line((cx - s * 0.13, y, cx + s * 0.13, y), fill=110, width=max(2, int(s * 0.02)))
    d.polygon(
        [(cx, base - s * 0.88), (cx + s, base - s * 1.02), (cx + s, base - s * 0.74)], fill=110
    )
    d.ellipse((cx - s * 0.1, base - s * 0.98, cx + s * 0.1, base - s * 0.78), fill=255)


def _tea(d: ImageDraw.ImageDraw, cx: float, base: float, s: float, rng: random.Random) -> None:
    d.rectangle((cx - s * 0.6, base - s * 0.3, cx + s * 0.6, base - s * 0.25), fill=255)
    for x in (-0.45, 0.4):
        d.rectangle((cx + x * s, base - s * 0.25, cx + x * s + s * 0.04, base), fill=200)
    d.ellipse((cx - s * 0.16, base - s * 0.55, cx + s * 0.16, base - s * 0.3), fill=255)
    d.line(
        (cx + s * 0.14, base - s * 0.45, cx + s * 0.3, base - s * 0.55),
        fill=255,
        width=max(3, int(s * 0.03)),
    )
    for x in (-0.4, 0.35):
        d.chord(
            (cx + x * s, base - s * 0.4, cx + x * s + s * 0.12, base - s * 0.26), 0, 180, fill=230
        )


def _river(d: ImageDraw.ImageDraw, cx: float, base: float, s: float, rng: random.Random) -> None:
    for k in range(30):  # letterforms drifting down a winding river
        t = k / 30
        x = cx + math.sin(t * 6) * s * 0.5
        y = base - s * (1 - t)
        size = s * (0.02 + t * 0.05)
        shape = rng.randrange(3)
        if shape == 0:
            d.rectangle((x - size, y - size, x + size * 0.3, y + size), fill=255)
        elif shape == 1:
            d.ellipse(
                (x - size, y - size, x + size, y + size), outline=255, width=max(2, int(size * 0.4))
            )
        else:
            d.polygon(
                [(x - size, y + size), (x, y - size), (x + size, y + size)],
                outline=255,
                width=max(2, int(size * 0.4)),
            )


def _garden(d: ImageDraw.ImageDraw, cx: float, base: float, s: float, rng: random.Random) -> None:
    for _ in range(400):  # static, blooming
        x, y = cx + rng.gauss(0, 0.45) * s, base - abs(rng.gauss(0, 0.4)) * s
        w = s * rng.uniform(0.005, 0.03)
        d.rectangle((x, y, x + w * 3, y + w), fill=rng.choice((255, 200, 140)))


FIGURES: dict[str, Figure] = {
    "cathedral": _cathedral, "jellyfish": _jellyfish, "clock": _clock, "whale": _whale,
    "roses": _roses, "moon": _moon, "stairs": _stairs, "coral": _coral, "fox": _fox,
    "orchard": _orchard, "train": _train, "mirror": _mirror, "house": _house,
    "astronaut": _astronaut, "city": _city, "lighthouse": _lighthouse, "tea": _tea,
    "river": _river, "garden": _garden,
}  # fmt: skip
