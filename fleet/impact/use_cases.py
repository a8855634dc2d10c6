"""Does engagement help? The newcomer holdout's use cases (docs/impact.md): recording the
people the pace's reading of the gallery finds, and the impact report.

People are seen where the fleet's pace is measured (``fleet.service.pace``) and where a
reply reads the comments around its agent: both fire what they saw, and the experiment's
listener keeps it (``fleet.impact.sightings``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

from fleet import activities
from fleet.errors import FleetError, InputError, from_extra
from fleet.gallery.port import GalleryComment, GalleryPost
from fleet.impact.holdout import check_experiment
from fleet.service.root import Fleet

if TYPE_CHECKING:
    from fleet.impact.holdout import Person, Touch
    from fleet.impact.outcomes import ImpactReport

# Who opted out of agent engagement: the consent's reader hands a set of gallery user ids
# (none until one is wired).
OptedOut = Callable[[], Collection[str]]


def record_people(fleet: Fleet, posts: Sequence[GalleryPost]) -> int:
    """Keep people's posts among ``posts`` and assign those the experiment does not hold
    yet; how many were newly assigned (``fleet.impact.sightings``, the listener of the
    pace task's reading)."""
    return fleet.sightings.posts_seen(posts=posts)


def record_comments(fleet: Fleet, comments: Sequence[GalleryComment]) -> None:
    """Keep people's comments among ``comments`` (each once): a person who comments
    returns as surely as one who posts (``fleet.impact.sightings``, the listener of a
    reply's choice)."""
    fleet.sightings.comments_seen(comments=comments)


def experiment_names(fleet: Fleet) -> list[dict[str, object]]:
    """Every experiment recorded: its name, people, and first assignment."""
    return [
        {"experiment": name, "people": count, "since": first.isoformat()}
        for name, count, first in activities.experiments(fleet.sessions)
    ]


def impact_report(
    fleet: Fleet,
    experiment: str | None = None,
    *,
    opted_out: OptedOut | None = None,
) -> ImpactReport:
    """The impact report of ``experiment`` (default: the one running) at the fleet's now.
    InputError for a name that is not a short identifier; MissingExtra without scipy
    (the ``stats`` extra)."""
    from fleet.impact.outcomes import report

    from_extra("scipy.stats", "stats", "the impact report's statistics")

    impact = fleet.settings.impact
    name = impact.experiment if experiment is None else experiment
    try:
        check_experiment(name)
    except ValueError as error:
        raise InputError(str(error)) from None
    people = activities.people_of(fleet.sessions, name)
    apart = frozenset(opted_out()) if opted_out is not None else turned_away(fleet, people)
    read = report(
        name,
        people,
        now=fleet.clock.now(),
        days=impact.holdout_days,
        opted_out=apart,
        seed=fleet.settings.seed,
    )
    touches = activities.touches_of_the_held(fleet.sessions, name, impact.holdout_days)
    touches = touches + seen_on_the_gallery(fleet, name, touches)
    answered = activities.identity_answered(fleet.sessions, name)
    notes = list(read.notes)
    if answered.get("holdout"):
        notes.append(
            f"{answered['holdout']} held-out "
            + ("person was" if answered["holdout"] == 1 else "people were")
            + " answered an identity question: honesty outranks the holdout; they stay in "
            "the holdout arm (intention-to-treat)."
        )
    return replace(
        read,
        touched_holdout=len(touches),
        touches=touches,
        identity_answered=answered,
        notes=notes,
    )


# The held-out people's posts whose comments the report reads on the gallery, newest first.
GALLERY_POSTS_READ = 50


def seen_on_the_gallery(fleet: Fleet, experiment: str, known: Sequence[Touch]) -> list[Touch]:
    """Agents' comments the gallery shows on held-out people's posts within their holdout
    that the ledger's ``known`` touches do not hold (one the fleet did not record:
    another fleet's, or one lost from the ledger), each marked as seen on the gallery.
    At most ``GALLERY_POSTS_READ`` posts are read; a gallery that cannot be read adds
    nothing (the ledger's count stands)."""
    from fleet.agents.queries import live_handles_with_accounts
    from fleet.impact.holdout import Touch
    from fleet.service.admin_gallery import gallery_of

    impact = fleet.settings.impact
    posts = activities.held_posts(
        fleet.sessions,
        experiment,
        impact.holdout_days,
        now=fleet.clock.now(),
        limit=GALLERY_POSTS_READ,
    )
    readers = live_handles_with_accounts(fleet.sessions, limit=1)
    if not posts or not readers:
        return []
    already = {(t.agent, t.target_kind, t.target_id) for t in known}
    horizon = timedelta(days=impact.holdout_days)
    found: list[Touch] = []
    try:
        with gallery_of(fleet) as gallery:
            for post_id, user_id, username, since in posts:
                for c in gallery.comments(agent=readers[0], post_id=post_id, limit=100):
                    # An agent's comment on the post itself (a reply answers whoever wrote
                    # the comment it answers, not the post's author).
                    if (
                        c.user_is_agent
                        and c.parent_id is None
                        and since <= c.created_at < since + horizon
                        and (c.username, "post", post_id) not in already
                    ):
                        found.append(
                            Touch(
                                c.username,
                                "comment (seen on the gallery)",
                                "post",
                                post_id,
                                user_id,
                                username,
                                c.created_at,
                            )
                        )
    except FleetError:
        return []
    return found


# The newcomers whose followers one pace reading reads at the most (the newest first),
# and for how long after Fleet first saw them: the first-follower outcome's horizon.
FOLLOWERS_READ_PER_READING = 30
FOLLOWERS_WATCHED_FOR = timedelta(days=1)


def record_first_followers(fleet: Fleet, reader: str) -> int:
    """Read the followers of the experiment's people of the last day who have none seen
    yet (at most ``FOLLOWERS_READ_PER_READING``, as ``reader``) and keep each follower
    first seen, at this reading's time: a person's follow is seen within a reading's
    interval, an agent's is the ledger's own (``activities.people_of``). How many were
    kept; nothing while the holdout is off, and nothing from a gallery that cannot be
    read now."""
    impact = fleet.settings.impact
    if impact.holdout_share <= 0:
        return 0
    now = fleet.clock.now()
    people = activities.awaiting_first_follower(
        fleet.sessions,
        impact.experiment,
        now=now,
        within=FOLLOWERS_WATCHED_FOR,
        limit=FOLLOWERS_READ_PER_READING,
    )
    if not people:
        return 0
    seen: list[activities.Sighting] = []
    gallery = fleet.open_gallery()
    try:
        for user_id, username in people:
            try:
                followers = gallery.followers(agent=reader, handle=username, limit=5)
            except FleetError:
                continue  # unreadable now (gone, or the call refused): the next reading
            seen.extend(
                activities.Sighting(
                    activities.FOLLOWER, activities.follower_item(user_id, f.id), user_id, now
                )
                for f in followers
            )
    finally:
        if fleet.gallery is None:
            gallery.close()
    activities.record_sightings(fleet.sessions, seen)
    return len(seen)


def turned_away(fleet: Fleet, people: Sequence[Person]) -> frozenset[str]:
    """The user ids of recorded people who turned agents away on the gallery (opted out
    of all or of all but replies, blocked an agent, or whose say could not be read): never
    treated, so counted apart. Empty when the gallery offers no consent calls or cannot be
    read now (nobody could say no, or nobody is known to have)."""
    from fleet.consent.core import Consent, said_no
    from fleet.gallery.consent import ReadsConsent
    from fleet.service.admin_gallery import gallery_of

    if not people:
        return frozenset()
    try:
        with gallery_of(fleet) as gallery:
            if not isinstance(gallery, ReadsConsent):
                return frozenset()
            read = gallery.agent_consent()
    except FleetError:
        return frozenset()
    if not read.offered:
        return frozenset()
    consent = Consent(people=read.people, unreadable=read.unreadable)
    return frozenset(
        p.assignment.user_id for p in people if said_no(consent, p.assignment.username)
    )
