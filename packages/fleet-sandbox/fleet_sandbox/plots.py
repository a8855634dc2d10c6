"""The chart types the sandbox draws, each into a framed plot box with labelled axes.

Every plot takes a ``Panel`` (canvas, palette, what the data means, a seeded generator)
and a ``Layout``; cartesian plots draw ticks and both axis labels, the others a legend
or a caption in the x-label band. Values are made up, but shaped like data: walks,
seasons, a peak, a trend.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from PIL import Image, ImageDraw

from fleet_sandbox.canvas import font, text_width
from fleet_sandbox.chart_frame import (
    Layout,
    Meaning,
    axis_labels,
    grid,
    legend,
    nice_ticks,
    sizes,
    x_ticks,
)
from fleet_sandbox.palettes import Palette, mix, shade, tint


@dataclass
class Panel:
    """What a plot draws with."""

    image: Image.Image
    draw: ImageDraw.ImageDraw
    palette: Palette
    meaning: Meaning
    rng: random.Random
    log: bool = False
    bands: bool = False


def walk(rng: random.Random, n: int, *, lo: float = 0.2, hi: float = 0.92) -> list[float]:
    """``n`` values between ``lo`` and ``hi`` that move like a measured series."""
    phase, wave, drift = rng.uniform(0, 6.3), rng.uniform(0.1, 0.35), rng.uniform(-0.3, 0.3)
    raw = [
        0.5 + wave * math.sin(phase + k * rng.uniform(0.5, 1.1)) + drift * k / max(1, n)
        for k in range(n)
    ]
    raw = [v + rng.gauss(0, 0.06) for v in raw]
    low, high = min(raw), max(raw)
    span = (high - low) or 1.0
    return [lo + (hi - lo) * (v - low) / span for v in raw]


def line_width(lay: Layout) -> int:
    return max(2, (lay.plot[2] - lay.plot[0]) // 160)


def centres(lay: Layout, n: int) -> list[float]:
    x0, _, x1, _ = lay.plot
    step = (x1 - x0) / max(1, n)
    return [x0 + step * (k + 0.5) for k in range(n)]


def y_of(lay: Layout, v: float) -> float:
    return lay.plot[3] - (lay.plot[3] - lay.plot[1]) * v


def value_axis(c: Panel, lay: Layout) -> float:
    ticks, peak = nice_ticks(c.rng.uniform(8, 9000) ** c.rng.uniform(0.5, 1), c.rng, log=c.log)
    grid(c.draw, lay.plot, c.palette, ticks)
    return peak


def finish(c: Panel, lay: Layout, y: str | None = None, x: str | None = None) -> None:
    axis_labels(c.image, lay, y or c.meaning.measure, x or c.meaning.dimension, c.palette)


def category_rows(c: Panel, lay: Layout, names: list[str]) -> list[float]:
    """Names down the left of the plot; the row centres."""
    x0, y0, _, y1 = lay.plot
    _, _, small = sizes(lay.plot)
    step = (y1 - y0) / max(1, len(names))
    centres = [y0 + step * (k + 0.5) for k in range(len(names))]
    for name, y in zip(names, centres, strict=True):
        w = text_width(c.draw, name, font(small))
        c.draw.text(
            (x0 - w - small // 2, y - small * 0.6), name, font=font(small), fill=c.palette.ink
        )
    return centres


def bar(c: Panel, lay: Layout) -> None:
    m, p = c.meaning, c.palette
    value_axis(c, lay)
    groups = len(m.series) if 1 < len(m.series) <= 3 else 1
    cats = list(m.categories[:14])
    xs = centres(lay, len(cats))
    step = (lay.plot[2] - lay.plot[0]) / len(cats)
    width = step * c.rng.uniform(0.55, 0.8) / groups
    highlight = c.rng.randrange(len(cats)) if c.rng.random() < 0.5 else -1
    for g in range(groups):
        for k, v in enumerate(walk(c.rng, len(cats), lo=0.12, hi=0.95)):
            x = xs[k] - width * groups / 2 + g * width
            colour = p.hue(g) if highlight in (-1, k) else tint(p.hue(g), 0.45)
            c.draw.rounded_rectangle(
                (x, y_of(lay, v), x + width * 0.92, lay.plot[3]),
                max(1, int(width // 8)),
                fill=colour,
            )
    x_ticks(c.draw, lay.plot, p, cats, xs)
    if groups > 1:
        legend(c.draw, (lay.plot[0], lay.plot[1]), m.series[:groups], p.hues, p, sizes(lay.plot)[2])
    finish(c, lay)


def line(c: Panel, lay: Layout, *, stacked: bool = False) -> None:
    m, p = c.meaning, c.palette
    value_axis(c, lay)
    names = list(m.series) or ([m.measure] if stacked is False else ["A", "B", "C"])
    count = min(len(names), 5) if names else c.rng.randint(1, 3)
    if stacked and count < 3:
        names, count = [*names, "Other", "Rest"][:3], 3
    cats = list(m.categories)
    xs = centres(lay, len(cats))
    floor = [0.0] * len(cats)
    for s in range(count):
        values = walk(c.rng, len(cats), lo=0.1, hi=0.9 / (count if stacked else 1))
        if stacked:
            top = [f + v for f, v in zip(floor, values, strict=True)]
            shape = [(x, y_of(lay, v)) for x, v in zip(xs, top, strict=True)]
            shape += [(x, y_of(lay, v)) for x, v in reversed(list(zip(xs, floor, strict=True)))]
            c.draw.polygon(shape, fill=tint(p.hue(s), 0.15 * s))
            floor = top
            continue
        points = [(x, y_of(lay, v)) for x, v in zip(xs, values, strict=True)]
        if c.bands or (s == 0 and c.rng.random() < 0.25):
            spread = (lay.plot[3] - lay.plot[1]) * 0.06
            band = [(x, y - spread) for x, y in points] + [(x, y + spread) for x, y in points[::-1]]
            c.draw.polygon(band, fill=tint(p.hue(s), 0.75))
        c.draw.line(points, fill=p.hue(s), width=line_width(lay), joint="curve")
        r = line_width(lay) * 1.3
        for x, y in points[:: max(1, len(points) // 12)]:
            c.draw.ellipse((x - r, y - r, x + r, y + r), fill=p.hue(s))
    if "Before" in names:
        x = xs[len(xs) // 2]
        for y in range(lay.plot[1], lay.plot[3], 12):
            c.draw.line((x, y, x, y + 6), fill=mix(p.ink, p.paper, 0.4), width=2)
    x_ticks(c.draw, lay.plot, p, cats, xs)
    if count > 1:
        legend(c.draw, (lay.plot[0] + 8, lay.plot[1]), names[:count], p.hues, p, sizes(lay.plot)[2])
    finish(c, lay, y=m.measure + (" (log)" if c.log else ""))


def area(c: Panel, lay: Layout) -> None:
    line(c, lay, stacked=True)


def histogram(c: Panel, lay: Layout) -> None:
    p = c.palette
    value_axis(c, lay)
    bins = c.rng.randint(12, 22)
    centre, width = c.rng.uniform(0.3, 0.7), c.rng.uniform(0.12, 0.3)
    x0, _, x1, y1 = lay.plot
    step = (x1 - x0) / bins
    for k in range(bins):
        v = math.exp(-(((k + 0.5) / bins - centre) ** 2) / (2 * width**2)) * 0.9
        v = max(0.03, v + c.rng.gauss(0, 0.04))
        c.draw.rectangle((x0 + k * step, y_of(lay, v), x0 + (k + 1) * step - 1, y1), fill=p.hue(0))
    unit = c.rng.choice((1, 2, 5, 10, 20))
    labels = [f"{k * unit}" for k in range(bins + 1)]
    x_ticks(c.draw, lay.plot, p, labels[::3], [x0 + k * step * 3 for k in range(len(labels[::3]))])
    finish(c, lay, y="Count", x=c.meaning.measure)


def scatter(c: Panel, lay: Layout) -> None:
    m, p = c.meaning, c.palette
    value_axis(c, lay)
    x0, _, x1, _ = lay.plot
    slope, r = c.rng.uniform(-0.6, 0.9), max(3, (x1 - x0) // 90)
    groups = max(1, min(3, len(m.series)))
    for _ in range(c.rng.randint(40, 110)):
        u = c.rng.random()
        v = min(0.97, max(0.03, 0.5 + slope * (u - 0.5) + c.rng.gauss(0, 0.12)))
        x, y = x0 + u * (x1 - x0), y_of(lay, v)
        size = r * c.rng.uniform(0.8, 2.2 if "bubble" in m.title.lower() else 1.2)
        colour = p.hue(c.rng.randrange(groups))
        c.draw.ellipse((x - size, y - size, x + size, y + size), fill=colour, outline=p.paper)
    if c.rng.random() < 0.7:
        c.draw.line(
            (x0, y_of(lay, 0.5 - slope / 2), x1, y_of(lay, 0.5 + slope / 2)), fill=p.ink, width=2
        )
    unit = c.rng.choice((10, 20, 50, 250, 1000))
    ticks = [str(k * unit) for k in range(6)]
    x_ticks(c.draw, lay.plot, p, ticks, [x0 + (x1 - x0) * k / 5 for k in range(6)])
    finish(c, lay, x=(m.versus or m.dimension).capitalize())


def number_axis(c: Panel, lay: Layout) -> None:
    x0, _, x1, y1 = lay.plot
    top = c.rng.choice((10, 50, 100, 500, 1000))
    labels = [f"{top * k // 4}" for k in range(5)]
    x_ticks(c.draw, lay.plot, c.palette, labels, [x0 + (x1 - x0) * k / 4 for k in range(5)])
    c.draw.line((x0, y1, x1, y1), fill=mix(c.palette.paper, c.palette.ink, 0.6), width=2)


def beeswarm(c: Panel, lay: Layout) -> None:
    p, m = c.palette, c.meaning
    names = list(m.series or m.categories)[: c.rng.randint(3, 5)]
    rows = category_rows(c, lay, names)
    x0, y0, x1, y1 = lay.plot
    r = max(3, (x1 - x0) // 110)
    band = (y1 - y0) / len(names) * 0.42
    for k, y in enumerate(rows):
        centre = c.rng.uniform(0.3, 0.7)
        for _ in range(c.rng.randint(25, 45)):
            u = min(0.98, max(0.02, c.rng.gauss(centre, 0.14)))
            dy = c.rng.uniform(-band, band) * (1 - abs(u - centre) * 2)
            x = x0 + u * (x1 - x0)
            c.draw.ellipse((x - r, y + dy - r, x + r, y + dy + r), fill=p.hue(k), outline=p.paper)
    number_axis(c, lay)
    finish(c, lay, y=m.dimension, x=m.measure)


def dot(c: Panel, lay: Layout) -> None:
    p, m = c.palette, c.meaning
    names = list(m.categories)[:9]
    rows = category_rows(c, lay, names)
    x0, _, x1, _ = lay.plot
    r = max(4, (x1 - x0) // 45)
    paired = len(m.series) == 2 or c.rng.random() < 0.4
    for y in rows:
        c.draw.line((x0, y, x1, y), fill=mix(p.paper, p.ink, 0.1), width=1)
        a = c.rng.uniform(0.1, 0.9)
        b = min(0.95, max(0.05, a + c.rng.uniform(-0.3, 0.3)))
        if paired:
            c.draw.line(
                (x0 + a * (x1 - x0), y, x0 + b * (x1 - x0), y),
                fill=tint(p.hue(0), 0.5),
                width=r // 2,
            )
            c.draw.ellipse(
                (x0 + b * (x1 - x0) - r, y - r, x0 + b * (x1 - x0) + r, y + r), fill=p.hue(1)
            )
        c.draw.ellipse(
            (x0 + a * (x1 - x0) - r, y - r, x0 + a * (x1 - x0) + r, y + r), fill=p.hue(0)
        )
    number_axis(c, lay)
    finish(c, lay, y=m.dimension, x=m.measure)


def diverging(c: Panel, lay: Layout) -> None:
    p, m = c.palette, c.meaning
    names = list(m.categories)[:10]
    rows = category_rows(c, lay, names)
    x0, y0, x1, y1 = lay.plot
    mid, half = (x0 + x1) / 2, (y1 - y0) / len(names) * 0.35
    for y in rows:
        v = c.rng.uniform(-0.95, 0.95)
        colour = p.hue(0) if v >= 0 else p.hue(1)
        c.draw.rectangle(
            (min(mid, mid + v * (x1 - mid)), y - half, max(mid, mid + v * (x1 - mid)), y + half),
            fill=colour,
        )
    c.draw.line((mid, y0, mid, y1), fill=p.ink, width=2)
    labels = ["-50%", "-25%", "0", "+25%", "+50%"]
    x_ticks(c.draw, lay.plot, p, labels, [x0 + (x1 - x0) * k / 4 for k in range(5)])
    finish(c, lay, y=m.dimension, x=f"Change in {m.measure.lower()}")


def slope(c: Panel, lay: Layout, *, bump: bool = False) -> None:
    p, m = c.palette, c.meaning
    x0, y0, x1, y1 = lay.plot
    stops = list(m.categories[:: max(1, len(m.categories) // 6)])[:7]
    if not bump:
        first = c.rng.choice((2010, 2014, 2015, 2018))
        stops = list(m.series) if len(m.series) == 2 else [str(first), str(first + 10)]
        stops = [m.categories[0], m.categories[-1]] if m.dimension == "Year" else stops
    names = list(m.series if len(m.series) > 2 else m.categories)[: c.rng.randint(4, 6)]
    if bump:
        grid(c.draw, lay.plot, p, [f"#{k}" for k in range(len(names), 0, -1)], lines=False)
    else:
        value_axis(c, lay)
    xs = [x0 + (x1 - x0) * (0.08 + 0.84 * k / max(1, len(stops) - 1)) for k in range(len(stops))]
    ranks = [c.rng.sample(range(len(names)), len(names)) for _ in stops]
    for s in range(len(names)):
        if bump:
            ys = [y0 + (y1 - y0) * (r[s] + 0.5) / len(names) for r in ranks]
        else:
            a = c.rng.uniform(0.15, 0.9)
            ys = [y_of(lay, a), y_of(lay, min(0.95, max(0.05, a + c.rng.uniform(-0.4, 0.4))))]
        colour = p.hue(s) if c.rng.random() < 0.7 or bump else tint(p.ink, 0.6)
        c.draw.line(list(zip(xs, ys, strict=True)), fill=colour, width=line_width(lay) * 2)
        rr = line_width(lay) * 2
        for x, y in zip(xs, ys, strict=True):
            c.draw.ellipse((x - rr, y - rr, x + rr, y + rr), fill=colour)
        if not bump:
            c.draw.text(
                (xs[-1] + rr * 2, ys[-1] - rr * 2),
                names[s],
                font=font(sizes(lay.plot)[2]),
                fill=colour,
            )
    x_ticks(c.draw, lay.plot, p, stops, xs)
    when = "Period" if stops[0] == "Before" else m.dimension if m.temporal else "Year"
    finish(c, lay, y="Rank" if bump else m.measure, x=when)


def bump(c: Panel, lay: Layout) -> None:
    slope(c, lay, bump=True)


def ridgeline(c: Panel, lay: Layout) -> None:
    p, m = c.palette, c.meaning
    names = list(m.series or m.categories)[:7]
    rows = category_rows(c, lay, names)
    x0, y0, x1, y1 = lay.plot
    height = (y1 - y0) / len(names) * 1.6
    for k, base in enumerate(rows):
        centre, width = c.rng.uniform(0.25, 0.75), c.rng.uniform(0.08, 0.2)
        curve = [
            (
                x0 + (x1 - x0) * i / 40,
                base
                + (y1 - y0) / len(names) * 0.45
                - height * math.exp(-((i / 40 - centre) ** 2) / (2 * width**2)),
            )
            for i in range(41)
        ]
        floor = base + (y1 - y0) / len(names) * 0.45
        c.draw.polygon(
            [(x0, floor), *curve, (x1, floor)],
            fill=tint(p.hue(k), 0.35),
            outline=shade(p.hue(k), 0.2),
        )
    number_axis(c, lay)
    finish(c, lay, y=m.dimension, x=m.measure)
