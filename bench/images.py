"""Benchmark: do the sandbox's pictures show what their prompts name, and does one
persona's stream of pictures vary? Pure, no servers; about a minute at the defaults.

For each of the six personas, ``--count`` posts written by the offline writer (``--authors``
authors, the rest by nonce) are rendered at ``--size`` pixels, and JSON is printed:

- ``distinct_hash_share``: distinct 64-bit difference hashes (dHash: a 9 x 8 greyscale
  thumbnail, one bit per horizontal step) over the pictures; ``near_duplicate_share``:
  pictures whose nearest other picture is within ``NEAR_BITS`` bits of it;
- ``palette_match_share``: among prompts that name a palette of the writers' bank, the
  share whose *pixels* are in that palette's hue families (table ``FAMILIES`` below, the
  bench's own reading of the colour names): some colour shown (at least 0.5 % chromatic
  pixels, max - min of RGB >= ``CHROMA``) and at least 90 % of the chromatic pixels inside
  the families; an achromatic palette ("ink and paper") passes with under 5 % chromatic
  pixels, "muted pastel" with 90 % of them light (HSV value >= 0.55);
- ``heatmap_pixels_share``: among prompts naming a heatmap, the share whose pixels show one
  (``looks_like_heatmap``: rows crossing a block of abutting cells of many colours);
- ``chart_match_share``: among prompts naming a chart type (the bench's table
  ``CHART_WORDS``), the share whose decision record (``images.plan``) drew that type;
  ``scene_recognised_share``: pictures whose subject the renderer recognised (a named
  product, place, figure, screen), from the same record; both null for a renderer
  without ``plan``;
- ``ms_per_image``: the mean wall time of ``images.render`` (drawing and PNG encoding).

    python -m bench.images [--count 200] [--size 512] [--authors 20]

Run it with ``PYTHONPATH`` pointing at another checkout to measure that renderer.
"""

from __future__ import annotations

import argparse
import colorsys
import io
import json
import re
import statistics
import time
from collections.abc import Sequence

from PIL import Image

from fleet.content.offline.writer import OfflineWriter
from fleet.content.port import Author
from fleet.infra.persona_files import PersonaCatalogue
from fleet_sandbox import images

NEAR_BITS = 4
CHROMA = 24  # sage, cream and dusty pink are muted colours: a low bar for "coloured"
# Hue families (degrees, start to end, may wrap through 0) of the palettes the writers name.
FAMILIES: dict[str, tuple[tuple[int, int], ...]] = {
    "teal and orange": ((150, 200), (10, 45)),
    "monochrome blue": ((195, 235),),
    "warm earth": ((5, 45),),
    "black and gold": ((35, 55),),
    "sage and cream": ((60, 140), (30, 60)),
    "primary": ((345, 15), (40, 65), (205, 245)),
    "dusty pink and grey": ((320, 15),),
    "sepia": ((15, 45),),
    "acid green and violet": ((65, 110), (250, 290)),
    "terracotta": ((0, 30),),
    "mint and coral": ((145, 180), (0, 25)),
    "midnight and amber": ((200, 240), (30, 50)),
}
ACHROMATIC = ("ink and paper",)
PASTEL = ("muted pastel",)
PALETTE_NAMES = (*FAMILIES, *ACHROMATIC, *PASTEL)
CHART_WORDS = {
    "calendar heatmap": "calendar", "heatmap": "heatmap", "heat map": "heatmap",
    "choropleth": "choropleth", "slope chart": "slope", "bump chart": "bump",
    "ridgeline": "ridgeline", "dot plot": "dot", "beeswarm": "beeswarm",
    "stacked area": "area", "small multiples": "multiples", "log scale": "line",
    "diverging": "diverging", "scatter": "scatter", "bar chart": "bar", "line chart": "line",
    "pie chart": "pie", "donut": "donut", "histogram": "histogram", "treemap": "treemap",
}  # fmt: skip


def dhash(picture: Image.Image) -> int:
    """A 64-bit difference hash: is each pixel of a 9 x 8 grey thumbnail brighter than
    its right neighbour."""
    grey = picture.convert("L").resize((9, 8), Image.Resampling.BOX)
    values = list(grey.tobytes())
    bits = 0
    for row in range(8):
        for col in range(8):
            bits = bits << 1 | (values[row * 9 + col] > values[row * 9 + col + 1])
    return bits


def _named(text: str, table: Sequence[str]) -> str | None:
    """The leftmost (then longest) name of ``table`` in ``text``."""
    found = re.search(r"\b(" + "|".join(sorted(table, key=len, reverse=True)) + r")\b", text)
    return found.group(1) if found else None


def expected_chart(prompt: str) -> str | None:
    """The chart type a prompt names, by the bench's own table."""
    name = _named(prompt.lower(), list(CHART_WORDS))
    return CHART_WORDS[name] if name else None


def _in(hue: float, span: tuple[int, int]) -> bool:
    start, end = span
    return start <= hue <= end if start <= end else hue >= start or hue <= end


def palette_match(picture: Image.Image, name: str) -> bool:
    """Whether the picture's pixels are in the hue families of the named palette."""
    raw = picture.convert("RGB").resize((96, 96), Image.Resampling.BOX).tobytes()
    pixels = [(raw[i], raw[i + 1], raw[i + 2]) for i in range(0, len(raw), 3)]
    chromatic = [(r, g, b) for r, g, b in pixels if max(r, g, b) - min(r, g, b) >= CHROMA]
    if name in ACHROMATIC:
        return len(chromatic) < 0.05 * len(pixels)
    if len(chromatic) < 0.005 * len(pixels):
        return False
    if name in PASTEL:
        soft = [c for c in chromatic if colorsys.rgb_to_hsv(*(v / 255 for v in c))[2] >= 0.55]
        return len(soft) >= 0.9 * len(chromatic)
    inside = 0
    for r, g, b in chromatic:
        hue = colorsys.rgb_to_hsv(r / 255, g / 255, b / 255)[0] * 360
        inside += any(_in(hue, span) for span in FAMILIES[name])
    return inside >= 0.9 * len(chromatic)


def looks_like_heatmap(picture: Image.Image) -> bool:
    """Whether rows through the picture cross a block of abutting cells: a stretch of at
    least 30 % of the width, not background but for gaps of up to 5 pixels, made of runs of
    constant colour, with at least five different colours among them."""
    rgb = picture.convert("RGB")
    w, h = rgb.size
    data = rgb.load()
    assert data is not None
    corners = [data[0, 0], data[w - 1, 0], data[0, h - 1], data[w - 1, h - 1]]
    background = statistics.mode(corners)

    def far(a: tuple[int, ...], b: tuple[int, ...], limit: int) -> bool:
        return sum(abs(x - y) for x, y in zip(a, b, strict=True)) > limit

    rows = range(h // 4, 3 * h // 4, max(1, h // 64))
    hits = 0
    for y in rows:
        best_span, best_colours = 0, 0
        start, gap, colours, run_colour, run = None, 0, set(), None, 0
        for x in range(w + 1):
            pixel = data[x, y] if x < w else background
            if far(pixel, background, 36):
                if start is None:
                    start, colours, run_colour, run = x, set(), pixel, 0
                gap = 0
                if run_colour is not None and not far(pixel, run_colour, 24):
                    run += 1
                    if run == 4:
                        colours.add(tuple(v // 12 for v in run_colour))
                else:
                    run_colour, run = pixel, 1
                continue
            gap += 1
            if start is not None and (gap > 5 or x == w):
                span = x - gap - start
                if span > best_span:
                    best_span, best_colours = span, len(colours)
                start = None
        hits += best_span >= 0.3 * w and best_colours >= 5
    return hits >= 0.25 * len(rows)


def _persona_figures(slug: str, count: int, authors: int, size: int) -> dict[str, object]:
    persona = PersonaCatalogue.from_directory().get(slug)
    writer = OfflineWriter()
    per = max(1, count // authors)
    drafts = [
        writer.write_post(
            persona, Author(handle=f"b{a}", display_name="Bench", seed=7919 * a + 1), nonce=n
        )
        for a in range(authors)
        for n in range(per)
    ][:count]
    hashes, seconds = [], 0.0
    palettes, heatmaps, charts, scenes = [], [], [], []
    plan = getattr(images, "plan", None)
    for draft in drafts:
        started = time.perf_counter()
        png = images.render(
            draft.image_prompt, style=draft.style, persona=slug, width=size, height=size
        )
        seconds += time.perf_counter() - started
        picture = Image.open(io.BytesIO(png))
        hashes.append(dhash(picture))
        named = _named(draft.image_prompt.lower(), PALETTE_NAMES)
        if named is not None:
            palettes.append(palette_match(picture, named))
        chart = expected_chart(draft.image_prompt)
        if chart in ("heatmap", "calendar"):
            heatmaps.append(looks_like_heatmap(picture))
        if plan is not None:
            brief = plan(draft.image_prompt, style=draft.style, persona=slug)
            if chart is not None and brief.family == "chart":
                charts.append(brief.chart == chart)
            if brief.family != "chart":
                scenes.append(brief.scene is not None)
    near = sum(
        any(i != j and bin(a ^ b).count("1") <= NEAR_BITS for j, b in enumerate(hashes))
        for i, a in enumerate(hashes)
    )

    def share(flags: list[bool]) -> float | None:
        return round(sum(flags) / len(flags), 3) if flags else None

    return {
        "images": len(drafts),
        "distinct_hash_share": round(len(set(hashes)) / len(hashes), 3),
        "near_duplicate_share": round(near / len(hashes), 3),
        "palette_named": len(palettes),
        "palette_match_share": share(palettes),
        "heatmaps_named": len(heatmaps),
        "heatmap_pixels_share": share(heatmaps),
        "charts_named": len(charts),
        "chart_match_share": share(charts) if plan is not None else None,
        "scene_recognised_share": share(scenes) if plan is not None else None,
        "ms_per_image": round(1000 * seconds / len(drafts), 1),
    }


def main() -> None:
    """Print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--authors", type=int, default=20)
    args = parser.parse_args()
    slugs = PersonaCatalogue.from_directory().slugs()
    personas = {slug: _persona_figures(slug, args.count, args.authors, args.size) for slug in slugs}
    print(
        json.dumps(
            {
                "renderer": getattr(images, "RENDERER", "?"),
                "size": args.size,
                "personas": personas,
                "ms_per_image": round(
                    statistics.fmean(float(f["ms_per_image"]) for f in personas.values()),
                    1,  # type: ignore[arg-type]
                ),
                "targets": {"distinct_hash_share": ">= 0.95", "palette_match_share": "high"},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
