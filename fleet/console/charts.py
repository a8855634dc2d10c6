"""Charts drawn by pygal as inline SVG: no script, no CDN, the page's own styles."""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence

import pygal
from markupsafe import Markup
from pygal.style import Style

# pygal puts a legacy import hook (``pygal.maps`` plugins, which the console does not use)
# on sys.meta_path; it lacks find_spec, so every later import warns. Take it off again.
sys.meta_path[:] = [hook for hook in sys.meta_path if type(hook).__name__ != "PluginImportFixer"]

STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#222",
    foreground_strong="#111",
    foreground_subtle="#777",
    colors=("#3b7d3b", "#b0b0b0", "#c0392b", "#e0a800", "#2b6cb0", "#8e44ad"),
    font_family="system-ui, sans-serif",
)


LINES = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#222",
    foreground_strong="#111",
    foreground_subtle="#777",
    colors=("#3b7d3b", "#2b6cb0"),
    font_family="system-ui, sans-serif",
)


def _svg(chart: pygal.graph.graph.Graph) -> Markup:
    return Markup(chart.render(is_unicode=True, disable_xml_declaration=True))


def count_ticks(top: float, most: int = 6) -> list[int]:
    """Whole-number ticks from 0 to at least ``top`` (a count has no 0.8 tick), at most
    ``most`` of them, on a step of 1, 2 or 5 times a power of ten."""
    top = max(1, math.ceil(top))
    step = 1
    while math.ceil(top / step) > most - 1:
        step = _next_step(step)
    return list(range(0, math.ceil(top / step) * step + 1, step))


def _next_step(step: int) -> int:
    """1, 2, 5, 10, 20, 50, ..."""
    digits = int(10 ** (len(str(step)) - 1))
    lead = step // digits
    return {1: 2, 2: 5, 5: 10}[lead] * digits


def _drawn(
    chart: pygal.graph.graph.Graph,
    labels: list[str],
    series: Mapping[str, Sequence[float]],
    *,
    top: float,
) -> Markup:
    chart.x_labels = labels
    chart.y_labels = count_ticks(top)
    for name, values in series.items():
        chart.add(name, values)
    return _svg(chart)


def _options(title: str, height: int) -> dict[str, object]:
    """What every chart of the console shares: no script, its width, the legend below."""
    return {
        "js": [],
        "max_scale": 5,
        "height": height,
        "width": 640,
        "legend_at_bottom": True,
        "title": title,
    }


def stacked_bars(
    title: str, groups: list[str], series: dict[str, list[int]], *, height: int = 260
) -> Markup:
    """One bar per group, stacked by series (kinds by status)."""
    chart = pygal.StackedBar(style=STYLE, **_options(title, height))
    stacked = [sum(column) for column in zip(*series.values(), strict=True)] if series else []
    return _drawn(chart, groups, series, top=max(stacked, default=0))


def against(title: str, labels: list[str], series: dict[str, list[float]]) -> Markup:
    """Lines over the same labels (actual against expected)."""
    chart = pygal.Line(
        style=LINES,
        show_minor_x_labels=False,
        x_labels_major_every=3,
        dots_size=2,
        **_options(title, 220),
    )
    return _drawn(chart, labels, series, top=_highest(series))


def side_by_side(
    title: str, groups: list[str], series: dict[str, list[float]], *, height: int = 280
) -> Markup:
    """Bars side by side in each group (what was done beside what was expected)."""
    chart = pygal.Bar(style=LINES, **_options(title, height))
    return _drawn(chart, groups, series, top=_highest(series))


def _highest(series: Mapping[str, Sequence[float]]) -> float:
    return max((value for values in series.values() for value in values), default=0)
