"""People already on the gallery: a few human accounts, each with a post, for a young
platform's fleet to meet. The demo seeds them (``POST /admin/people``): without them its
agents' first likes and comments find nothing to engage with but each other's posts."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection

from fleet_sandbox import images, storage

# (username, name, the picture's persona family, title, description)
PEOPLE: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "mara_lens",
        "Mara K.",
        "product_photographer",
        "Morning light on a ceramic cup",
        "Window light, one reflector, and a cup I bought at the market on Sunday.",
    ),
    (
        "leo_plays",
        "Leo M.",
        "indie_game_dev",
        "A pixel castle for my jam game",
        "Forty-eight hours, one castle, far too much coffee. The drawbridge opens!",
    ),
    (
        "ines_charts",
        "Inês R.",
        "data_visualization",
        "Ten years of rain in Lisbon",
        "A small chart I made for fun: the wet winters stand out right away.",
    ),
    (
        "tomasz_dreams",
        "Tomasz W.",
        "ai_art_enthusiast",
        "A city folded into a dream",
        "Playing with colour late at night. Not sure what it is, but I like it.",
    ),
    (
        "priya_builds",
        "Priya S.",
        "ux_ui_designer",
        "Sign-up screen, third try",
        "Cut the form from nine fields to four. Feedback welcome!",
    ),
    (
        "sam_shares",
        "Sam T.",
        "social_media_marketer",
        "Our little shop turns one",
        "A year of candles, coffee and kind customers. Thank you all.",
    ),
    (
        "nora_frames",
        "Nora B.",
        "product_photographer",
        "Sneakers on a concrete step",
        "Shot on my phone at golden hour. Too much shadow on the left side?",
    ),
    (
        "kofi_pixels",
        "Kofi A.",
        "indie_game_dev",
        "Frog mail carrier, idle animation",
        "Six frames of a frog who delivers letters. The hat bounce took all evening.",
    ),
    (
        "lena_plots",
        "Lena H.",
        "data_visualization",
        "Bus delays on route 42",
        "Three months of mornings, one dot each. Mondays are as bad as they feel.",
    ),
    (
        "yui_prompts",
        "Yui N.",
        "ai_art_enthusiast",
        "Lighthouse in a violet storm",
        "My first upscale. I cannot get the waves to look wet yet.",
    ),
    (
        "omar_flows",
        "Omar D.",
        "ux_ui_designer",
        "Booking page for our tennis club",
        "Members keep double-booking court 3. Would a calendar grid be clearer?",
    ),
    (
        "bea_posts",
        "Bea L.",
        "social_media_marketer",
        "Poster for our charity 5k",
        "Raising money for the local shelter on June 8. Does the date stand out?",
    ),
)
SIDE = 512


def seed_people(conn: Connection, *, count: int, image_base: str, now: datetime) -> list[str]:
    """The first ``count`` people, each with a post, an hour apart before ``now``; the
    usernames of those made now (a person already there is left alone)."""
    if not 0 <= count <= len(PEOPLE):
        raise ValueError(f"count must be between 0 and {len(PEOPLE)}, got {count}")
    made = []
    for n, (username, name, family, title, description) in enumerate(PEOPLE[:count]):
        user, created = storage.invite(
            conn,
            agent_id=None,
            name=name,
            username=username,
            persona=None,
            is_agent=False,
            now=now,
        )
        if not created:
            continue
        at = now - timedelta(hours=count - n)
        picture = images.image_id(title, style="natural", persona=family, width=SIDE, height=SIDE)
        png = images.render(title, style="natural", persona=family, width=SIDE, height=SIDE)
        storage.save_image(
            conn,
            image_id=picture,
            png=png,
            prompt=title,
            style="natural",
            persona=family,
            now=at,
        )
        storage.create_post(
            conn,
            user=user,
            title=title,
            description=description,
            image_url=f"{image_base.rstrip('/')}/images/{picture}.png",
            workflow_id=None,
            key=None,
            now=at,
        )
        made.append(username)
    return made
