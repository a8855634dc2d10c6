"""Pixel-art sheets: a character's sprite sheet, and a tileset laid out as a room.

A tileset's tiles come from its place (a potion shop's bricks, shelves and planks; a
cave's stone, crystal and lava), each framed by a one-pixel gap.
"""

from __future__ import annotations

import random

from PIL import Image, ImageDraw

from fleet_sandbox.briefs import Brief
from fleet_sandbox.palettes import RGB, shade, tint
from fleet_sandbox.pixel_props import SPRITES, Roles, chest, potion, sprite, tree


def _item(
    draw: ImageDraw.ImageDraw, kind: int, box: tuple[int, int, int, int], r: Roles, k: int
) -> None:
    """One item of an item sheet: a potion, a chest, a crystal, a tree, a coin or a torch."""
    x0, y0, x1, y1 = box
    s, cx = x1 - x0, (x0 + x1) // 2
    colour = r.accents[k % len(r.accents)]
    if kind == 0:
        draw.rectangle(
            (cx - s // 5, y1 - s // 2, cx + s // 5, y1 - s // 8), fill=colour, outline=r.outline
        )
        draw.rectangle((cx - s // 12, y1 - s * 2 // 3, cx + s // 12, y1 - s // 2), fill=r.outline)
    elif kind == 1:
        chest(draw, x0 + s // 5, y1 - s // 6, r, s * 3 // 5)
    elif kind == 2:
        draw.polygon(
            [
                (cx, y0 + s // 6),
                (cx + s // 5, y1 - s // 3),
                (cx, y1 - s // 8),
                (cx - s // 5, y1 - s // 3),
            ],
            fill=tint(colour, 0.2),
            outline=r.outline,
        )
    elif kind == 3:
        tree(draw, cx, y1 - s // 8, r, k % 3, s * 2 // 3)
    elif kind == 4:
        draw.ellipse(
            (cx - s // 5, y0 + s * 2 // 5, cx + s // 5, y0 + s * 4 // 5),
            fill=r.light,
            outline=r.outline,
        )
    else:
        draw.rectangle((cx - 1, y0 + s // 2, cx, y1 - s // 8), fill=r.wood)
        draw.polygon(
            [(cx - s // 8, y0 + s // 2), (cx, y0 + s // 5), (cx + s // 8, y0 + s // 2)], fill=colour
        )


def sheet(
    image: Image.Image, b: Brief, r: Roles, rng: random.Random, who: str, named: bool
) -> None:
    """A sprite sheet in framed cells: the named character's walk cycle, flipped and
    recoloured; for a place, its items (potions, chests, crystals...) and one walker."""
    n = image.width
    draw = ImageDraw.Draw(image)
    if rng.random() < 0.5:  # the checkerboard of an image editor's transparency
        for y in range(0, n, 4):
            for x in range(0, n, 4):
                draw.rectangle(
                    (x, y, x + 3, y + 3),
                    fill=(200, 200, 200) if (x + y) // 4 % 2 else (232, 232, 232),
                )
    else:
        draw.rectangle((0, 0, n, n), fill=shade(r.sky[-1], 0.1))
    cols, rows = rng.choice(((4, 2), (4, 3), (3, 3), (4, 4), (5, 4)))
    cw, ch = n // cols, n // rows
    tall = len(SPRITES.get(who, SPRITES["slime"]))
    scale = max(1, min(cw // 10, ch // (tall + 2)))
    items = rng.sample(range(6), 3)
    for k in range(cols * rows):
        x, y, row = (k % cols) * cw, (k // cols) * ch, k // cols
        draw.rectangle((x, y, x + cw - 1, y + ch - 1), outline=tint(r.outline, 0.3))
        if not named and row > 0:
            _item(draw, items[row % 3], (x + 2, y + 2, x + cw - 3, y + ch - 3), r, k)
            continue
        body = r.accents[row % 4]
        at = (x + (cw - 8 * scale) // 2, y + (ch - tall * scale) // 2)
        colours = (r.outline, body, r.accents[(row + 1) % 4])
        sprite(draw, who, at, colours, frame=k % 4, flip=row % 2 == 1, scale=scale)


# A place's tiles: wall, wall feature, floor, floor feature, object.
TILES = {
    "interior": ("bricks", "shelf", "planks", "rug", "chest"),
    "forge": ("bricks", "window", "stone", "fire", "chest"),
    "dungeon": ("bricks", "door", "stone", "water", "chest"),
    "cave": ("stone", "crystal", "stone", "lava", "chest"),
    "desert": ("sand", "palm", "sand", "water", "stone"),
    "harbour": ("planks", "rope", "water", "planks", "chest"),
    "cabin": ("planks", "window", "snow", "pine", "stone"),
    "village": ("bricks", "window", "grass", "planks", "pine"),
    "tower": ("stone", "window", "grass", "stone", "door"),
}
OUTDOOR_TILES = ("grass", "pine", "grass", "water", "stone")


def _tile(
    draw: ImageDraw.ImageDraw,
    kind: str,
    box: tuple[int, int, int, int],
    r: Roles,
    rng: random.Random,
) -> None:
    x0, y0, x1, y1 = box
    s = x1 - x0
    base: dict[str, RGB] = {
        "planks": r.wood, "bricks": shade(r.roof, 0.2), "stone": r.stone, "water": shade(r.accents[1], 0.15),
        "lava": r.accents[3], "sand": tint(r.accents[0], 0.5), "snow": r.snow, "grass": r.grass,
        "rug": r.accents[3], "fire": shade(r.stone, 0.4), "crystal": shade(r.stone, 0.3),
    }  # fmt: skip
    draw.rectangle(box, fill=base.get(kind, r.grass))
    if kind in ("planks", "bricks", "stone"):
        step = max(2, s // 4)
        for y in range(y0, y1, step):
            draw.line((x0, y, x1, y), fill=shade(base[kind], 0.3))
            off = step // 2 if (y - y0) // step % 2 else 0
            for x in range(x0 + off, x1, step * (2 if kind != "planks" else 4)):
                draw.line((x, y, x, y + step - 1), fill=shade(base[kind], 0.3))
    elif kind in ("water", "lava", "sand", "snow", "grass", "rug"):
        for _ in range(s // 2):
            px, py = rng.randrange(x0, x1), rng.randrange(y0, y1)
            draw.line(
                (px, py, px + 1, py),
                fill=tint(base[kind], 0.4) if kind != "snow" else (200, 200, 200),
            )
    elif kind in ("window", "door"):
        draw.rectangle(box, fill=r.wood)
        inner = (x0 + s // 4, y0 + s // 5, x1 - s // 4, y1 - (s // 5 if kind == "window" else 0))
        draw.rectangle(
            inner, fill=r.light if kind == "window" else shade(r.wood, 0.4), outline=r.outline
        )
    elif kind in ("shelf", "chest", "fire", "crystal", "palm", "pine", "rope"):
        draw.rectangle(box, fill=r.grass if kind in ("palm", "pine") else base.get(kind, r.wood))
        if kind == "shelf":
            draw.rectangle((x0, y0 + s // 2, x1, y0 + s // 2 + 1), fill=r.wood)
            for x in range(x0 + 1, x1 - 2, 4):
                potion(draw, x, y0 + s // 2, r.accents[rng.randrange(4)], r)
        elif kind == "chest":
            chest(draw, x0 + s // 6, y1 - 1, r, s * 2 // 3)
        elif kind in ("fire", "crystal"):
            colour = r.accents[3] if kind == "fire" else tint(r.accents[1], 0.3)
            draw.polygon(
                [(x0 + s // 4, y1), (x0 + s // 2, y0 + s // 5), (x1 - s // 4, y1)], fill=colour
            )
        elif kind == "rope":
            draw.ellipse((x0 + 2, y0 + 2, x1 - 2, y1 - 2), outline=tint(r.wood, 0.4), width=2)
        else:
            tree(draw, x0 + s // 2, y1, r, 0 if kind == "pine" else 1, s - 2)


def tileset(image: Image.Image, b: Brief, r: Roles, rng: random.Random, place: str) -> None:
    """Tiles of the place, each framed, laid out as a room: wall rows, then floor."""
    n = image.width
    draw = ImageDraw.Draw(image)
    size = 16
    wall, feature, floor, detail, thing = TILES.get(place, OUTDOOR_TILES)
    walls = rng.randint(1, 2)
    draw.rectangle((0, 0, n, n), fill=r.outline)
    for ty in range(n // size):
        for tx in range(n // size):
            if ty < walls:
                kind = feature if rng.random() < 0.3 else wall
            else:
                roll = rng.random()
                kind = thing if roll < 0.1 else detail if roll < 0.3 else floor
            _tile(
                draw,
                kind,
                (tx * size, ty * size, tx * size + size - 2, ty * size + size - 2),
                r,
                rng,
            )
