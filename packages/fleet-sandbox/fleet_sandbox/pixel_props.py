"""Pixel-art pieces: characters from little templates, and props a scene is built from.

Everything draws on a small canvas in whole pixels, in colours of a ``Roles`` (sky,
ground, wood, roof, light...) derived from the picture's palette.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from PIL import ImageDraw

from fleet_sandbox.palettes import RGB, Palette, luminance, mix, shade, tint

# Characters: o outline, b body, a accent, e eye, s shine, l leg (moves in a walk cycle).
SPRITES: dict[str, tuple[str, ...]] = {
    "knight": (
        "..oooo..",
        ".obbbbo.",
        ".oeeeeo.",
        ".obbbbo.",
        "oaaaaaao",
        "obaaaabo",
        ".oaaaao.",
        ".ol..lo.",
        ".ol..lo.",
        ".oo..oo.",
    ),
    "cat": (
        "o.....o.",
        "oo...oo.",
        "obbbbbo.",
        "obebebo.",
        "obbabbo.",
        ".obbbbo.",
        ".obbbbbo",
        ".obbbbbo",
        ".ol.ol..",
        ".oo.oo..",
    ),
    "frog": (
        ".oo..oo.",
        "oeo..oeo",
        "obbbbbbo",
        "obbaabbo",
        "obbbbbbo",
        ".obbbbo.",
        "olbbbblo",
        "oo.oo.oo",
    ),
    "slime": (
        "...oo...",
        "..obbo..",
        ".obbsbo.",
        "obebebbo",
        "obbbbbbo",
        "obbaabbo",
        ".oooooo.",
    ),
    "robot": (
        "...oo...",
        "...aa...",
        ".oooooo.",
        ".obebeo.",
        ".obbbbo.",
        "oooooooo",
        "oabbbbao",
        ".obbbbo.",
        ".ol..lo.",
        ".oo..oo.",
    ),
    "wizard": (
        "...oo...",
        "..oaao..",
        ".oaaaao.",
        "oooooooo",
        ".obeebo.",
        ".obbbbo.",
        "oaaaaaao",
        ".oaaaao.",
        ".ol..lo.",
        ".oo..oo.",
    ),
    "pirate": (
        ".oooooo.",
        "oaaaaaao",
        ".obbbbo.",
        ".oeboeo.",
        ".obbbbo.",
        "oaaaaaao",
        ".obbbbo.",
        ".ol..lo.",
        ".oo..oo.",
    ),
}
# Subject words and the character they bring.
CHARACTERS: dict[str, str] = {
    "knight": "knight", "hero": "knight", "cat": "cat", "frog": "frog", "bard": "frog",
    "slime": "slime", "robot": "robot", "blacksmith": "robot", "wizard": "wizard",
    "mage": "wizard", "pirate": "pirate", "shopkeeper": "slime", "boss": "slime",
}  # fmt: skip


@dataclass(frozen=True)
class Roles:
    """A palette's colours by what they paint in a pixel scene."""

    sky: tuple[RGB, ...]
    ground: RGB
    grass: RGB
    wood: RGB
    roof: RGB
    stone: RGB
    light: RGB
    outline: RGB
    accents: tuple[RGB, ...]
    snow: RGB = (236, 236, 236)


def roles(p: Palette, *, night: bool, dawn: bool) -> Roles:
    """Colour roles from a palette: a banded sky, earth, wood, roof, lit windows."""
    h0, h1, h2, h3 = (p.hue(k) for k in range(4))
    sky: tuple[RGB, ...]
    if night:
        sky = (shade(h1, 0.78), shade(h1, 0.68), shade(h1, 0.58))
    elif dawn:
        sky = (tint(h1, 0.35), tint(h1, 0.55), tint(h0, 0.55), tint(h0, 0.35))
    else:
        sky = (tint(h1, 0.35), tint(h1, 0.5), tint(h1, 0.65))
    dark = p.ink if luminance(p.ink) < 0.35 else shade(h2, 0.75)
    return Roles(
        sky=sky,
        ground=shade(h2, 0.45),
        grass=h2,
        wood=shade(h0, 0.4),
        roof=h3,
        stone=mix(p.paper, dark, 0.45),
        light=tint(h0, 0.3),
        outline=dark,
        accents=(h0, h1, h2, h3),
    )


def sprite(
    draw: ImageDraw.ImageDraw,
    kind: str,
    at: tuple[int, int],
    colours: tuple[RGB, RGB, RGB],
    *,
    frame: int = 0,
    flip: bool = False,
    scale: int = 1,
) -> None:
    """A character from its template; ``frame`` moves the legs (a walk cycle) and bobs."""
    outline, body, accent = colours
    rows = SPRITES.get(kind, SPRITES["slime"])
    x0, y0 = at
    bob = 1 if frame % 4 in (1, 3) else 0
    paint = {"o": outline, "b": body, "a": accent, "e": outline, "s": tint(body, 0.6), "l": body}
    for y, row in enumerate(rows):
        shift = (1 if frame % 2 else -1) * (frame % 4 != 0) if "l" in row else 0
        for x, cell in enumerate(row[::-1] if flip else row):
            if cell == ".":
                continue
            px, py = x0 + (x + (shift if cell == "l" else 0)) * scale, y0 + (y + bob) * scale
            draw.rectangle((px, py, px + scale - 1, py + scale - 1), fill=paint[cell])


def tree(draw: ImageDraw.ImageDraw, x: int, ground: int, r: Roles, kind: int, h: int) -> None:
    """A pine (0), a round tree (1) or a bare, haunted one (2)."""
    draw.rectangle((x, ground - h // 3, x + 1, ground), fill=r.wood)
    if kind == 0:
        for k in range(3):
            w = 2 + k * 2
            top = ground - h + k * h // 5
            draw.polygon(
                [(x - w, top + h // 4), (x + 1, top), (x + 1 + w, top + h // 4)], fill=r.grass
            )
    elif kind == 1:
        draw.ellipse((x - h // 3, ground - h, x + h // 3 + 1, ground - h // 3), fill=r.grass)
        draw.point((x - 1, ground - h * 2 // 3), fill=tint(r.grass, 0.4))
    else:
        draw.line((x, ground - h // 3, x - h // 4, ground - h * 2 // 3), fill=r.outline)
        draw.line((x + 1, ground - h // 3, x + h // 4, ground - h * 3 // 4), fill=r.outline)
        draw.rectangle((x, ground - h * 2 // 3, x + 1, ground), fill=r.outline)


def house(
    draw: ImageDraw.ImageDraw,
    x: int,
    ground: int,
    r: Roles,
    w: int,
    *,
    logs: bool,
    lit: bool,
    mushroom: bool = False,
) -> None:
    """A house: walls (logs or plaster), a roof (or a mushroom cap), a door, a window."""
    h = w * 3 // 4
    wall = r.wood if logs else tint(r.stone, 0.3)
    draw.rectangle((x, ground - h, x + w, ground), fill=wall, outline=r.outline)
    if logs:
        for y in range(ground - h + 2, ground, 2):
            draw.line((x + 1, y, x + w - 1, y), fill=shade(r.wood, 0.3))
    if mushroom:
        draw.ellipse(
            (x - w // 3, ground - h - w * 2 // 3, x + w + w // 3, ground - h + w // 4), fill=r.roof
        )
        for k in range(3):
            draw.point((x + k * w // 3 + 1, ground - h - w // 4), fill=tint(r.roof, 0.7))
    else:
        draw.polygon(
            [(x - 2, ground - h), (x + w // 2, ground - h - w // 2), (x + w + 2, ground - h)],
            fill=r.roof,
        )
    door = max(2, w // 4)
    draw.rectangle(
        (x + w // 5, ground - h // 2, x + w // 5 + door, ground - 1), fill=shade(r.wood, 0.4)
    )
    draw.rectangle(
        (x + w * 3 // 5, ground - h * 3 // 4, x + w * 3 // 5 + door, ground - h // 2),
        fill=r.light if lit else r.sky[-1],
    )


def tower(draw: ImageDraw.ImageDraw, x: int, ground: int, r: Roles, h: int, lit: bool) -> None:
    """A tall tower with a pointed roof and windows up its side."""
    w = max(4, h // 4)
    draw.rectangle((x, ground - h, x + w, ground), fill=r.stone, outline=r.outline)
    draw.polygon(
        [(x - 2, ground - h), (x + w // 2, ground - h - w), (x + w + 2, ground - h)], fill=r.roof
    )
    for y in range(ground - h + 3, ground - 3, 5):
        draw.rectangle((x + w // 2 - 1, y, x + w // 2, y + 1), fill=r.light if lit else r.outline)


def water(
    draw: ImageDraw.ImageDraw,
    box: tuple[int, int, int, int],
    r: Roles,
    rng: random.Random,
    night: bool,
) -> None:
    """Water with wave glints."""
    colour = shade(r.accents[1], 0.55 if night else 0.15)
    draw.rectangle(box, fill=colour)
    for _ in range((box[2] - box[0]) // 3):
        x, y = rng.randint(box[0], box[2]), rng.randint(box[1] + 1, box[3])
        draw.line((x, y, x + rng.randint(1, 3), y), fill=tint(colour, 0.45))


def chest(draw: ImageDraw.ImageDraw, x: int, ground: int, r: Roles, w: int) -> None:
    """A treasure chest, lid and lock."""
    draw.rectangle((x, ground - w * 2 // 3, x + w, ground), fill=r.wood, outline=r.outline)
    draw.rectangle(
        (x, ground - w * 2 // 3, x + w, ground - w // 3), fill=shade(r.wood, 0.2), outline=r.outline
    )
    draw.rectangle(
        (x + w // 2 - 1, ground - w // 2 - 1, x + w // 2 + 1, ground - w // 3 + 1), fill=r.light
    )


def potion(draw: ImageDraw.ImageDraw, x: int, y: int, colour: RGB, r: Roles) -> None:
    """A little bottle standing on ``y``."""
    draw.rectangle((x, y - 3, x + 2, y - 1), fill=colour)
    draw.point((x + 1, y - 4), fill=r.outline)
    draw.point((x, y - 3), fill=tint(colour, 0.6))
