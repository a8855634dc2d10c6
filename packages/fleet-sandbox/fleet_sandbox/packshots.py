"""Product photographs: the named product on the named surface, lit as the prompt says.

The subject gives the product ("a silk scarf") and its surface ("in a bed of sand", "on
wet slate", "on a marble plinth"); the words give the light (hard noon sun casts a
crisp shadow, window light throws panes, neon backlight glows, candlelight darkens the
set) and the framing (a close-up fills the frame, a wide shot leaves space, a flat lay
looks from above). Forms: a packshot, a lifestyle still life with props, a clean
background.
"""

from __future__ import annotations

import random
import re

from PIL import Image, ImageDraw

from fleet_sandbox.briefs import Brief, first_match
from fleet_sandbox.canvas import layer, lit, soft, sprinkle
from fleet_sandbox.palettes import RGB, mix, shade, tint
from fleet_sandbox.products import NEUTRAL_MATERIALS, PRODUCTS, Look, draw_product

SURFACES: dict[str, str] = {
    "slate": "slate", "marble": "marble", "plinth": "marble", "seamless": "seamless",
    "sand": "sand", "beach": "sand", "terrazzo": "terrazzo", "steel": "steel",
    "metal": "steel", "mirror": "mirror", "mirrored": "mirror", "tray": "mirror",
    "kraft": "kraft", "paper": "kraft", "linen": "linen", "napkin": "linen",
    "wood": "wood", "table": "wood", "concrete": "slate",
}  # fmt: skip


def scene_of(subject: str) -> str | None:
    """The product a subject names."""
    return first_match(subject, PRODUCTS)


def _surface(
    image: Image.Image, kind: str, horizon: int, base: RGB, b: Brief, rng: random.Random
) -> None:
    w, h = image.size
    d = ImageDraw.Draw(image)
    p = b.palette
    floor = {
        "slate": (60, 60, 60),
        "marble": (236, 236, 236),
        "steel": (160, 162, 166),
        "sand": tint(p.hue(0), 0.62),
        "terrazzo": (230, 230, 230),
        "kraft": tint(shade(p.hue(0), 0.2), 0.35),
        "mirror": tint(base, 0.2),
        "linen": base,
        "wood": shade(p.hue(0), 0.35),
        "seamless": base,
    }.get(kind, base)
    if kind == "seamless":
        return
    d.rectangle((0, horizon, w, h), fill=floor)
    if kind == "slate":
        sprinkle(d, rng, (0, horizon, w, h), 500, (76, 76, 76), 2)
        if b.has("wet"):
            for _ in range(30):
                x, y = rng.randrange(w), rng.randrange(horizon, h)
                d.ellipse((x, y, x + rng.randint(8, 40), y + rng.randint(3, 8)), fill=(94, 94, 94))
    elif kind == "marble":
        for _ in range(6):
            x = rng.randrange(w)
            pts = [
                (x + rng.randint(-60, 60) + k * 40, horizon + k * (h - horizon) // 8)
                for k in range(9)
            ]
            d.line(pts, fill=(204, 204, 204), width=3)
    elif kind == "sand":
        for k in range(14):  # ripples
            y = horizon + (h - horizon) * k // 14 + rng.randint(-6, 6)
            pts = [(x, y + 8 * ((x // 90 + k) % 2)) for x in range(0, w + 90, 90)]
            d.line(pts, fill=shade(floor, 0.08), width=4, joint="curve")
        sprinkle(d, rng, (0, horizon, w, h), 900, shade(floor, 0.12), 1)
    elif kind == "terrazzo":
        for _ in range(160):
            x, y, r = rng.randrange(w), rng.randrange(horizon, h), rng.randint(4, 11)
            d.polygon(
                [(x, y - r), (x + r, y), (x, y + r // 2), (x - r, y)], fill=p.hue(rng.randrange(4))
            )
    elif kind == "steel":
        for y in range(horizon, h, 3):
            d.line((0, y, w, y), fill=(150 + rng.randint(0, 25),) * 3)
    elif kind in ("wood", "kraft"):
        for y in range(horizon, h, max(12, (h - horizon) // 7)):
            d.line((0, y, w, y), fill=shade(floor, 0.18), width=3)
    elif kind == "mirror":
        d.ellipse(
            (w * 0.15, horizon + (h - horizon) * 0.15, w * 0.85, h - (h - horizon) * 0.1),
            fill=tint(floor, 0.55),
            outline=shade(floor, 0.2),
            width=6,
        )
    elif kind == "linen":
        d.polygon(
            [(w * 0.55, horizon + 40), (w * 0.98, horizon + 30), (w, h), (w * 0.62, h)],
            fill=tint(p.hue(1), 0.6),
        )
        for k in range(4):
            d.line(
                (w * 0.6 + k * 24, horizon + 40, w * 0.66 + k * 24, h),
                fill=tint(p.hue(1), 0.35),
                width=3,
            )


def _light(image: Image.Image, b: Brief, rng: random.Random, cx: int, horizon: int) -> None:
    """Overlays for the light the prompt names."""
    w, h = image.size
    if b.has("window light"):
        panes = Image.new("L", (w, h), 0)
        d = ImageDraw.Draw(panes)
        x0 = rng.randrange(w // 3)
        for k in range(3):
            for j in range(2):
                x, y = x0 + k * w // 5, h // 10 + j * h // 5
                d.polygon(
                    [
                        (x, y),
                        (x + w // 6, y),
                        (x + w // 6 + w // 10, y + h // 6),
                        (x + w // 10, y + h // 6),
                    ],
                    fill=70,
                )
        layer(image, (255, 255, 255), panes)
    if b.has("neon backlight", "rim light", "backlight"):
        glow = Image.new("L", (w, h), 0)
        ImageDraw.Draw(glow).ellipse(
            (cx - w // 3, horizon - h // 2, cx + w // 3, horizon + h // 12), fill=130
        )
        layer(image, b.palette.hue(1 if b.has("neon") else 0), soft(glow, w // 12))
    if b.has("golden-hour", "golden hour", "warm tungsten"):
        image.paste(Image.blend(image, Image.new("RGB", (w, h), tint(b.palette.hue(0), 0.3)), 0.15))


def _prop(
    d: ImageDraw.ImageDraw, rng: random.Random, colour: RGB, x: float, floor: float, r: float
) -> None:
    """A sphere, a block, a cylinder or a stack of books."""
    kind = rng.randrange(4)
    if kind == 0:
        d.ellipse((x - r, floor - 2 * r, x + r, floor), fill=tint(colour, 0.25))
        d.ellipse(
            (x - r * 0.5, floor - r * 1.7, x - r * 0.1, floor - r * 1.3), fill=tint(colour, 0.6)
        )
    elif kind == 1:
        d.rectangle((x - r, floor - 1.4 * r, x + r, floor), fill=shade(colour, 0.1))
        d.polygon(
            [
                (x - r, floor - 1.4 * r),
                (x - r * 0.6, floor - 1.7 * r),
                (x + r * 1.4, floor - 1.7 * r),
                (x + r, floor - 1.4 * r),
            ],
            fill=tint(colour, 0.3),
        )
    elif kind == 2:
        d.rectangle((x - r * 0.6, floor - 2.2 * r, x + r * 0.6, floor), fill=tint(colour, 0.15))
        d.ellipse(
            (x - r * 0.6, floor - 2.4 * r, x + r * 0.6, floor - 2.0 * r), fill=tint(colour, 0.5)
        )
    else:
        for k in range(3):
            y = floor - k * r * 0.45
            d.rectangle(
                (x - r * (1.1 - k * 0.1), y - r * 0.42, x + r * (1.0 - k * 0.05), y),
                fill=shade(colour, 0.1 * k) if k % 2 else tint(colour, 0.3),
            )


def draw(brief: Brief, rng: random.Random, size: tuple[int, int]) -> Image.Image:
    """The picture of a product brief."""
    w, h = size
    p = brief.palette
    dark_set = brief.has("candlelight", "moonlight", "blue-hour", "night", "neon backlight")
    backdrop = (
        tint(p.hue(rng.randrange(len(p.hues))), rng.uniform(0.35, 0.75))
        if rng.random() < 0.6
        else p.paper
    )
    if dark_set:
        backdrop = shade(p.hue(rng.randrange(len(p.hues))), rng.uniform(0.55, 0.75))
    side = rng.choice((-1, 1)) * rng.uniform(0.15, 0.45)  # the key light's far side
    image = lit(size, tint(backdrop, 0.12), shade(backdrop, 0.1), side)
    detail = re.split(r"\b(?:on|in|against|beside|with|wrapped|mid)\b", brief.subject, maxsplit=1)
    surface = first_match(detail[1], SURFACES) if len(detail) > 1 else None
    if surface is None:
        surface = (
            "seamless"
            if brief.form == "clean"
            else rng.choice(("wood", "marble", "linen", "seamless", "slate", "terrazzo", "kraft"))
        )
    flat = brief.has("flat lay", "top-down")
    horizon = (
        0 if flat else int(h * rng.uniform(0.55, 0.72) + (h * 0.1 if brief.has("low angle") else 0))
    )
    _surface(image, surface, horizon, shade(backdrop, 0.06), brief, rng)
    scale = (
        1.45
        if brief.has("close-up", "tight crop")
        else 0.7
        if brief.has("wide shot", "negative space")
        else rng.uniform(0.95, 1.15)
    )
    s = min(w, h) * 0.48 * scale
    third = brief.has("rule of thirds")
    centred = brief.has("symmetrical", "centred", "centered")
    cx = int(
        w
        * (
            rng.choice((1 / 3, 2 / 3))
            if third
            else 0.5 + (0 if centred else rng.uniform(-0.15, 0.15))
        )
    )
    floor = int(h * 0.62 + s * 0.5) if flat else int(max(horizon + h * 0.08, h * 0.62) + s * 0.12)
    kind = brief.scene or rng.choice(("bottle", "jar", "box", "dropper"))
    material = first_match(detail[0], {k: k for k in NEUTRAL_MATERIALS})
    body = NEUTRAL_MATERIALS[material] if material else p.hue(rng.randrange(len(p.hues)))
    trim = shade(p.hue(rng.randrange(len(p.hues))), 0.2) if material != "black" else p.hue(0)
    look = Look(body, trim, mix(p.ink, (20, 20, 20), 0.5))
    hard = brief.has("hard noon sun", "long shadows")
    shadow = Image.new("L", size, 0)
    sd = ImageDraw.Draw(shadow)
    reach = s * (1.2 if brief.has("long shadows") else 0.45)
    lean = 1 if side > 0 else -1  # away from the light
    sd.polygon(
        [
            (cx - s * 0.35, floor),
            (cx + s * 0.35, floor),
            (cx + s * 0.35 + lean * reach, floor - s * 0.12),
            (cx - s * 0.35 + lean * reach, floor - s * 0.12),
        ],
        fill=70,
    )
    sd.ellipse((cx - s * 0.45, floor - s * 0.05, cx + s * 0.45, floor + s * 0.05), fill=110)
    layer(image, (0, 0, 0), shadow if hard else soft(shadow, int(s * 0.12)))
    d = ImageDraw.Draw(image)
    if brief.has("rosemary", "sprig", "herbs"):
        px = cx + int(s * rng.choice((-0.9, 0.9)))
        d.line(
            (px - s * 0.3, floor, px + s * 0.3, floor - s * 0.08),
            fill=shade(p.hue(2), 0.35),
            width=5,
        )
        for k in range(9):
            x = px - s * 0.27 + k * s * 0.065
            d.ellipse(
                (x, floor - s * 0.1 - k * s * 0.008, x + s * 0.05, floor - s * 0.02),
                fill=shade(p.hue(2), 0.2),
            )
    props = {"lifestyle": 2, "packshot": int(rng.random() < 0.5)}.get(brief.form, 0)
    for k in range(props):  # still-life props beside the product
        _prop(
            d,
            rng,
            p.hue(rng.randrange(len(p.hues))),
            cx + s * (0.75 + 0.5 * k) * rng.choice((-1, 1)),
            floor + s * 0.04 * k,
            s * rng.uniform(0.25, 0.45),
        )
    product = Image.new("RGBA", size, (0, 0, 0, 0))
    draw_product(ImageDraw.Draw(product), kind, cx, floor, s, look)
    box = product.getbbox() or (0, 0, 1, 1)
    piece = product.crop(box)  # work on the product's own box: a full-size layer costs more
    if flat:
        turned = piece.rotate(rng.uniform(-35, 35), expand=True, resample=Image.Resampling.BICUBIC)
        at = (
            box[0] + (piece.width - turned.width) // 2,
            box[1] + (piece.height - turned.height) // 2,
        )
        image.paste(turned, at, turned)
    else:
        image.paste(piece, box[:2], piece)
    if surface in ("mirror", "slate") and not flat and (surface == "mirror" or brief.has("wet")):
        mirrored = piece.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
        mirrored.putalpha(mirrored.getchannel("A").point(lambda v: v * 30 // 100))
        image.paste(mirrored, (box[0], 2 * floor - box[3]), mirrored)
    if brief.has("mid-splash", "splash"):
        d = ImageDraw.Draw(image)
        sprinkle(
            d,
            rng,
            (int(cx - s * 0.7), int(floor - s * 1.1), int(cx + s * 0.7), int(floor - s * 0.3)),
            40,
            tint(p.hue(1), 0.5),
            int(s * 0.02) + 2,
        )
    _light(image, brief, rng, cx, horizon or h // 2)
    return image
