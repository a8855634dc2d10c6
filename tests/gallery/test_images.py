"""The sandbox's pictures show what their prompts name, checked from the pixels where it can be.

The pixel checks (``looks_like_heatmap``, ``palette_match``, ``dhash``) are the benchmark's
(``bench/images.py``), so the figures it prints and these tests agree on what they mean.
"""

from __future__ import annotations

import colorsys

import pytest
from PIL import Image

from bench.images import dhash, looks_like_heatmap, palette_match
from fleet.content.offline.writer import OfflineWriter
from fleet.content.port import Author
from fleet.infra.persona_files import PersonaCatalogue
from fleet_sandbox import images
from fleet_sandbox.palettes import NAMED

STYLE_OF = {  # one workflow style of each persona
    "product_photographer": "packshot",
    "social_media_marketer": "story",
    "indie_game_dev": "pixel-art",
    "data_visualization": "chart",
    "ai_art_enthusiast": "surreal",
    "ux_ui_designer": "mockup",
}


def picture(prompt: str, style: str, persona: str, size: int = 512) -> Image.Image:
    return images.picture(prompt, style=style, persona=persona, width=size, height=size)


@pytest.mark.parametrize("style", ["chart", "dashboard", "infographic"])
@pytest.mark.parametrize(
    "prompt",
    [
        "Bus punctuality in a heatmap",
        "chart image of bus punctuality, a heatmap, monochrome blue palette, tight crop",
        "chart image of ticket sales by genre, a calendar heatmap, black and gold palette",
        "air quality by hour as a heat map, mint and coral palette",
    ],
)
def test_a_prompt_naming_a_heatmap_draws_a_heatmap(prompt: str, style: str) -> None:
    assert looks_like_heatmap(picture(prompt, style, "data_visualization"))


@pytest.mark.parametrize(
    "prompt",
    [
        "Bus punctuality as a bar chart",
        "Bus punctuality as a line chart, monochrome blue palette",
        "Bus punctuality in a scatter plot",
        "Bus punctuality, a donut, sepia palette",
    ],
)
def test_other_charts_are_not_taken_for_heatmaps(prompt: str) -> None:
    assert not looks_like_heatmap(picture(prompt, "chart", "data_visualization"))


def _hues(image: Image.Image) -> list[float]:
    """The hue (degrees) of every clearly coloured pixel of a 96 x 96 thumbnail."""
    raw = image.convert("RGB").resize((96, 96), Image.Resampling.BOX).tobytes()
    found = []
    for i in range(0, len(raw), 3):
        r, g, b = raw[i], raw[i + 1], raw[i + 2]
        if max(r, g, b) - min(r, g, b) >= 24:
            found.append(colorsys.rgb_to_hsv(r / 255, g / 255, b / 255)[0] * 360)
    return found


@pytest.mark.parametrize("persona", sorted(STYLE_OF))
def test_a_monochrome_blue_prompt_draws_blue_hues_and_neutrals_only(persona: str) -> None:
    prompt = {
        "indie_game_dev": "Snowy cabin, monochrome blue",
        "product_photographer": "packshot image of a copper kettle on wet slate, monochrome blue palette",
    }.get(persona, f"{STYLE_OF[persona]} image of something new, monochrome blue palette")
    hues = _hues(picture(prompt, STYLE_OF[persona], persona))
    assert len(hues) > 0.03 * 96 * 96  # colour is shown, not only greys
    outside = [h for h in hues if not 195 <= h <= 235]
    assert len(outside) <= 0.02 * len(hues), sorted(outside)[:20]


@pytest.mark.parametrize("name", sorted(NAMED))
def test_every_named_palette_shows_in_the_pixels(name: str) -> None:
    for persona, style in STYLE_OF.items():
        assert palette_match(
            picture(f"{style} image of a study, {name} palette", style, persona, 256), name
        ), persona


def _ink(
    image: Image.Image, ink: tuple[int, int, int], box: tuple[int, int, int, int]
) -> list[tuple[int, int]]:
    """The points of ``box`` painted in (or near) the ink colour: text, in a chart."""
    region = image.convert("RGB").crop(box)
    raw, width = region.tobytes(), region.width
    return [
        (box[0] + (i // 3) % width, box[1] + (i // 3) // width)
        for i in range(0, len(raw), 3)
        if abs(raw[i] - ink[0]) + abs(raw[i + 1] - ink[1]) + abs(raw[i + 2] - ink[2]) < 150
    ]


def test_a_chart_carries_a_title_and_both_axis_labels() -> None:
    ink = NAMED["monochrome blue"].ink
    short = picture(
        "chart image of bus punctuality, a bar chart, monochrome blue palette",
        "chart",
        "data_visualization",
    )
    w, h = short.size
    title = _ink(short, ink, (0, 0, w, int(h * 0.2)))
    assert len(title) > 150 and max(x for x, _ in title) - min(x for x, _ in title) > 0.2 * w
    # The y-axis label: a tall, narrow run of ink up the left edge (text turned 90 degrees).
    y_label = _ink(short, ink, (0, int(h * 0.2), int(w * 0.08), int(h * 0.9)))
    xs, ys = [x for x, _ in y_label], [y for _, y in y_label]
    assert (
        len(y_label) > 40
        and max(ys) - min(ys) > 0.08 * h
        and max(ys) - min(ys) > 2 * (max(xs) - min(xs))
    )
    # The x-axis label: ink under the tick labels, around the middle.
    x_label = _ink(short, ink, (0, int(h * 0.895), w, h))
    centre = sum(x for x, _ in x_label) / max(1, len(x_label))
    assert len(x_label) > 40 and 0.3 * w < centre < 0.75 * w
    # The title is the prompt's subject: a longer subject draws a longer title.
    long = picture(
        "chart image of bus punctuality by weekday in five cities since 2015, a bar chart, monochrome blue palette",
        "chart",
        "data_visualization",
    )
    longer = _ink(long, ink, (0, 0, w, int(h * 0.2)))
    assert max(x for x, _ in longer) > max(x for x, _ in title) + 0.15 * w


@pytest.mark.parametrize(
    ("prompt", "style", "persona", "scene"),
    [
        ("Potion shop interior", "tileset", "indie_game_dev", "interior"),
        ("Snowy cabin, monochrome blue", "pixel-art", "indie_game_dev", "cabin"),
        ("pixel art image of a lava cave at night", "pixel-art", "indie_game_dev", "cave"),
        (
            "packshot image of a silk scarf in a bed of sand",
            "packshot",
            "product_photographer",
            "scarf",
        ),
        ("surreal image of a whale in a library", "surreal", "ai_art_enthusiast", "whale"),
        ("mockup image of a date picker in dark mode", "mockup", "ux_ui_designer", "calendar"),
        ("story image of a launch-day countdown", "story", "social_media_marketer", "countdown"),
    ],
)
def test_the_subject_decides_what_is_drawn(
    prompt: str, style: str, persona: str, scene: str
) -> None:
    assert images.plan(prompt, style=style, persona=persona).scene == scene


def test_the_subject_changes_the_picture_not_only_its_colours() -> None:
    """Two subjects in one palette and style: different layouts, not a recolour."""
    a = picture(
        "pixel art image of a potion shop interior, sepia palette",
        "pixel-art",
        "indie_game_dev",
        256,
    )
    b = picture(
        "pixel art image of a fishing pier, sepia palette", "pixel-art", "indie_game_dev", 256
    )
    assert bin(dhash(a) ^ dhash(b)).count("1") >= 12


@pytest.mark.parametrize("persona", sorted(STYLE_OF))
def test_twenty_four_posts_of_one_persona_do_not_look_alike(persona: str) -> None:
    spec = PersonaCatalogue.from_directory().get(persona)
    writer = OfflineWriter()
    drafts = [
        writer.write_post(spec, Author(handle=f"a{a}", display_name="A", seed=31 * a + 5), nonce=n)
        for a in range(6)
        for n in range(4)
    ]
    hashes = [dhash(picture(d.image_prompt, d.style, persona, 128)) for d in drafts]
    assert len(set(hashes)) >= 0.95 * len(hashes)
    near = sum(
        any(i != j and bin(a ^ b).count("1") <= 4 for j, b in enumerate(hashes))
        for i, a in enumerate(hashes)
    )
    assert near <= 0.25 * len(hashes)
