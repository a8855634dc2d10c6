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

# What each person posts next, in this order, after the post they are seeded with: a
# gallery where people go on posting through the day (``post_next``; the demo has one
# post every so often), so the fleet's likes and comments have newcomers to meet.
NEXT_POSTS: dict[str, tuple[tuple[str, str], ...]] = {
    "mara_lens": (
        ("Linen napkins, top light", "Tried a softbox overhead for once. The folds finally read."),
        ("Honey jar against a dark board", "One light from the side; the glow is all the honey."),
        ("Three mugs, one shelf", "A quick catalogue test for a friend's pottery stall."),
    ),
    "leo_plays": (
        ("Castle interior tiles", "The jam is over but I kept going: torches flicker now."),
        ("Boss sprite, first pass", "A very grumpy mushroom. Sixteen colours, no more."),
        ("Title screen mock-up", "Which font says 'cosy but a little spooky'?"),
    ),
    "ines_charts": (
        ("Sunshine hours by month in Porto", "Same style as the rain chart, the summers glow."),
        ("Tram ridership before and after", "A slope chart of the new line's first year."),
        ("What my city spends on parks", "A treemap I keep redrawing. Too many colours?"),
    ),
    "tomasz_dreams": (
        ("A whale swimming over rooftops", "Late night again. The moonlight came out better."),
        ("Forest made of stained glass", "Trying warmer light this time; the greens glow."),
        ("Clockwork garden at dawn", "Brass flowers opening. I love how the gears turned out."),
    ),
    "priya_builds": (
        ("Empty state for a to-do app", "A small illustration and one clear button. Too cute?"),
        ("Settings page, grouped", "Forty toggles into five groups. Much calmer."),
        ("Onboarding in three cards", "Swipe, swipe, done. Is the progress dot enough?"),
    ),
    "sam_shares": (
        ("Autumn candle launch teaser", "Three new scents next week. The poster is up!"),
        ("Behind the counter on a Saturday", "A quick story post: the queue was out the door."),
        ("Our loyalty card, redesigned", "Ten stamps, one free coffee. Simpler than before."),
    ),
    "nora_frames": (
        ("Watch on a slate tile", "Macro lens, one strip light. Fingerprints everywhere."),
        ("Perfume bottle with a gel light", "Pink and teal, a bit much? I kind of love it."),
        ("Backpack on a white sweep", "Ghost mannequin trick, first attempt."),
    ),
    "kofi_pixels": (
        ("Frog mail carrier, walk cycle", "Eight frames now. He waddles with purpose."),
        ("Post office tileset", "Every letter slot is a tile. Far too many tiles."),
        ("Rainy level palette", "Blues and a single orange lamp. Too dark to play?"),
    ),
    "lena_plots": (
        ("Cycling counts on the river path", "A calendar heatmap of a year of commuters."),
        ("Library loans by genre", "Small multiples, one per genre. Crime never sleeps."),
        ("Heat pump installs on my street", "A dot per house. It is catching on."),
    ),
    "yui_prompts": (
        ("Lighthouse, second attempt", "The waves look wet now! Thank you for the tips."),
        ("Koi pond under neon rain", "Mixing a city glow with a garden. Still learning."),
        ("A library floating in clouds", "Soft pastels this time. Upscaled twice."),
    ),
    "omar_flows": (
        ("Court booking, calendar grid", "Took your advice: a grid by court and hour."),
        ("Member card on the phone", "A QR code and the member's name. Nothing else."),
        ("Club newsletter template", "One column, big photos, short lines."),
    ),
    "bea_posts": (
        ("Race day photos are up", "Thank you to every runner! We raised enough for a new kennel."),
        ("Volunteer call for next year", "A simple square post for our feed. Readable?"),
        ("Shelter dog of the week", "Meet Biscuit. The story template is new."),
    ),
}


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


def post_next(conn: Connection, *, username: str, image_base: str, now: datetime) -> str | None:
    """The person ``username`` (seeded) posts their next picture (``NEXT_POSTS``) now; the
    title posted, or None when they have no more to post. ValueError for a username
    that is not one of the seeded people, or one not on the gallery (seed them first)."""
    if username not in NEXT_POSTS:
        raise ValueError(f"{username!r} is not one of the seeded people")
    user = storage.user_by_username(conn, username)
    if user is None:
        raise ValueError(f"{username!r} is not on the gallery yet: seed the people first")
    made = storage.count_posts_by(conn, user.id)
    family = next(person[2] for person in PEOPLE if person[0] == username)
    upcoming = NEXT_POSTS[username]
    if made - 1 >= len(upcoming):
        return None
    title, description = upcoming[max(0, made - 1)]
    picture = images.image_id(title, style="natural", persona=family, width=SIDE, height=SIDE)
    png = images.render(title, style="natural", persona=family, width=SIDE, height=SIDE)
    storage.save_image(
        conn, image_id=picture, png=png, prompt=title, style="natural", persona=family, now=now
    )
    storage.create_post(
        conn,
        user=user,
        title=title,
        description=description,
        image_url=f"{image_base.rstrip('/')}/images/{picture}.png",
        workflow_id=None,
        key=None,
        now=now,
    )
    return title
