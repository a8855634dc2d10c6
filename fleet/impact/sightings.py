"""The impact experiment's listener: people the fleet saw post or comment, kept once each.

A person seen for the first time in the experiment is assigned an arm
(``fleet.impact.holdout``) and recorded once; each post and comment of a person is kept as
a sighting (a person who comments returns as surely as one who posts). Nothing is kept
while the holdout is off (a share of 0): assignments begin when an experiment does. The
composition root adds ``posts_seen`` and ``comments_seen`` to the events of the same names
(``fleet.actions.events``), fired by the pace task's reading and a reply's choice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from fleet import activities
from fleet.gallery.port import GalleryComment, GalleryPost
from fleet.settings.actions import ImpactSettings


class Sightings:
    """The listener that keeps people's posts and comments for the impact report."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: ImpactSettings,
        now: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._now = now

    def posts_seen(self, *, posts: Iterable[GalleryPost], **_: Any) -> int:
        """Keep people's posts among ``posts`` and assign those the experiment does not
        hold yet; how many were newly assigned."""
        settings = self._settings
        if settings.holdout_share <= 0:
            return 0
        theirs = [p for p in posts if not p.user_is_agent and p.user_id]
        if not theirs:
            return 0
        activities.record_sightings(
            self._sessions,
            [activities.Sighting("post", p.id, p.user_id, p.created_at) for p in theirs],
        )
        people: dict[str, tuple[str, datetime]] = {}
        for p in sorted(theirs, key=lambda p: p.created_at):
            people.setdefault(p.user_id, (p.username, p.created_at))
        new = activities.assign_people(
            self._sessions,
            people,
            experiment=settings.experiment,
            share=settings.holdout_share,
            now=self._now(),
        )
        return len(new)

    def comments_seen(self, *, comments: Iterable[GalleryComment], **_: Any) -> None:
        """Keep people's comments among ``comments`` (each once): one statement, when
        there are any."""
        if self._settings.holdout_share <= 0:
            return
        seen = [
            activities.Sighting("comment", c.id, c.user_id, c.created_at)
            for c in comments
            if not c.user_is_agent and c.user_id
        ]
        if seen:
            activities.record_sightings(self._sessions, seen)
