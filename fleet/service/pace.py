"""Measuring the fleet's pace: people's activity, read from the gallery's feeds, against
the fleet's own from the ledger (``fleet.core.pace``), over the last 12 hours (or the
fleet's life, if shorter), both as a rate a day.

Each reading (every ``FLEET_WELCOME__PACE_EVERY_SECONDS``) reads the newest posts of the
last two days and the first page of the ``popular`` and ``trending`` feeds, and keeps
each post's likes and comments. People's actions between two readings are their new
posts, and what every post's counts grew by less the fleet's own engagements on it
meanwhile (``people_between``): likes people give older posts count too, as long as a
feed shows them. Likes on posts no feed shows are not seen: the figure is a floor, so the
fleet steps back no further than people's visible activity warrants.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

from fleet import activities, agents
from fleet.core.pace import Pace, PostRead, Reading, measure, over_window, people_between
from fleet.gallery.port import GalleryPost, Sort
from fleet.impact.use_cases import record_first_followers
from fleet.service.root import Fleet

DAY = timedelta(days=1)
# The window measured, scaled to a day: long enough to hold a day's rhythm of people,
# short enough that the fleet steps back within hours of their arrival.
WINDOW = timedelta(hours=12)
# A fleet younger than this has nothing to compare people with: the pace stands.
YOUNGEST = timedelta(hours=1)
# The newest posts read, as far back as this: people like and comment mostly on posts of
# their first day or two; older ones are seen when a feed below shows them.
LOOKBACK = timedelta(days=2)
# Pages of this many, at most this many of the newest posts.
PAGE = 50
PAGES = 6
# The first page of these is read too: older posts people are liking now.
OTHER_SORTS: tuple[Sort, ...] = ("popular", "trending")
# Readings, and the counts of posts no reading has seen for this long, are forgotten.
KEEP = timedelta(days=2)


def measure_pace(fleet: Fleet) -> Pace | None:
    """Read the gallery, keep the reading, and measure the pace over the window and keep
    it; mark the agents people wait on (``scan_notifications``). None when there is no
    agent to read as, or the fleet is too young to measure."""
    now = fleet.clock.now()
    readers = agents.live_handles_with_accounts(fleet.sessions, limit=1)
    if not readers:
        return None
    # People and the fleet over the same window: the last 12 hours, or the fleet's life
    # if it is younger (people's posts from before it came are not held against it).
    since = activities.first_action_since(fleet.sessions, now - WINDOW)
    if since is None:
        return None
    newest, read = _read(fleet, readers[0], now - LOOKBACK)
    _take_in(fleet, newest, now=now, since=since)
    # The impact experiment's newcomers of the last day: a first follower seen?
    record_first_followers(fleet, readers[0])
    _keep_reading(fleet, read, now=now, since=since)
    window = over_window(
        activities.readings_since(fleet.sessions, now - WINDOW), now=now, window=WINDOW
    )
    if window is None or now - window.start < YOUNGEST:
        return None
    per_day = DAY / (now - window.start)
    welcome = fleet.settings.welcome
    pace = measure(
        window.people_per_day,
        round(per_day * activities.fleet_actions_since(fleet.sessions, window.start)),
        pace_ran=window.pace_ran,
        share=welcome.target_bot_share,
        floor=welcome.min_pace,
    )
    activities.keep_pace(fleet.sessions, pace, now=now)
    return pace


def _take_in(
    fleet: Fleet, newest: Sequence[GalleryPost], *, now: datetime, since: datetime
) -> None:
    """What the newest posts tell the fleet: the agents people wait on, marked; the posts
    seen, told to whoever listens (``posts_seen``: people first seen join the impact
    experiment, questions about what an agent is are noted); newcomers' posts' vectors."""
    # Every post of the last two days, not the window's: a person who comments on an
    # agent's post of yesterday waits on its author all the same (scanned within the
    # window only, 6 of 8 comments left unanswered had gone unseen). Replies counted
    # from as far back: all of those on these posts.
    waiting = waiting_posts(fleet, newest, since=now - LOOKBACK)
    agents.mark_people_waiting(fleet.sessions, [p.username for p in waiting], now=now)
    fleet.events.posts_seen.fire(posts=newest, waiting=waiting, at=now)
    interests = fleet.action_kit.targeting.interests
    if interests is not None:
        # Likes never embed: a newcomer's post gets its vector here, within minutes,
        # not when a comment first reads it (before, its first likes came from agents
        # of any taste, the post unranked by fit).
        interests.embed_new([p for p in newest if p.created_at >= since])


def _keep_reading(
    fleet: Fleet, read: Sequence[GalleryPost], *, now: datetime, since: datetime
) -> None:
    """Keep the reading of the posts ``read``: people's activity since the last reading
    (or ``since``), from the counts the gallery shows less the fleet's own."""
    posts = [
        PostRead(p.id, p.created_at, not p.user_is_agent, p.like_count, p.comment_count)
        for p in read
    ]
    ids = [p.post_id for p in posts]
    start = activities.last_reading_at(fleet.sessions) or since
    with fleet.sessions() as session:
        pace_now = activities.current_pace(session)
    # Replies on posts read (two days back, or a feed's) ended within the counts' life.
    ours = activities.fleet_engagement_counts(fleet.sessions, ids, replies_since=now - 2 * KEEP)
    people = people_between(posts, activities.kept_counts(fleet.sessions, ids), ours, start=start)
    activities.keep_reading(
        fleet.sessions,
        Reading(start, now, people, pace_now),
        posts,
        ours,
        forget_before=now - KEEP,
    )


def _read(
    fleet: Fleet, reader: str, since: datetime
) -> tuple[list[GalleryPost], list[GalleryPost]]:
    """The gallery's posts since ``since``, newest first, and those with the first page
    of the other feeds (each post once), read as ``reader``."""
    newest: list[GalleryPost] = []
    gallery = fleet.open_gallery()
    try:
        for page in range(PAGES):
            posts = gallery.feed(agent=reader, limit=PAGE, offset=page * PAGE, sort="recent")
            newest.extend(p for p in posts if p.created_at >= since)
            if len(posts) < PAGE or any(p.created_at < since for p in posts):
                break
        read = {p.id: p for p in newest}
        for sort in OTHER_SORTS:
            for post in gallery.feed(agent=reader, limit=PAGE, offset=0, sort=sort):
                read.setdefault(post.id, post)
    finally:
        if fleet.gallery is None:
            gallery.close()
    return newest, list(read.values())


def scan_notifications(fleet: Fleet, posts: Sequence[GalleryPost], *, since: datetime) -> int:
    """Mark the agents a person's comment waits on, from the counts the gallery shows:
    on an agent's post, the comments beyond the fleet's own are people's, and those
    beyond the fleet's replies to people wait. Their next session opens by answering
    (``fleet.core.sessions``), as a person's phone calls them back to the app. How many
    agents people wait on.

    From counts, without reading a comment: a person's answer to another agent's
    comment there is laid at the author's door (the other agent answers it in its own
    sessions; the author's look then finds nothing of its own and ends)."""
    waiting = [p.username for p in waiting_posts(fleet, posts, since=since)]
    return agents.mark_people_waiting(fleet.sessions, waiting, now=fleet.clock.now())


def waiting_posts(
    fleet: Fleet, posts: Sequence[GalleryPost], *, since: datetime
) -> list[GalleryPost]:
    """The agents' posts where a person's comment waits, from the counts the gallery
    shows (``scan_notifications``)."""
    theirs = [p for p in posts if p.user_is_agent]
    ids = [p.id for p in theirs]
    replies = activities.fleet_replies_on(fleet.sessions, ids, since=since)
    ours = activities.fleet_comments_on(fleet.sessions, ids, since=since, replies=replies)
    known = agents.fleet_handles(fleet.sessions, {to for _, to in replies if to})
    answered = Counter(post_id for post_id, to in replies if to and to not in known)
    return [p for p in theirs if max(0, p.comment_count) - ours[p.id] > answered[p.id]]
