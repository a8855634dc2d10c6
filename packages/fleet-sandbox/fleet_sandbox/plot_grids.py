"""Chart types that fill their plot: heatmaps, calendars, pies and donuts, maps, treemaps.

Same contract as ``fleet_sandbox.plots``: a ``Panel`` and a ``Layout`` in, the plot and
its labels drawn.
"""

from __future__ import annotations

import math

from fleet_sandbox.canvas import font, text_width
from fleet_sandbox.chart_frame import MONTHS, WEEKDAYS, Layout, sizes, x_ticks
from fleet_sandbox.palettes import tint
from fleet_sandbox.plots import Panel, category_rows, finish, walk


def heatmap(c: Panel, lay: Layout, *, calendar: bool = False) -> None:
    p, m = c.palette, c.meaning
    if calendar:
        rows, cols = list(WEEKDAYS), [""] * c.rng.randint(20, 30)
        y_name, x_name = "Weekday", "Week"
    elif m.dimension == "Weekday":
        rows, cols = list(WEEKDAYS), [f"{h:02d}" for h in range(6, 24)]
        y_name, x_name = "Weekday", "Hour"
    elif m.temporal:
        cols = list(m.categories)
        rows = list(m.series or WEEKDAYS)[:8]
        y_name, x_name = "City" if m.series else "Weekday", m.dimension
    else:  # places or kinds down the side, the months across
        cols, rows = list(MONTHS), list(m.series or m.categories)[:8]
        y_name, x_name = m.dimension, "Month"
    row_y = category_rows(c, lay, rows)
    x0, y0, x1, y1 = lay.plot
    cw, ch = (x1 - x0) / len(cols), (y1 - y0) / len(rows)
    gap = max(1, int(min(cw, ch) * (0.1 if calendar else 0.05)))
    row_level = walk(c.rng, len(rows), lo=0.1, hi=0.9)
    col_level = walk(c.rng, len(cols), lo=0.1, hi=0.9)
    diverging = "diverging" in m.title.lower() or c.rng.random() < 0.2
    for r, y in enumerate(row_y):
        for k in range(len(cols)):
            v = 0.55 * row_level[r] + 0.45 * col_level[k] + c.rng.gauss(0, 0.07)
            box = (x0 + k * cw + gap, y - ch / 2 + gap, x0 + (k + 1) * cw - gap, y + ch / 2 - gap)
            c.draw.rectangle(box, fill=p.ramp(v, diverging=diverging))
    labels = [
        MONTH_INITIALS[k % 12] if calendar and k % 4 == 0 else ("" if calendar else t)
        for k, t in enumerate(cols)
    ]
    x_ticks(c.draw, lay.plot, p, labels, [x0 + cw * (k + 0.5) for k in range(len(cols))])
    keys = [p.ramp(t / 4, diverging=diverging) for t in range(5)]
    size = sizes(lay.plot)[2]
    for k, colour in enumerate(keys):  # the colour scale, top right
        c.draw.rectangle(
            (
                x1 - (5 - k) * size * 1.6,
                lay.title[3] - size * 1.3,
                x1 - (4 - k) * size * 1.6,
                lay.title[3] - size * 0.3,
            ),
            fill=colour,
        )
    finish(c, lay, y=y_name, x=x_name)


MONTH_INITIALS = "JFMAMJJASOND"


def calendar(c: Panel, lay: Layout) -> None:
    heatmap(c, lay, calendar=True)


def _slices(c: Panel, lay: Layout, *, hole: float) -> None:
    p, m = c.palette, c.meaning
    x0, y0, x1, y1 = lay.plot
    names = list(m.series or m.categories)[: c.rng.randint(3, 5)]
    values = [c.rng.uniform(1, 4) for _ in names]
    total = sum(values)
    r = min(x1 - x0, y1 - y0) * 0.42
    cx, cy = x0 + r * 1.1, (y0 + y1) / 2
    start = c.rng.uniform(-90, 0)
    for k, v in enumerate(values):
        sweep = 360 * v / total
        c.draw.pieslice(
            (cx - r, cy - r, cx + r, cy + r),
            start,
            start + sweep,
            fill=p.hue(k),
            outline=p.paper,
            width=3,
        )
        start += sweep
    _, label, small = sizes(lay.plot)
    if hole:
        c.draw.ellipse((cx - r * hole, cy - r * hole, cx + r * hole, cy + r * hole), fill=p.paper)
        share = f"{round(100 * max(values) / total)}%"
        w = text_width(c.draw, share, font(label * 2))
        c.draw.text((cx - w / 2, cy - label * 1.2), share, font=font(label * 2), fill=p.ink)
    y = cy - len(names) * small * 1.1
    for k, name in enumerate(names):
        c.draw.rounded_rectangle(
            (cx + r * 1.25, y, cx + r * 1.25 + small, y + small), small // 4, fill=p.hue(k)
        )
        c.draw.text(
            (cx + r * 1.25 + small * 1.6, y - small * 0.1),
            f"{name} {round(100 * values[k] / total)}%",
            font=font(small),
            fill=p.ink,
        )
        y += small * 2.2
    finish(c, lay, y=" ", x=f"Share of {m.measure.lower()}")


def pie(c: Panel, lay: Layout) -> None:
    _slices(c, lay, hole=0)


def donut(c: Panel, lay: Layout) -> None:
    _slices(c, lay, hole=0.55)


def choropleth(c: Panel, lay: Layout) -> None:
    p = c.palette
    x0, y0, x1, y1 = lay.plot
    cols, rows = c.rng.randint(9, 13), c.rng.randint(7, 10)
    r = min((x1 - x0) / (cols * 1.75), (y1 - y0) / (rows * 1.55))
    cx, cy, spread = cols / 2, rows / 2, c.rng.uniform(0.65, 0.95)
    lean = c.rng.uniform(-0.5, 0.5)
    for j in range(rows):
        for i in range(cols):
            dx, dy = (i - cx + lean * (j - cy)) / cx, (j - cy) / cy
            if dx * dx + dy * dy > spread + c.rng.uniform(-0.2, 0.1):
                continue
            hx, hy = x0 + r * (1 + i * 1.75 + (j % 2) * 0.87), y0 + r * (1 + j * 1.5)
            v = 0.5 + 0.4 * math.sin(i * 0.7 + j * 0.4 + lean * 4) + c.rng.gauss(0, 0.1)
            c.draw.regular_polygon((hx, hy, r), 6, rotation=30, fill=p.ramp(v), outline=p.paper)
    finish(c, lay, y=" ", x=f"Map: {c.meaning.measure.lower()} by district")


def treemap(c: Panel, lay: Layout) -> None:
    p = c.palette
    names = list(c.meaning.categories)[:8]
    values = sorted((c.rng.uniform(1, 5) for _ in names), reverse=True)
    x0, y0, x1, y1 = (float(v) for v in lay.plot)
    small = sizes(lay.plot)[2]
    for k, (name, v) in enumerate(zip(names, values, strict=True)):
        share = v / sum(values[k:])
        if (x1 - x0) > (y1 - y0):
            box, x0 = (x0, y0, x0 + (x1 - x0) * share, y1), x0 + (x1 - x0) * share
        else:
            box, y0 = (x0, y0, x1, y0 + (y1 - y0) * share), y0 + (y1 - y0) * share
        c.draw.rectangle(
            box, fill=p.hue(k) if k < len(p.hues) else tint(p.hue(k), 0.4), outline=p.paper, width=3
        )
        c.draw.text(
            (box[0] + small * 0.5, box[1] + small * 0.4), name, font=font(small), fill=p.paper
        )
    finish(c, lay, y=" ", x=f"{c.meaning.measure} by {c.meaning.dimension.lower()}")
