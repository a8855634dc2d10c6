"""Measuring the fleet's pace: people's activity, read from the gallery's newest posts,
against the fleet's own from the ledger (``fleet.core.pace``), over the last 12 hours
(or the fleet's life, if shorter), both as a rate a day.

People's actions are their posts of the window and the likes and comments on the
window's posts beyond the fleet's own (a post's counts, less the ledger's engagements
on it). Likes people give older posts are not seen: the figure is a floor, so the fleet
steps back no further than people's visible activity warrants.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

from fleet import activities, agents
from fleet.core.pace import Pace, PeopleSeen, measure
from fleet.gallery.port import GalleryPost
from fleet.service.root import Fleet

DAY = timedelta(days=1)
# The window measured, scaled to a day: long enough to hold a day's rhythm of people,
# short enough that the fleet steps back within hours of their arrival.
WINDOW = timedelta(hours=12)
# A fleet younger than this has nothing to compare people with: the pace stands.
YOUNGEST = timedelta(hours=1)
# The newest posts read: pages of this many, at most this many pages.
PAGE = 50
PAGES = 4


def measure_pace(fleet: Fleet) -> Pace | None:
    """Measure the pace now and keep it, and mark the agents people wait on
    (``scan_notifications``); None when there is no agent to read as, or the fleet is
    too young to measure."""
    now = fleet.clock.now()
    readers = agents.handles_with_accounts(fleet.sessions, live=True, limit=1)
    if not readers:
        return None
    # People and the fleet over the same window: the last 12 hours, or the fleet's life
    # if it is younger (people's posts from before it came are not held against it).
    since = activities.first_action_since(fleet.sessions, now - WINDOW)
    if since is None:
        return None
    day = _newest(fleet, readers[0], since)
    scan_notifications(fleet, day, since=since)
    interests = fleet.action_kit.interests
    if interests is not None:
        # Likes never embed: a newcomer's post gets its vector here, within minutes,
        # not when a comment first reads it (before, its first likes came from agents
        # of any taste, the post unranked by fit).
        interests.embed_new(day)
    if now - since < YOUNGEST:
        return None
    per_day = DAY / (now - since)
    shown = sum(max(0, p.like_count) + max(0, p.comment_count) for p in day)
    ours = activities.fleet_engagements_on(fleet.sessions, [p.id for p in day], since=since)
    people = PeopleSeen(
        posts=round(per_day * sum(1 for p in day if not p.user_is_agent)),
        engagement=round(per_day * max(0, shown - ours)),
    )
    with fleet.sessions() as session:
        pace_now = activities.current_pace(session)
    welcome = fleet.settings.welcome
    pace = measure(
        people,
        round(per_day * activities.fleet_actions_since(fleet.sessions, since)),
        pace_now=pace_now,
        share=welcome.target_bot_share,
        floor=welcome.min_pace,
    )
    activities.keep_pace(fleet.sessions, pace, now=now)
    return pace


def _newest(fleet: Fleet, reader: str, since: datetime) -> list[GalleryPost]:
    """The gallery's posts since ``since``, newest first, read as ``reader``."""
    day: list[GalleryPost] = []
    gallery = fleet.open_gallery()
    try:
        for page in range(PAGES):
            posts = gallery.feed(agent=reader, limit=PAGE, offset=page * PAGE, sort="recent")
            day.extend(p for p in posts if p.created_at >= since)
            if len(posts) < PAGE or any(p.created_at < since for p in posts):
                break
    finally:
        if fleet.gallery is None:
            gallery.close()
    return day


def scan_notifications(fleet: Fleet, posts: Sequence[GalleryPost], *, since: datetime) -> int:
    """Mark the agents a person's comment waits on, from the counts the gallery shows:
    on an agent's post, the comments beyond the fleet's own are people's, and those
    beyond the fleet's replies to people wait. Their next session opens by answering
    (``fleet.core.sessions``), as a person's phone calls them back to the app. How many
    agents people wait on.

    From counts, without reading a comment: a person's answer to another agent's
    comment there is laid at the author's door (the other agent answers it in its own
    sessions; the author's look then finds nothing of its own and ends)."""
    theirs = [p for p in posts if p.user_is_agent]
    ids = [p.id for p in theirs]
    replies = activities.fleet_replies_on(fleet.sessions, ids, since=since)
    ours = activities.fleet_comments_on(fleet.sessions, ids, since=since, replies=replies)
    known = agents.fleet_handles(fleet.sessions, {to for _, to in replies if to})
    answered = Counter(post_id for post_id, to in replies if to and to not in known)
    waiting = [p.username for p in theirs if max(0, p.comment_count) - ours[p.id] > answered[p.id]]
    return agents.mark_people_waiting(fleet.sessions, waiting, now=fleet.clock.now())
