"""The gallery page in a real browser: headless Chromium loads it, reports, and screenshots it.

The screenshot is saved as ``artifacts/sandbox-gallery.png`` (gitignored) for people to look at.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from fleet.gallery.client import HttpGallery
from fleet_sandbox.server import BackgroundSandbox

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"

# On a developer's machine without Chromium the page test is skipped; in CI (.ci/run
# installs Debian's chromium) a missing browser is a failure, not a skip. Each test starts
# the browser two or three times (a second of CPU each): make test-quick skips them
# (``browser``), make test-fast and make test run them.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None and not os.environ.get("CI"), reason="needs Debian's chromium package"
    ),
]

AGENTS = [
    ("photo_ada", "Ada Studio", "product_photographer", "packshot", "Amber serum bottle"),
    ("social_cam", "Cam Trends", "social_media_marketer", "carousel", "Five tips for reels"),
    ("gamedev_bo", "Bo Bit", "indie_game_dev", "pixel-art", "Slime boss, first draft"),
    ("dataviz_dee", "Dee Charts", "data_visualization", "dashboard", "Weekly active users"),
    ("aiart_eve", "Eve Dreams", "ai_art_enthusiast", "surreal", "Orbs over a violet sea"),
    ("ux_kim", "Kim UI", "ux_ui_designer", "mockup", "<script>alert('x')</script> onboarding"),
]


def chromium(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium on ``url``; loopback only, no profile, no background traffic."""
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-breakpad",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1280,1400",
        "--virtual-time-budget=5000",
        *args,
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


@pytest.fixture
def populated(sandbox: BackgroundSandbox, gallery: HttpGallery) -> dict[str, int]:
    """Six agents, one post each, a few likes and comments: the expected like counts."""
    posts = {}
    for handle, name, persona, style, title in AGENTS:
        gallery.provision_user(handle=handle, name=name, persona=persona)
        url = gallery.generate_image(
            agent=handle,
            prompt=f"{title}, {style}",
            style=style,
            persona=persona,
            idempotency_key=f"{handle}:1:image",
        )
        posts[title] = gallery.create_post(
            agent=handle,
            image_url=url,
            title=title,
            description=f"Made with the {style} workflow.",
            idempotency_key=f"{handle}:1:post",
        ).id
    likes = {title: 0 for title in posts}
    for index, (handle, *_rest) in enumerate(AGENTS):
        for title in list(posts)[: index % 4]:
            gallery.like(agent=handle, post_id=posts[title], idempotency_key=f"{handle}:{title}")
            likes[title] += 1
    gallery.comment(
        agent="gamedev_bo",
        post_id=posts["Amber serum bottle"],
        content="That glow! <3",
        idempotency_key="bo:c",
    )
    return likes


def test_the_gallery_page_shows_pictures_captions_authors_and_likes_in_chromium(
    sandbox: BackgroundSandbox, populated: dict[str, int], tmp_path: Path
) -> None:
    dom = chromium(tmp_path, f"{sandbox.url}/?probe=1", "--dump-dom").stdout
    assert 'data-probe="done"' in dom
    widths = re.findall(r'data-natural-width="(\d+)"', dom)
    assert widths == ["512"] * len(AGENTS)  # every picture loaded and decoded
    assert f'data-images-loaded="{len(AGENTS)}"' in dom
    cards = re.findall(r'<article class="post".*?</article>', dom, flags=re.S)
    assert len(cards) == len(AGENTS)
    shown = {}
    for card in cards:
        title = re.search(r'<h2 class="title"><a href="/posts/\d+">(.*?)</a></h2>', card)
        likes = re.search(r'data-likes="(\d+)"', card)
        assert title and likes and 'class="badge"' in card and "Made with the" in card
        shown[title.group(1)] = int(likes.group(1))
    escaped = "&lt;script&gt;alert('x')&lt;/script&gt; onboarding"
    assert shown == {(escaped if "<" in t else t): n for t, n in populated.items()}
    assert next(iter(shown)) == escaped  # newest first
    assert dom.count("<script") == 1  # the agent's "script" stayed text
    assert "That glow! &lt;3" in dom

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "sandbox-gallery.png"
    shot.unlink(missing_ok=True)
    chromium(tmp_path, f"{sandbox.url}/", f"--screenshot={shot}", "--hide-scrollbars")
    with Image.open(shot) as picture:
        assert (picture.format, picture.size) == ("PNG", (1280, 1400))
        assert len(picture.convert("RGB").getcolors(1 << 20) or []) > 1000  # pictures, not blank


LONG = [  # handle, display name: longer than any card is wide, and without spaces to break at
    ("gamedev_" + "pixelforge" * 5 + "bit", "Bo " + "Supercalifragilistic" * 4),
    ("dataviz_" + "medianquartile" * 4, "Dee"),
    ("ux_kim", "Kim " + "Componentlibrary" * 5),
    ("photo_ada", "Ada Studio"),
]
BADGE_INK = (21, 94, 239)  # the BOT badge's letters, #155eef


def _box(value: str) -> tuple[int, int, int, int]:
    left, top, right, bottom = (int(v) for v in value.split(","))
    return left, top, right, bottom


def test_long_handles_and_names_end_inside_their_card_and_the_bot_badge_shows(
    sandbox: BackgroundSandbox, gallery: HttpGallery, tmp_path: Path
) -> None:
    for handle, name in LONG:
        gallery.provision_user(handle=handle, name=name, persona="indie_game_dev")
        gallery.create_post(
            agent=handle,
            image_url=f"{sandbox.url}/images/placeholder.png",
            title=f"Post by {handle}",
            description="",
            idempotency_key=f"{handle}:post",
        )
    dom = chromium(tmp_path, f"{sandbox.url}/?probe=1", "--dump-dom").stdout
    cards = re.findall(r'<article class="post"[^>]*>', dom)
    assert len(cards) == len(LONG) and 'data-probe="done"' in dom
    geometry = []
    for card in cards:
        reach = re.search(r'data-overflow-px="(-?\d+)"', card)
        inside = re.search(r'data-badge-inside="(\w+)"', card)
        box, author = (
            re.search(r'data-box="([-\d,]+)"', card),
            re.search(r'data-author-box="([-\d,]+)"', card),
        )
        assert reach and inside and box and author, card
        # Nothing in the card reaches past its edge (the card clips: past it is hidden).
        assert int(reach.group(1)) <= 0, card
        assert inside.group(1) == "true", card
        geometry.append((_box(box.group(1)), _box(author.group(1))))

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "sandbox-gallery-long-handles.png"
    shot.unlink(missing_ok=True)
    chromium(tmp_path, f"{sandbox.url}/?probe=1", f"--screenshot={shot}", "--hide-scrollbars")
    with Image.open(shot) as picture:
        rgb = picture.convert("RGB")
        for card, author in geometry:
            # The author row as painted, cut at the card's right edge: the badge's blue
            # letters are in it, so the badge was drawn inside the card.
            row = rgb.crop((author[0], author[1], min(author[2], card[2]), author[3]))
            raw = row.tobytes()
            blue = sum(
                abs(raw[i] - BADGE_INK[0])
                + abs(raw[i + 1] - BADGE_INK[1])
                + abs(raw[i + 2] - BADGE_INK[2])
                < 90
                for i in range(0, len(raw), 3)
            )
            assert blue >= 8, (card, author, blue)


def test_names_keep_their_room_and_a_post_has_a_page_of_its_own(
    sandbox: BackgroundSandbox, gallery: HttpGallery, tmp_path: Path
) -> None:
    """Display names were cut to a few letters while the handle took the room; one post's
    page was the same small card alone in a corner."""
    for handle, name in (
        ("mira_slime", "Brave Level Games"),
        ("scrollbysana", "Snappy Hook Studio"),
    ):
        gallery.provision_user(handle=handle, name=name, persona="indie_game_dev")
        gallery.create_post(
            agent=handle,
            image_url=f"{sandbox.url}/images/placeholder.png",
            title=f"A post by {name}",
            description="Six frames, 32 by 32. The cape feels stiff.",
            idempotency_key=f"{handle}:post",
        )
    dom = chromium(tmp_path, f"{sandbox.url}/?probe=1", "--dump-dom").stdout
    cards = re.findall(r'<article class="post"[^>]*>', dom)
    assert len(cards) == 2
    assert all('data-name-clipped="false"' in card for card in cards), cards
    post_id = re.search(r'data-post-id="(\d+)"', cards[0]).group(1)  # type: ignore[union-attr]
    gallery.comment(
        agent="mira_slime",
        post_id=post_id,
        content="Thanks! Next up: the run cycle.",
        idempotency_key="c1",
    )
    page = chromium(tmp_path, f"{sandbox.url}/posts/{post_id}?probe=1", "--dump-dom").stdout
    assert 'class="single"' in page
    box = re.search(r'<article class="post"[^>]*data-box="([-\d,]+)"', page)
    assert box is not None, page[:2000]
    left, _, right, _ = _box(box.group(1))
    assert right - left >= 700  # a page, not a 270 px card
    assert "Next up: the run cycle." in page
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "sandbox-post-page.png"
    shot.unlink(missing_ok=True)
    chromium(
        tmp_path,
        f"{sandbox.url}/posts/{post_id}?probe=1",
        f"--screenshot={shot}",
        "--hide-scrollbars",
    )
    assert shot.exists()
