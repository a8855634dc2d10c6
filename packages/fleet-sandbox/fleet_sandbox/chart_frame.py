"""What a chart's subject means and the frame around a plot: title, axes, ticks, labels.

"bike rentals per hour in five cities" reads as a measure ("Bike rentals"), a dimension
(hours, so a time axis), and series (five cities). ``frame`` draws the title and subtitle,
gridlines, ticks and both axis labels around a plot box, and returns the box.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw

from fleet_sandbox.canvas import Box, fitted, font, font_to_fit, text_width, vertical_text
from fleet_sandbox.palettes import RGB, Palette, mix

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
CITIES = ("London", "Paris", "Lagos", "Lima", "Osaka", "Oslo", "Quito", "Pune", "Accra", "Porto")
PLACES = ("North", "South", "East", "West", "Centre", "Riverside", "Old Town", "Harbour")
GENRES = ("Drama", "Comedy", "Jazz", "Folk", "Opera", "Rock", "Dance", "Sci-fi")
MODES = ("Bus", "Bike", "Car", "Walk", "Train", "Tram", "Ferry")
AGES = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
SEASONS = ("Winter", "Spring", "Summer", "Autumn")
HOURS = tuple(f"{h:02d}h" for h in range(24))
# Words of a dimension phrase, in the order they are tried, and what they mean.
DIMENSIONS: tuple[tuple[str, str, Sequence[str]], ...] = (
    (r"\bhours?\b|\ba day\b", "Hour of day", HOURS),
    (r"\bweekdays?\b|\bweek\b", "Weekday", WEEKDAYS),
    (r"\bmonths?\b", "Month", MONTHS),
    (r"\bseasons?\b", "Season", SEASONS),
    (r"\bcit(?:y|ies)\b", "City", CITIES),
    (r"\bdistricts?\b|\bneighbourhoods?\b|\bregions?\b", "District", PLACES),
    (r"\bgenres?\b", "Genre", GENRES),
    (r"\bmodes?\b", "Mode", MODES),
    (r"\bages?\b", "Age group", AGES),
    (r"\bstorms?\b", "Days after a storm", tuple(f"D+{d}" for d in range(10))),
)
TEMPORAL = frozenset({"Hour of day", "Weekday", "Month", "Season", "Year", "Days after a storm"})


@dataclass(frozen=True)
class Meaning:
    """A chart subject read as data: a measure along a dimension, perhaps several series."""

    title: str
    subtitle: str
    measure: str
    dimension: str
    categories: tuple[str, ...]
    series: tuple[str, ...]
    versus: str | None = None  # "rent against wages": the second measure

    @property
    def temporal(self) -> bool:
        return self.dimension in TEMPORAL


def _years(text: str, rng: random.Random) -> tuple[str, ...]:
    start = re.search(r"\b(19|20)(\d\d)\b", text)
    first = int(start.group(0)) if start else rng.choice((2012, 2014, 2015, 2016))
    count = 10 if re.search(r"\bten years\b|\bdecade\b", text) else max(6, 2025 - first)
    return tuple(str(first + k) for k in range(min(count, 12)))


def meaning_of(subject: str, rng: random.Random) -> Meaning:
    """Read a chart subject; what it leaves open is drawn from ``rng``."""
    head = re.split(r"\b(?:by|per|over|across|against|after|in|since|for|split|before)\b", subject)
    measure = head[0].strip(" ,") or "value"
    rest = subject[len(head[0]) :]
    versus = None
    if " against " in subject:
        versus = subject.split(" against ", 1)[1].split(" ")[0]
    dimension, labels = "Year", _years(rest, rng)
    found = [
        (m.start(), name, values)
        for pattern, name, values in DIMENSIONS
        if (m := re.search(pattern, rest))
    ]
    if found:  # the dimension named first
        _, dimension, named = min(found, key=lambda f: f[0])
        labels = tuple(named)
    if dimension == "Hour of day" and len(labels) > 12 and rng.random() < 0.5:
        labels = labels[6:22]
    if dimension in {"City", "District", "Genre", "Mode"}:
        labels = tuple(rng.sample(list(labels), rng.randint(4, min(7, len(labels)))))
    series: tuple[str, ...] = ()
    if re.search(r"\bfive cities\b", rest):
        series = tuple(rng.sample(CITIES, 5))
    elif "weekend and weekday" in rest:
        series = ("Weekday", "Weekend")
    elif "before and after" in rest:
        series = ("Before", "After")
    per_capita = " per capita" if "per capita" in rest else ""
    place = re.search(r"\bin ([A-Z]?[a-z]+(?: [a-z]+)?)$", subject)
    subtitle_bits = [f"{labels[0]} to {labels[-1]}" if dimension == "Year" else f"by {dimension}"]
    if place and "cities" not in place.group(1):
        subtitle_bits.append(place.group(1).title())
    return Meaning(
        title=subject[:1].upper() + subject[1:],
        subtitle=" · ".join(subtitle_bits),
        measure=(measure[:1].upper() + measure[1:] + per_capita)[:40],
        dimension=dimension,
        categories=labels,
        series=series,
        versus=versus,
    )


@dataclass(frozen=True)
class Layout:
    """Where a chart's parts go on a canvas."""

    title: Box
    plot: Box
    y_label: Box
    x_label: Box


def layout(box: Box, *, scale: float) -> Layout:
    """Split ``box`` into title band, plot, and the two axis-label bands."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    title_h = int(max(h * 0.14, 26 * scale))
    label = int(max(min(w, h) * 0.05, 10 * scale))
    tick = int(max(min(w, h) * 0.08, 16 * scale))
    return Layout(
        title=(x0, y0, x1, y0 + title_h),
        plot=(x0 + label + tick, y0 + title_h + label // 2, x1 - label // 2, y1 - label - tick),
        y_label=(x0, y0 + title_h, x0 + label, y1 - label - tick),
        x_label=(x0 + label + tick, y1 - label, x1, y1),
    )


def sizes(box: Box) -> tuple[int, int, int]:
    """Font sizes for title, labels and ticks in a box."""
    side = min(box[2] - box[0], box[3] - box[1])
    return max(7, round(side * 0.06)), max(6, round(side * 0.042)), max(6, round(side * 0.035))


def titles(draw: ImageDraw.ImageDraw, band: Box, title: str, subtitle: str, p: Palette) -> None:
    """The title, and under it the subtitle in a lighter ink."""
    big, small, _ = sizes((band[0], band[1], band[2], band[1] + (band[3] - band[1]) * 7))
    width = band[2] - band[0]
    y = band[1] + (band[3] - band[1]) // 6
    face = font_to_fit(draw, title, width, big)
    draw.text((band[0], y), fitted(draw, title, face, width), font=face, fill=p.ink)
    draw.text(
        (band[0], y + int(big * 1.3)),
        fitted(draw, subtitle, font(small), width),
        font=font(small),
        fill=mix(p.ink, p.paper, 0.45),
    )


def axis_labels(image: Image.Image, lay: Layout, y_text: str, x_text: str, p: Palette) -> None:
    """The y-axis label (turned up the left edge) and the x-axis label (under the ticks)."""
    draw = ImageDraw.Draw(image)
    _, label, _ = sizes(lay.plot)
    face = font(label)
    ybox, xbox = lay.y_label, lay.x_label
    y_text = fitted(draw, y_text, face, ybox[3] - ybox[1])
    if y_text:
        turned = vertical_text(y_text, face, p.ink)
        at = (ybox[0], (ybox[1] + ybox[3] - turned.height) // 2)
        image.paste(turned, at, turned)
    x_text = fitted(draw, x_text, face, xbox[2] - xbox[0])
    x = (xbox[0] + xbox[2] - text_width(draw, x_text, face)) // 2
    draw.text((x, xbox[1]), x_text, font=face, fill=p.ink)


def grid(
    draw: ImageDraw.ImageDraw, plot: Box, p: Palette, ticks: Sequence[str], *, lines: bool = True
) -> None:
    """Horizontal gridlines with y tick labels (bottom to top), and the baseline."""
    x0, y0, x1, y1 = plot
    _, _, small = sizes(plot)
    face = font(small)
    faint, line = mix(p.paper, p.ink, 0.13), max(1, (x1 - x0) // 300)
    for k, label in enumerate(ticks):
        y = y1 - (y1 - y0) * k // max(1, len(ticks) - 1)
        if lines and k:
            draw.line((x0, y, x1, y), fill=faint, width=line)
        w = text_width(draw, label, face)
        draw.text((x0 - w - small // 2, y - small * 0.6), label, font=face, fill=p.ink)
    draw.line((x0, y1, x1, y1), fill=mix(p.paper, p.ink, 0.6), width=line * 2)


def x_ticks(
    draw: ImageDraw.ImageDraw, plot: Box, p: Palette, labels: Sequence[str], centres: list[float]
) -> None:
    """Category labels under the plot, thinned so they do not overlap."""
    _, _, small = sizes(plot)
    face = font(small)
    widest = max((text_width(draw, t, face) for t in labels), default=1) + small
    room = (plot[2] - plot[0]) / max(1, len(labels))
    every = max(1, int(widest // max(1.0, room)) + (1 if widest > room else 0))
    for k, (label, x) in enumerate(zip(labels, centres, strict=False)):
        if k % every:
            continue
        w = text_width(draw, label, face)
        draw.text((x - w / 2, plot[3] + small * 0.4), label, font=face, fill=p.ink)


def nice_ticks(top: float, rng: random.Random, *, log: bool = False) -> tuple[list[str], float]:
    """Tick labels from zero to a round maximum above ``top``, and that maximum."""
    if log:
        return ["1", "10", "100", "1k", "10k"], 4.0
    step = 10 ** max(0, len(str(int(max(1.0, top)))) - 1)
    peak = (int(top // step) + 1) * step
    unit = rng.choice(("", "", "%")) if peak <= 100 else ""
    count = 4 if peak % 4 == 0 else 5
    return [f"{peak * k / count:g}{unit}" for k in range(count + 1)], float(peak)


def legend(
    draw: ImageDraw.ImageDraw,
    at: tuple[int, int],
    names: Sequence[str],
    colours: Sequence[RGB],
    p: Palette,
    size: int,
) -> None:
    """Coloured keys and names in a row from ``at``."""
    x, y = at
    face = font(size)
    for name, colour in zip(names, colours, strict=False):
        draw.rounded_rectangle((x, y, x + size, y + size), size // 4, fill=colour)
        draw.text((x + size * 1.4, y - size * 0.1), name, font=face, fill=p.ink)
        x += int(size * 2.4 + text_width(draw, name, face))
