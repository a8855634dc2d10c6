"""Drawing helpers shared by the sandbox's motifs: gradients, blur, text, sprinkles.

Text uses Pillow's bundled font (the same glyphs on every machine, so renders stay
byte-identical); without FreeType it falls back to Pillow's bitmap font.
"""

from __future__ import annotations

import functools
import random

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from fleet_sandbox.palettes import RGB

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
Box = tuple[int, int, int, int]


def gradient(size: tuple[int, int], top: RGB, bottom: RGB) -> Image.Image:
    """A vertical gradient from ``top`` to ``bottom``."""
    column = Image.linear_gradient("L").resize((1, size[1]), Image.Resampling.BILINEAR)
    mask = column.resize(size, Image.Resampling.NEAREST)
    return Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), mask)


def lit(size: tuple[int, int], top: RGB, bottom: RGB, side: float) -> Image.Image:
    """A vertical gradient lit from one side: darker towards the left (``side`` < 0) or
    the right (``side`` > 0) by up to ``abs(side)``. Drawn small and scaled up."""
    small = gradient((64, 64), top, bottom)
    ramp = Image.linear_gradient("L").rotate(90 if side > 0 else -90).resize((64, 64))
    shadow = ramp.point(lambda v: int(v * min(1.0, abs(side))))
    small.paste((0, 0, 0), (0, 0, 64, 64), shadow)
    return small.resize(size, Image.Resampling.BILINEAR)


def soft(mask: Image.Image, radius: int) -> Image.Image:
    """A blurred copy of an ``L`` mask, blurred at a quarter of the size: the same look, a
    fraction of the cost."""
    small = mask.reduce(4) if min(mask.size) >= 16 else mask
    small = small.filter(ImageFilter.GaussianBlur(max(1, radius // 4)))
    return small.resize(mask.size, Image.Resampling.BILINEAR)


def layer(image: Image.Image, colour: RGB, mask: Image.Image) -> None:
    """Paint ``colour`` over ``image`` through ``mask`` (0 keeps, 255 covers)."""
    box = mask.getbbox()  # only where the mask covers: a paste costs by its area
    if box is not None:
        image.paste(colour, box, mask.crop(box))


@functools.cache
def font(size: int) -> Font:
    """Pillow's bundled sans-serif at ``size`` pixels."""
    try:
        return ImageFont.load_default(size=max(6, size))
    except (AttributeError, ImportError, OSError):  # no FreeType: the bitmap font
        return ImageFont.load_default()


def text_width(draw: ImageDraw.ImageDraw, text: str, face: Font) -> int:
    """How wide ``text`` draws."""
    left, _, right, _ = draw.textbbox((0, 0), text, font=face)
    return int(right - left)


def fitted(draw: ImageDraw.ImageDraw, text: str, face: Font, width: int) -> str:
    """``text`` cut at a word (with an ellipsis) to fit ``width`` pixels."""
    if text_width(draw, text, face) <= width:
        return text
    words = text.split()
    while len(words) > 1:
        words.pop()
        candidate = " ".join(words) + "…"
        if text_width(draw, candidate, face) <= width:
            return candidate
    return ""


def font_to_fit(draw: ImageDraw.ImageDraw, text: str, width: int, size: int) -> Font:
    """The font at ``size``, or smaller (down to 70 %) so that ``text`` fits ``width``."""
    for step in (1.0, 0.9, 0.8, 0.7):
        face = font(round(size * step))
        if text_width(draw, text, face) <= width:
            return face
    return face


def vertical_text(text: str, face: Font, fill: RGB) -> Image.Image:
    """``text`` turned 90 degrees anticlockwise, on a transparent layer (an axis label)."""
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    left, top, right, bottom = probe.textbbox((0, 0), text, font=face)
    layer = Image.new("RGBA", (max(1, int(right - left)), max(1, int(bottom - top) + 2)))
    ImageDraw.Draw(layer).text((-left, -top), text, font=face, fill=(*fill, 255))
    return layer.rotate(90, expand=True)


def sprinkle(
    draw: ImageDraw.ImageDraw, rng: random.Random, box: Box, count: int, fill: RGB, r: int
) -> None:
    """``count`` dots of radius ``r`` scattered in ``box`` (grain, stars, snow, speckles)."""
    x0, y0, x1, y1 = box
    xs = [x0 + int(rng.random() * (x1 - x0 + 1)) for _ in range(count)]
    ys = [y0 + int(rng.random() * (y1 - y0 + 1)) for _ in range(count)]
    if r <= 1:  # one call for all: dots this small are squares anyway
        draw.point(list(zip(xs, ys, strict=True)), fill=fill)
        if r == 1:
            draw.point([(x + 1, y + 1) for x, y in zip(xs, ys, strict=True)], fill=fill)
        return
    for x, y in zip(xs, ys, strict=True):
        draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)
