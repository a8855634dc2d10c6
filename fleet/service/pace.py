"""Measuring the fleet's pace: people's activity, read from the gallery's newest posts,
against the fleet's own from the ledger (``fleet.core.pace``), over the last 12 hours
(or the fleet's life, if shorter), both as a rate a day.

People's actions are their posts of the window and the likes and comments on the
window's posts beyond the fleet's own (a post's counts, less the ledger's engagements
on it). Likes people give older posts are not seen: the figure is a floor, so the fleet
steps back no further than people's visible activity warrants.
"""

from __future__ import annotations

from datetime import timedelta

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
    """Measure the pace now and keep it; None when there is no agent to read as."""
    now = fleet.clock.now()
    readers = agents.handles_with_accounts(fleet.sessions, live=True, limit=1)
    if not readers:
        return None
    # People and the fleet over the same window: the last 12 hours, or the fleet's life
    # if it is younger (people's posts from before it came are not held against it).
    since = activities.first_action_since(fleet.sessions, now - WINDOW)
    if since is None or now - since < YOUNGEST:
        return None
    per_day = DAY / (now - since)
    day: list[GalleryPost] = []
    gallery = fleet.open_gallery()
    try:
        for page in range(PAGES):
            posts = gallery.feed(agent=readers[0], limit=PAGE, offset=page * PAGE, sort="recent")
            day.extend(p for p in posts if p.created_at >= since)
            if len(posts) < PAGE or any(p.created_at < since for p in posts):
                break
    finally:
        if fleet.gallery is None:
            gallery.close()
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
