"""The audit's check that no agent acted toward a person who said no, past the bound.

``consent``: no like, comment, reply or follow toward a person who opted out or blocked
that agent later than ``CONSENT_BOUND`` after they said so (the consent cache's bound).
Whose post or comment each action was toward is read from the gallery (``_Authors``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fleet.activities import ActivityView
from fleet.consent.core import MAX_STALE_SECONDS, Consent, allows
from fleet.errors import FleetError
from fleet.gallery.consent import ConsentRead
from fleet.gallery.port import Gallery, GalleryComment
from fleet.honesty.audit_scope import MAX_READS, Finding, Scope

# An action is counted against a person's say when it ended this long after they said it:
# the most a process's copy of people's consent may be stale (fleet.actions.choosing).
CONSENT_BOUND = timedelta(seconds=MAX_STALE_SECONDS)


def _actions_toward(
    scope: Scope, read: ConsentRead, consent: Consent, closed: set[str], authors: _Authors
) -> tuple[int, int, list[str]]:
    """Of the window's likes, comments, replies and follows, those toward the people ``closed``
    that their say does not allow, after they said it: how many, how many of them later
    than the bound, and up to five of those."""
    toward = late = 0
    examples: list[str] = []
    for action in scope.actions(("like", "comment", "reply", "follow")):
        person = authors.of(action)
        if person is None or person not in closed:
            continue
        if allows(consent, action.handle, action.action, person):
            continue
        said = read.said_at.get(person)
        ended = action.finished_at or action.created_at
        if said is not None and ended <= said:
            continue  # before they said it
        toward += 1
        if said is None or ended > said + CONSENT_BOUND:
            late += 1
            if len(examples) < 5:
                examples.append(f"{action.action} by @{action.handle} toward @{person}")
    return toward, late, examples


def consent_honoured(scope: Scope) -> Finding:
    """No action toward a person who said no, later than the bound after they said it."""
    try:
        read = scope.consent()
    except FleetError as error:
        return Finding("consent", "unavailable", f"people's consent could not be read: {error}")
    if not read.offered:
        return Finding(
            "consent",
            "unavailable",
            "the gallery offers no consent calls; people are engaged as "
            f"FLEET_CONSENT__WHEN_UNOFFERED says ({scope.fleet.settings.consent.when_unoffered})",
        )
    settings = scope.fleet.settings.consent
    consent = Consent(
        people=read.people,
        unreadable=read.unreadable,
        cool_fleet=settings.cool_fleet,
    )
    closed = set(read.people) | set(read.unreadable)
    if not closed:
        return Finding("consent", "ok", "no person has opted out or blocked an agent", {})
    authors = _Authors(scope.gallery)
    toward, late, examples = _actions_toward(scope, read, consent, closed, authors)
    figures: dict[str, Any] = {
        "people_said_no": len(closed),
        "actions_toward_them": toward,
        "later_than_bound": late,
        "bound_seconds": int(CONSENT_BOUND.total_seconds()),
        "posts_read": authors.reads,
    }
    line = (
        f"{late} actions toward the {len(closed)} people who opted out or blocked later than "
        f"{CONSENT_BOUND.total_seconds() / 60:g} min after they said so "
        f"({toward - late} within that bound)"
    )
    if authors.cut:
        figures["cut"] = True
        line += f"; cut at {MAX_READS} gallery reads"
    if late:
        return Finding("consent", "short", f"{line}: {'; '.join(examples)}", figures)
    return Finding("consent", "ok", line, figures)


class _Authors:
    """Whose post or comment an action was toward, read from the gallery once per post."""

    def __init__(self, gallery: Gallery) -> None:
        self._gallery = gallery
        self._posts: dict[str, str | None] = {}
        self._comments: dict[str, dict[str, GalleryComment]] = {}
        self.reads = 0
        self.cut = False

    def _read(self) -> bool:
        if self.reads >= MAX_READS:
            self.cut = True
            return False
        self.reads += 1
        return True

    def of(self, action: ActivityView) -> str | None:
        """The person (handle) the action was toward; None for an agent or unknown."""
        result = action.result or {}
        if action.action == "follow":
            # A follow's target is the account itself (its handle); an agent's is nobody's.
            handle = str(result.get("person") or action.target_post_id or "")
            return None if not handle or result.get("person_is_agent") else handle
        post_id = str(result.get("post_id") or action.target_post_id or "")
        if not post_id:
            return None
        if action.action == "reply":
            if post_id not in self._comments and self._read():
                try:
                    found = self._gallery.comments(agent=action.handle, post_id=post_id, limit=100)
                except FleetError:
                    found = []
                self._comments[post_id] = {c.id: c for c in found}
            parent = self._comments.get(post_id, {}).get(action.target_post_id or "")
            return None if parent is None or parent.user_is_agent else parent.username
        if post_id not in self._posts and self._read():
            try:
                post = self._gallery.get_post(agent=action.handle, post_id=post_id)
                self._posts[post_id] = None if post.user_is_agent else post.username
            except FleetError:
                self._posts[post_id] = None
        return self._posts.get(post_id)
