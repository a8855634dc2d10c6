"""Data-visualisation pictures: the chart the prompt names, titled, with labelled axes.

``chart_type`` reads the type from the prompt ("a heatmap", "slope chart", "small
multiples"...), or picks one that suits the subject (a line over time, bars across
categories). Three forms: a single chart; an infographic (headline figures, the chart,
a pictogram row); a dashboard (header, KPI tiles, the chart, a second panel).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from PIL import Image, ImageDraw

from fleet_sandbox import plot_grids, plots
from fleet_sandbox.briefs import Brief, first_match
from fleet_sandbox.canvas import Box, fitted, font, font_to_fit
from fleet_sandbox.chart_frame import DIMENSIONS, Layout, layout, meaning_of, sizes, titles
from fleet_sandbox.palettes import mix, tint
from fleet_sandbox.plots import Panel, walk

# Words in a prompt and the chart type they name.
CHARTS: dict[str, str] = {
    "calendar heatmap": "calendar", "calendar heat map": "calendar", "heatmap": "heatmap",
    "heat map": "heatmap", "heat-map": "heatmap", "choropleth": "choropleth",
    "hex map": "choropleth", "tile map": "choropleth", "scatter": "scatter",
    "scatterplot": "scatter", "scatter plot": "scatter", "bubble chart": "scatter",
    "beeswarm": "beeswarm", "swarm plot": "beeswarm", "dot plot": "dot", "dumbbell": "dot",
    "lollipop": "dot", "pie": "pie", "pie chart": "pie", "donut": "donut",
    "doughnut": "donut", "ring chart": "donut", "stacked area": "area", "area chart": "area",
    "streamgraph": "area", "ridgeline": "ridgeline", "joyplot": "ridgeline",
    "slope chart": "slope", "slopegraph": "slope", "slope graph": "slope",
    "bump chart": "bump", "histogram": "histogram", "line chart": "line",
    "line graph": "line", "time series": "line", "sparkline": "line", "log scale": "line",
    "bar chart": "bar", "bar graph": "bar", "bars": "bar", "column chart": "bar",
    "stacked bar": "bar", "small multiples": "multiples", "treemap": "treemap",
    "diverging": "diverging",
}  # fmt: skip
# Chart types and how they are drawn.
PLOTS: dict[str, Callable[[Panel, Layout], None]] = {
    "bar": plots.bar, "line": plots.line, "area": plots.area, "histogram": plots.histogram,
    "scatter": plots.scatter, "beeswarm": plots.beeswarm, "dot": plots.dot,
    "diverging": plots.diverging, "slope": plots.slope, "bump": plots.bump,
    "ridgeline": plots.ridgeline, "heatmap": plot_grids.heatmap,
    "calendar": plot_grids.calendar, "pie": plot_grids.pie, "donut": plot_grids.donut,
    "choropleth": plot_grids.choropleth, "treemap": plot_grids.treemap,
}  # fmt: skip
_TEMPORAL = re.compile(
    "|".join(pattern for pattern, name, _ in DIMENSIONS[:4]) + r"|\byears?\b|\bsince\b|\bdecade\b"
)


def chart_type(text: str, subject: str, form: str, seed: bytes) -> str:
    """The chart the prompt names, or one that suits its subject and form."""
    named = first_match(text, CHARTS)
    if named is not None:
        return named
    rng = random.Random(seed + b"chart")
    if form == "infographic":
        return rng.choice(("donut", "pie", "bar", "treemap"))
    if _TEMPORAL.search(subject):
        return rng.choice(("line", "line", "area", "bar"))
    return rng.choice(("bar", "bar", "dot", "scatter" if " against " in subject else "treemap"))


def _panel(
    image: Image.Image,
    brief: Brief,
    rng: random.Random,
    box: Box,
    kind: str,
    title: str,
    subtitle: str,
) -> None:
    draw = ImageDraw.Draw(image)
    meaning = meaning_of(brief.subject, rng)
    log, bands = brief.has("log scale"), brief.has("confidence bands")
    panel = Panel(image, draw, brief.palette, meaning, rng, log=log, bands=bands)
    if kind == "multiples":
        _multiples(image, brief, rng, box, title, subtitle)
        return
    lay = layout(box, scale=(box[2] - box[0]) / 900)
    titles(draw, lay.title, title, subtitle, brief.palette)
    PLOTS[kind](panel, lay)


def _multiples(
    image: Image.Image, brief: Brief, rng: random.Random, box: Box, title: str, subtitle: str
) -> None:
    draw = ImageDraw.Draw(image)
    x0, y0, x1, y1 = box
    band = (y1 - y0) // 8
    titles(draw, (x0, y0, x1, y0 + band), title, subtitle, brief.palette)
    meaning = meaning_of(brief.subject, rng)
    names = list(meaning.series or meaning.categories)
    cols, rows = (3, 2) if x1 - x0 >= y1 - y0 else (2, 3)
    w, h = (x1 - x0) / cols, (y1 - y0 - band) / rows
    for k in range(cols * rows):
        cell = (int(x0 + (k % cols) * w), int(y0 + band + (k // cols) * h))
        small = (cell[0], cell[1], int(cell[0] + w - w * 0.04), int(cell[1] + h - h * 0.04))
        lay = layout(small, scale=w / 900)
        name = names[k % len(names)] if names else f"Panel {k + 1}"
        titles(draw, lay.title, name, "", brief.palette)
        PLOTS["line"](Panel(image, draw, brief.palette, meaning, rng), lay)


def _single(image: Image.Image, brief: Brief, rng: random.Random) -> None:
    w, h = image.size
    m = int(min(w, h) * rng.uniform(0.04, 0.07))
    p = brief.palette
    if rng.random() < 0.5:  # a card on a tinted ground
        ImageDraw.Draw(image).rounded_rectangle(
            (m // 2, m // 2, w - m // 2, h - m // 2), m // 2, fill=mix(p.paper, p.ink, 0.03)
        )
    meaning = meaning_of(brief.subject, random.Random(rng.random()))
    _panel(
        image,
        brief,
        rng,
        (m, m, w - m, h - m),
        brief.chart or "bar",
        meaning.title,
        meaning.subtitle,
    )


def _figure(draw: ImageDraw.ImageDraw, box: Box, brief: Brief, rng: random.Random, k: int) -> None:
    """A headline figure: a big number in a hue and a line of what it counts."""
    p = brief.palette
    side = box[2] - box[0]
    big, label = round(side * 0.13), round(side * 0.075)
    number = rng.choice(
        (
            f"{rng.randint(12, 96)}%",
            f"{rng.uniform(1.1, 9.8):.1f}k",
            f"x{rng.randint(2, 6)}",
            f"{rng.randint(120, 980)}",
        )
    )
    draw.text((box[0], box[1]), number, font=font(big * 2), fill=p.hue(k))
    words = meaning_of(brief.subject, rng).measure.lower()
    draw.text(
        (box[0], box[1] + big * 2.4),
        fitted(draw, words, font(label), box[2] - box[0]),
        font=font(label),
        fill=p.ink,
    )


def _infographic(image: Image.Image, brief: Brief, rng: random.Random) -> None:
    w, h = image.size
    p, draw = brief.palette, ImageDraw.Draw(image)
    m = int(min(w, h) * 0.05)
    meaning = meaning_of(brief.subject, random.Random(rng.random()))
    titles(
        draw,
        (m, m, w - m, m + h // 7),
        meaning.title.upper() if rng.random() < 0.3 else meaning.title,
        meaning.subtitle,
        p,
    )
    top, bottom = m + h // 7, h - m - h // 7
    left_side = rng.random() < 0.5
    split = int(w * 0.34)
    column = (m, top, split, bottom) if left_side else (w - split, top, w - m, bottom)
    chart = (
        (split + m // 2, top, w - m, bottom) if left_side else (m, top, w - split - m // 2, bottom)
    )
    figures = rng.randint(2, 3)
    for k in range(figures):
        y = column[1] + (column[3] - column[1]) * k // figures
        _figure(
            draw, (column[0], y, column[2], y + (column[3] - column[1]) // figures), brief, rng, k
        )
    kind = brief.chart or "donut"
    _panel(image, brief, rng, chart, kind, f"{meaning.measure} by {meaning.dimension.lower()}", "")
    icons, filled = 10, rng.randint(2, 9)
    size = min((w - 2 * m) / (icons * 1.5 + 3), h / 14)
    for k in range(icons):  # the pictogram row: filled of ten
        x, y = m + k * size * 1.5, bottom + m // 2
        colour = p.hue(0) if k < filled else tint(p.hue(0), 0.7)
        draw.ellipse((x + size * 0.3, y, x + size * 0.7, y + size * 0.4), fill=colour)
        draw.rounded_rectangle(
            (x + size * 0.15, y + size * 0.45, x + size * 0.85, y + size), size // 5, fill=colour
        )
    _, label, _ = sizes((0, 0, w, h))
    draw.text(
        (m + icons * size * 1.5, bottom + m // 2 + size * 0.2),
        f"{filled} in 10",
        font=font(label),
        fill=p.ink,
    )


def _dashboard(image: Image.Image, brief: Brief, rng: random.Random) -> None:
    w, h = image.size
    p, draw = brief.palette, ImageDraw.Draw(image)
    meaning = meaning_of(brief.subject, random.Random(rng.random()))
    m, head = int(min(w, h) * 0.035), int(h * 0.1)
    draw.rectangle((0, 0, w, head), fill=p.ink)
    big, label, small = sizes((0, 0, w, h))
    draw.text(
        (m, head // 2 - big * 0.6),
        fitted(draw, meaning.title, font(big), w - 2 * m),
        font=font(big),
        fill=p.paper,
    )
    tiles, tile_h = rng.randint(3, 4), int(h * 0.16)
    tw = (w - m * (tiles + 1)) / tiles
    for k in range(tiles):
        x, y = m + k * (tw + m), head + m
        draw.rounded_rectangle((x, y, x + tw, y + tile_h), m // 2, fill=mix(p.paper, p.ink, 0.05))
        name = ("Total", "Average", "Peak", "Change")[k]
        draw.text((x + m // 2, y + m // 3), name, font=font(small), fill=mix(p.ink, p.paper, 0.4))
        value = f"{rng.uniform(1, 99):.1f}" + rng.choice(("k", "%", ""))
        face = font_to_fit(draw, value, int(tw * 0.5), int(label * 1.7))
        draw.text((x + m // 2, y + m // 3 + small * 1.5), value, font=face, fill=p.ink)
        points = walk(rng, 12, lo=0.1, hi=0.9)
        sx = x + tw * 0.55
        spark = [
            (sx + (tw * 0.4) * i / 11, y + tile_h * (0.85 - 0.5 * v)) for i, v in enumerate(points)
        ]
        draw.line(spark, fill=p.hue(k), width=max(2, w // 300))
    top = head + tile_h + 2 * m
    wide = rng.random() < 0.35 or brief.chart == "multiples"
    main_right = w - m if wide else int(w * 0.64)
    kind = brief.chart or "line"
    _panel(image, brief, rng, (m, top, main_right, h - m), kind, meaning.measure, meaning.subtitle)
    if not wide:
        side = rng.choice(("bar", "donut", "dot")) if kind != "bar" else "donut"
        _panel(
            image,
            brief,
            rng,
            (main_right + m, top, w - m, h - m),
            side,
            f"By {meaning.dimension.lower()}",
            "",
        )


FORMS = {"chart": _single, "infographic": _infographic, "dashboard": _dashboard}


def draw(brief: Brief, rng: random.Random, size: tuple[int, int]) -> Image.Image:
    """The picture of a data-visualisation brief."""
    image = Image.new("RGB", size, brief.palette.paper)
    FORMS.get(brief.form, _single)(image, brief, rng)
    return image
