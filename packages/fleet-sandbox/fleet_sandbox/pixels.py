"""Pixel art for game developers: a scene, a sprite sheet or a tileset of the prompt's subject.

The subject picks the place (a potion shop interior, a snowy cabin, a lava cave, a pier,
a title screen...) and the character; the words pick the light (night, dawn), the
weather (rain, snow, winter) and the grid (a 32px grid). Drawn on a small canvas and
scaled up without smoothing, so the pixels stay crisp.
"""

from __future__ import annotations

import random

from PIL import Image, ImageDraw

from fleet_sandbox.briefs import Brief, first_match
from fleet_sandbox.palettes import shade, tint
from fleet_sandbox.pixel_props import (
    CHARACTERS,
    SPRITES,
    Roles,
    chest,
    house,
    potion,
    roles,
    sprite,
    tower,
    tree,
    water,
)
from fleet_sandbox.pixel_sheets import sheet, tileset

# Subject words and the place they name (a character alone gets the "hero" scene).
SCENES: dict[str, str] = {
    "interior": "interior", "shop": "interior", "shopkeeper": "interior", "tavern": "interior",
    "inn": "interior", "library": "interior", "blacksmith": "forge", "forge": "forge",
    "smithy": "forge", "dungeon": "dungeon", "cave": "cave", "lava": "cave", "mine": "cave",
    "arena": "arena", "forest": "forest", "woods": "forest", "haunted": "forest",
    "village": "village", "town": "village", "tower": "tower", "castle": "tower",
    "cabin": "cabin", "cottage": "cabin", "oasis": "desert", "desert": "desert",
    "pier": "harbour", "cove": "harbour", "harbour": "harbour", "harbor": "harbour",
    "beach": "harbour", "island": "harbour", "train": "station", "platform": "station",
    "station": "station", "title screen": "title", "menu": "title", "chest": "treasure",
    "treasure": "treasure", "loot": "treasure", "map": "map",
}  # fmt: skip


def scene_of(subject: str) -> str | None:
    """The place a subject names, "hero" for a character alone, None for neither."""
    place = first_match(subject, SCENES)
    if place is not None:
        return place
    return "hero" if first_match(subject, CHARACTERS) or "sprite" in subject else None


def _sky(
    draw: ImageDraw.ImageDraw, n: int, horizon: int, r: Roles, b: Brief, rng: random.Random
) -> None:
    bands = len(r.sky)
    for k, colour in enumerate(r.sky):
        top, bottom = horizon * k // bands, horizon * (k + 1) // bands
        draw.rectangle((0, top, n, bottom), fill=colour)
        if k and (b.has("dithering") or rng.random() < 0.4):  # a dithered seam
            for x in range(0, n, 2):
                draw.point((x + (top % 2), top), fill=r.sky[k - 1])
    night = r.sky[0][0] + r.sky[0][1] + r.sky[0][2] < 200
    if night:
        for _ in range(n // 2):
            draw.point(
                (rng.randrange(n), rng.randrange(max(1, horizon * 2 // 3))), fill=(235, 235, 235)
            )
    x, y, size = (
        rng.randrange(n // 8, n - n // 6),
        rng.randrange(2, max(3, horizon // 3)),
        max(3, n // 12),
    )
    draw.ellipse(
        (x, y, x + size, y + size), fill=(236, 236, 236) if night else tint(r.accents[0], 0.5)
    )


def _weather(draw: ImageDraw.ImageDraw, n: int, r: Roles, b: Brief, rng: random.Random) -> None:
    if b.has("rain", "storm", "rainy"):
        for _ in range(n):
            x, y = rng.randrange(n), rng.randrange(n)
            draw.line((x, y, x - 1, y + 2), fill=tint(r.accents[1], 0.5))
    if b.has("snow", "snowy", "winter", "blizzard"):
        for _ in range(n * 2 // 3):
            draw.point((rng.randrange(n), rng.randrange(n)), fill=r.snow)


def _outdoor(
    image: Image.Image, b: Brief, r: Roles, rng: random.Random, place: str, who: str
) -> None:
    n = image.width
    draw = ImageDraw.Draw(image)
    horizon = int(n * rng.uniform(0.62, 0.78))
    _sky(draw, n, horizon, r, b, rng)
    layers = 2 if b.has("parallax") or rng.random() < 0.5 else 1
    for k in range(layers):  # far hills, dunes or mountains
        colour = shade(r.sky[-1], 0.25 + 0.2 * k)
        peaks = [
            (x, horizon - rng.randint(n // 16, n // 5) // (k + 1)) for x in range(-4, n + 8, n // 6)
        ]
        draw.polygon([(-4, horizon), *peaks, (n + 8, horizon)], fill=colour)
    snowy = b.has("snow", "snowy", "winter") or (place == "cabin" and rng.random() < 0.5)
    top = r.snow if snowy else (tint(r.accents[0], 0.45) if place == "desert" else r.grass)
    draw.rectangle((0, horizon, n, n), fill=r.ground)
    draw.rectangle((0, horizon, n, horizon + max(1, n // 24)), fill=top)
    lit = b.has("night", "moonlight", "dusk") or rng.random() < 0.4
    ground = horizon
    if place in ("harbour", "desert"):
        sea = (
            (0, horizon + n // 12, n, n)
            if place == "harbour"
            else (n // 3, horizon + 2, n * 2 // 3 + 4, horizon + n // 10)
        )
        water(draw, sea, r, rng, night=r.sky[0][2] < 80)
    if place == "harbour":
        deck = horizon + n // 14
        draw.rectangle((n // 3, deck, n, deck + 1), fill=r.wood)
        for x in range(n // 3 + 2, n, max(3, n // 10)):
            draw.rectangle((x, deck, x + 1, n), fill=shade(r.wood, 0.3))
        mast = rng.randrange(n // 20, n // 4)
        draw.polygon(
            [
                (mast - n // 10, deck + 2),
                (mast + n // 8, deck + 2),
                (mast + n // 12, deck + n // 16),
                (mast - n // 14, deck + n // 16),
            ],
            fill=r.wood,
        )
        draw.line((mast, deck + 2, mast, deck - n // 4), fill=r.outline)
        draw.polygon(
            [(mast + 1, deck - n // 4), (mast + 1, deck - 2), (mast + n // 7, deck - 3)],
            fill=tint(r.roof, 0.5),
        )
        ground = deck
    elif place == "desert":
        for x in (n // 4, n * 3 // 4):
            draw.line((x, horizon, x + 1, horizon - n // 5), fill=r.wood, width=1)
            for dx in (-3, -2, 2, 3):
                draw.line(
                    (x + 1, horizon - n // 5, x + 1 + dx * n // 48, horizon - n // 5 + abs(dx)),
                    fill=r.grass,
                )
    elif place == "station":
        draw.rectangle((0, horizon - 2, n, horizon), fill=r.stone)
        x = rng.randrange(-n // 4, n // 6)
        for car in range(3):
            cx = x + car * n // 3
            draw.rounded_rectangle(
                (cx, horizon - n // 5, cx + n // 3 - 2, horizon - 2),
                2,
                fill=r.accents[car % 2 * 3 % 4],
                outline=r.outline,
            )
            for wx in range(cx + 3, cx + n // 3 - 5, 5):
                draw.rectangle(
                    (wx, horizon - n // 6, wx + 2, horizon - n // 8),
                    fill=r.light if lit else r.sky[-1],
                )
        draw.line((n * 5 // 6, horizon, n * 5 // 6, horizon - n // 3), fill=r.outline)
        draw.rectangle(
            (n * 5 // 6 - 1, horizon - n // 3, n * 5 // 6 + 1, horizon - n // 3 + 2), fill=r.light
        )
    elif place in ("village", "cabin"):
        mushroom = b.has("mushroom")
        for k in range(1 if place == "cabin" else rng.randint(2, 4)):
            w = rng.randint(n // 7, n // 4) if place == "village" else n // 3
            x = (
                rng.randrange(n // 12, n - w - n // 12)
                if place == "village"
                else n // 2 - w // 2 + rng.randint(-n // 8, n // 8)
            )
            house(
                draw,
                x,
                horizon,
                r,
                w,
                logs=place == "cabin" or k % 2 == 1,
                lit=lit,
                mushroom=mushroom,
            )
            if place == "cabin":
                for s in range(4):  # chimney smoke
                    draw.point(
                        (x + w - 3 + s % 2, horizon - w * 3 // 4 - w // 2 - 2 - s * 2),
                        fill=(200, 200, 200),
                    )
    elif place == "tower":
        tower(
            draw,
            n // 2 - n // 12 + rng.randint(-n // 6, n // 6),
            horizon,
            r,
            int(n * rng.uniform(0.4, 0.55)),
            lit,
        )
    elif place == "arena":
        draw.rectangle(
            (n // 8, horizon - n // 24, n * 7 // 8, horizon), fill=r.stone, outline=r.outline
        )
        for x in (n // 8, n * 7 // 8 - 3):
            draw.rectangle(
                (x, horizon - n // 3, x + 3, horizon - n // 24), fill=r.stone, outline=r.outline
            )
        sprite(
            draw,
            who,
            (n // 2 - 8, horizon - n // 24 - 20),
            (r.outline, r.accents[3], r.accents[0]),
            scale=2,
        )
    elif place == "treasure":
        chest(draw, n // 2 - n // 8, horizon + n // 10, r, n // 4)
    trees = rng.randint(5, 9) if place == "forest" else rng.randint(0, 2 if place == "hero" else 3)
    for _ in range(trees):
        tree(
            draw,
            rng.randrange(n),
            horizon + (n // 20 if place == "forest" and rng.random() < 0.5 else 0),
            r,
            2 if b.has("haunted") else (0 if snowy else rng.randint(0, 1)),
            rng.randint(n // 6, n // 3),
        )
    if place == "hero":  # the character itself, large, on its patch of ground
        scale = max(2, n // 16)
        tall = len(SPRITES.get(who, SPRITES["slime"]))
        sprite(
            draw,
            who,
            (n // 2 - 4 * scale, horizon - tall * scale + scale),
            (r.outline, r.accents[rng.randrange(4)], r.accents[0]),
            frame=rng.randrange(4),
            scale=scale,
        )
    elif place not in ("arena", "treasure"):
        x = rng.randrange(n // 10, n - n // 5)
        sprite(
            draw,
            who,
            (x, ground - 10),
            (r.outline, r.accents[rng.randrange(4)], r.accents[0]),
            frame=rng.randrange(4),
            flip=rng.random() < 0.5,
        )
    if snowy:
        for _ in range(n):
            draw.point((rng.randrange(n), rng.randrange(horizon, n)), fill=tint(r.snow, 0.5))


def _indoors(
    image: Image.Image, b: Brief, r: Roles, rng: random.Random, place: str, who: str
) -> None:
    n = image.width
    draw = ImageDraw.Draw(image)
    floor = int(n * rng.uniform(0.7, 0.8))
    wall = shade(r.stone, 0.35) if place in ("dungeon", "cave") else shade(r.wood, 0.15)
    draw.rectangle((0, 0, n, floor), fill=wall)
    for y in range(0, floor, 4):  # bricks or planks
        offset = 0 if (y // 4) % 2 else 3
        for x in range(offset, n, 6):
            draw.line((x, y, x, y + 3), fill=shade(wall, 0.25))
        draw.line((0, y, n, y), fill=shade(wall, 0.25))
    draw.rectangle((0, floor, n, n), fill=shade(r.wood, 0.35) if place != "cave" else r.outline)
    if place == "cave":
        jag = [(x, rng.randint(0, n // 6)) for x in range(0, n + 4, 4)]
        draw.polygon([(0, 0), *jag, (n, 0)], fill=r.outline)
        pool = (n // 4, floor - 1, n * 3 // 4 + rng.randint(0, n // 6), floor + n // 10)
        draw.ellipse(pool, fill=r.accents[3], outline=tint(r.accents[0], 0.3))
        for _ in range(n // 4):
            draw.point(
                (rng.randrange(pool[0], pool[2]), rng.randrange(floor - n // 6, floor)),
                fill=tint(r.accents[0], 0.5),
            )
    else:
        wx = rng.randrange(n // 12, n // 2)  # a window onto the sky
        draw.rectangle((wx, n // 8, wx + n // 6, n // 8 + n // 5), fill=r.sky[0], outline=r.outline)
        draw.line((wx + n // 12, n // 8, wx + n // 12, n // 8 + n // 5), fill=r.outline)
    if place == "interior":
        for k in range(rng.randint(2, 3)):  # shelves of potions
            y = n // 6 + k * n // 6
            x0 = n // 2 + rng.randint(-n // 10, n // 10)
            draw.rectangle((x0, y, n - 2, y + 1), fill=r.wood)
            for x in range(x0 + 1, n - 4, 4):
                potion(draw, x, y, r.accents[rng.randrange(4)], r)
        draw.rectangle((n // 8, floor - n // 7, n * 5 // 8, floor), fill=r.wood, outline=r.outline)
        sprite(
            draw,
            who,
            (n // 3, floor - n // 7 - 8),
            (r.outline, r.accents[2], r.accents[0]),
            frame=0,
        )
    elif place == "forge":
        fx = n * 2 // 3
        draw.rectangle((fx, floor - n // 4, fx + n // 4, floor), fill=r.stone, outline=r.outline)
        draw.ellipse((fx + 2, floor - n // 5, fx + n // 4 - 2, floor - n // 20), fill=r.accents[3])
        draw.rectangle((n // 4, floor - n // 12, n // 4 + n // 8, floor - n // 16), fill=r.outline)
        sprite(
            draw,
            who,
            (n // 8, floor - 10),
            (r.outline, r.stone, r.accents[0]),
            frame=rng.randrange(4),
        )
    elif place in ("dungeon", "cave"):
        for x in range(n // 5, n, n // 3):  # torches
            draw.rectangle((x, n // 3, x + 1, n // 3 + 3), fill=r.wood)
            draw.point((x, n // 3 - 1), fill=r.accents[0])
        chest(draw, n - n // 4, floor, r, n // 6)
        sprite(
            draw,
            who,
            (n // 6, floor - 10),
            (r.outline, r.accents[1], r.accents[0]),
            frame=rng.randrange(4),
        )


def _title(image: Image.Image, b: Brief, r: Roles, rng: random.Random, who: str) -> None:
    _outdoor(image, b, r, rng, "forest", who)
    n = image.width
    draw = ImageDraw.Draw(image)
    y, x = n // 6, n // 8
    for _word in range(2):  # the logo: blocky letters with an outline and a shadow
        for _ in range(rng.randint(3, 6)):
            w = rng.randint(3, 5)
            draw.rectangle((x + 1, y + 1, x + w + 1, y + 8), fill=r.outline)
            draw.rectangle((x, y, x + w, y + 7), fill=r.accents[0], outline=r.outline)
            draw.line((x + 1, y + 1, x + w - 1, y + 1), fill=tint(r.accents[0], 0.5))
            x += w + 2
            if x > n - n // 8:
                break
        x, y = n // 8 + rng.randint(0, n // 8), y + 11
    draw.rectangle((n // 3, n * 2 // 3, n * 2 // 3, n * 2 // 3 + 2), fill=(236, 236, 236))


def _map(image: Image.Image, b: Brief, r: Roles, rng: random.Random) -> None:
    n = image.width
    draw = ImageDraw.Draw(image)
    desert = b.has("desert", "oasis", "sand")
    draw.rectangle((0, 0, n, n), fill=tint(r.accents[0], 0.5) if desert else r.grass)
    water(
        draw,
        (
            rng.randrange(n // 2),
            rng.randrange(n // 2),
            n // 2 + rng.randrange(n // 3),
            n // 2 + rng.randrange(n // 3),
        ),
        r,
        rng,
        False,
    )
    x, y = 0, rng.randrange(n)
    while x < n:  # a winding path
        draw.rectangle((x, y, x + 2, y + 2), fill=tint(r.ground, 0.4))
        x, y = x + 1, max(0, min(n - 3, y + rng.choice((-1, 0, 0, 1))))
    for _ in range(n // 3):
        tx, ty = rng.randrange(n), rng.randrange(n)
        draw.rectangle((tx, ty, tx + 2, ty + 2), fill=shade(r.grass, 0.35))
    for _ in range(rng.randint(2, 5)):
        hx, hy = rng.randrange(n - 6), rng.randrange(n - 6)
        draw.rectangle((hx, hy, hx + 5, hy + 4), fill=r.roof, outline=r.outline)


def draw(brief: Brief, rng: random.Random, size: tuple[int, int]) -> Image.Image:
    """The picture of a pixel-art brief."""
    cells = 32 if brief.has("32px") else rng.choice((48, 56, 64, 64))
    if brief.form == "tiles":
        cells = 96 if cells > 50 else 64
    night = (
        brief.has("night", "midnight", "moonlight", "night palette", "dusk") or rng.random() < 0.15
    )
    r = roles(brief.palette, night=night, dawn=brief.has("dawn", "sunset", "sunrise", "golden"))
    place = brief.scene or rng.choice(("forest", "village", "harbour", "cave", "tower"))
    named = first_match(brief.subject, CHARACTERS)
    who = named or rng.choice(sorted(SPRITES))
    canvas = Image.new("RGB", (cells, cells), r.sky[0])
    if brief.form == "sprites":
        sheet(canvas, brief, r, rng, who, named is not None)
    elif brief.form == "tiles":
        tileset(canvas, brief, r, rng, place)
    elif place in ("interior", "forge", "dungeon", "cave"):
        _indoors(canvas, brief, r, rng, place, who)
    elif place == "title":
        _title(canvas, brief, r, rng, who)
    elif place == "map":
        _map(canvas, brief, r, rng)
    else:
        _outdoor(canvas, brief, r, rng, place, who)
    if brief.form == "scene":
        _weather(ImageDraw.Draw(canvas), cells, r, brief, rng)
    return canvas.resize(size, Image.Resampling.NEAREST)
