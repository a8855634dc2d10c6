"""The fleet's pace as stored (``fleet.core.pace``), the readings it is measured from
(each post's counts as last read, people's actions between readings), and the ledger's
side: the fleet's own actions, and its engagements on given posts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from fleet.core.pace import CountsKept, Pace, PeopleSeen, PostRead, Reading
from fleet.core.statuses import ActivityStatus
from fleet.db.models import AgentActivity, Engagement, FleetPace, PaceReading, PostCounts

# What counts as the fleet's activity on the gallery (browsing leaves nothing there).
_VISIBLE = ("post", "comment", "reply", "like")


def current_pace(session: Session) -> float:
    """The pace in force (1.0 when none was measured yet)."""
    found = session.scalar(select(FleetPace.pace).where(FleetPace.id == 1))
    return 1.0 if found is None else float(found)


def stored_pace(sessions: sessionmaker[Session]) -> tuple[Pace, datetime] | None:
    """The last measured pace and when, if any."""
    with sessions() as session:
        row = session.get(FleetPace, 1)
        if row is None:
            return None
        fleet = row.fleet_per_day
        full = fleet / row.pace if row.pace > 0 else float(fleet)
        return Pace(row.people_per_day, fleet, full, row.pace), row.measured_at


def keep_pace(sessions: sessionmaker[Session], pace: Pace, *, now: datetime) -> None:
    """Store ``pace`` as the one in force."""
    with sessions.begin() as session:
        row = session.get(FleetPace, 1, with_for_update=True)
        if row is None:
            session.add(
                FleetPace(
                    id=1,
                    pace=pace.pace,
                    people_per_day=pace.people_per_day,
                    fleet_per_day=pace.fleet_per_day,
                    measured_at=now,
                )
            )
        else:
            row.pace, row.measured_at = pace.pace, now
            row.people_per_day, row.fleet_per_day = pace.people_per_day, pace.fleet_per_day


def fleet_actions_since(sessions: sessionmaker[Session], since: datetime) -> int:
    """The fleet's succeeded actions that show on the gallery, decided since ``since``."""
    with sessions() as session:
        return (
            session.scalar(
                select(func.count()).where(
                    AgentActivity.status == ActivityStatus.SUCCEEDED,
                    AgentActivity.action.in_(_VISIBLE),
                    AgentActivity.created_at >= since,
                )
            )
            or 0
        )


def first_action_since(sessions: sessionmaker[Session], since: datetime) -> datetime | None:
    """When the fleet's first action since ``since`` was decided (None: none since)."""
    with sessions() as session:
        return session.scalar(
            select(func.min(AgentActivity.created_at)).where(AgentActivity.created_at >= since)
        )


def fleet_comments_on(
    sessions: sessionmaker[Session],
    post_ids: Sequence[str],
    *,
    since: datetime,
    replies: Sequence[tuple[str, str | None]] | None = None,
) -> Counter[str]:
    """The fleet's comments and replies on each of these posts: the ledger's comments by
    post, and the replies published since ``since`` (a reply's engagement is kept by the
    comment it answers, its post is in its result). ``replies``: those already read with
    ``fleet_replies_on``, not read again."""
    wanted = set(post_ids)
    found: Counter[str] = Counter()
    if not wanted:
        return found
    with sessions() as session:
        rows = session.execute(
            select(Engagement.target_id, func.count())
            .where(Engagement.target_id.in_(list(wanted)), Engagement.kind == "comment")
            .group_by(Engagement.target_id)
        )
        found.update({post_id: int(n) for post_id, n in rows})
    if replies is None:
        replies = fleet_replies_on(sessions, post_ids, since=since)
    found.update(post_id for post_id, _ in replies if post_id in wanted)
    return found


def fleet_replies_on(
    sessions: sessionmaker[Session], post_ids: Sequence[str], *, since: datetime
) -> list[tuple[str, str | None]]:
    """The fleet's replies published since ``since`` on these posts: (post id, whom it
    answered: the handle of the comment's author, when kept)."""
    wanted = set(post_ids)
    if not wanted:
        return []
    with sessions() as session:
        replies = session.scalars(
            select(AgentActivity.result).where(
                AgentActivity.action == "reply",
                AgentActivity.status == ActivityStatus.SUCCEEDED,
                AgentActivity.created_at >= since,
            )
        )
        return [
            (str(result["post_id"]), str(result["to"]) if result.get("to") else None)
            for result in replies
            if isinstance(result, dict) and result.get("post_id") in wanted
        ]


def kept_counts(sessions: sessionmaker[Session], post_ids: Sequence[str]) -> dict[str, CountsKept]:
    """What the last reading that saw each of these posts kept of its counts."""
    wanted = list(set(post_ids))
    if not wanted:
        return {}
    with sessions() as session:
        rows = session.execute(
            select(
                PostCounts.post_id, PostCounts.total, PostCounts.fleet_total, PostCounts.read_at
            ).where(PostCounts.post_id.in_(wanted))
        )
        return {
            post_id: CountsKept(total, fleet, read_at) for post_id, total, fleet, read_at in rows
        }


def last_reading_at(sessions: sessionmaker[Session]) -> datetime | None:
    """When the gallery was last read for the pace (None: never)."""
    with sessions() as session:
        return session.scalar(select(func.max(PaceReading.read_at)))


def readings_since(sessions: sessionmaker[Session], since: datetime) -> list[Reading]:
    """The readings made after ``since``, oldest first."""
    with sessions() as session:
        rows = session.scalars(
            select(PaceReading).where(PaceReading.read_at > since).order_by(PaceReading.read_at)
        )
        return [
            Reading(
                r.started_at,
                r.read_at,
                PeopleSeen(r.people_posts, r.people_engagement),
                r.pace,
            )
            for r in rows
        ]


def keep_reading(
    sessions: sessionmaker[Session],
    reading: Reading,
    read: Sequence[PostRead],
    fleet_now: Mapping[str, int],
    *,
    forget_before: datetime,
) -> None:
    """Keep a reading and the counts of the posts it read, with the fleet's own on each
    (``fleet_engagement_counts``), in one transaction, and forget readings and counts
    older than ``forget_before``."""
    counts = {post.post_id: post.total for post in read}
    with sessions.begin() as session:
        session.add(
            PaceReading(
                started_at=reading.start,
                read_at=reading.end,
                people_posts=reading.people.posts,
                people_engagement=reading.people.engagement,
                pace=reading.pace,
            )
        )
        if counts:
            session.execute(delete(PostCounts).where(PostCounts.post_id.in_(list(counts))))
            session.execute(
                insert(PostCounts),
                [
                    {
                        "post_id": post_id,
                        "total": total,
                        "fleet_total": fleet_now.get(post_id, 0),
                        "read_at": reading.end,
                    }
                    for post_id, total in counts.items()
                ],
            )
        session.execute(delete(PostCounts).where(PostCounts.read_at < forget_before))
        session.execute(delete(PaceReading).where(PaceReading.read_at < forget_before))


def fleet_engagement_counts(
    sessions: sessionmaker[Session], post_ids: Sequence[str], *, replies_since: datetime
) -> dict[str, int]:
    """The fleet's likes, comments and replies on each of these posts as the ledger has
    them now (a reply counted by its post, in its result, if it ended after
    ``replies_since``: its engagement is kept by the comment it answers)."""
    wanted = set(post_ids)
    found: Counter[str] = Counter()
    if not wanted:
        return {}
    with sessions() as session:
        rows = session.execute(
            select(Engagement.target_id, func.count())
            .where(Engagement.target_id.in_(list(wanted)), Engagement.kind.in_(("like", "comment")))
            .group_by(Engagement.target_id)
        )
        found.update({post_id: int(n) for post_id, n in rows})
        replies = session.scalars(
            select(AgentActivity.result).where(
                AgentActivity.action == "reply",
                AgentActivity.status == ActivityStatus.SUCCEEDED,
                AgentActivity.finished_at > replies_since,
            )
        )
        found.update(
            str(result["post_id"])
            for result in replies
            if isinstance(result, dict) and result.get("post_id") in wanted
        )
    return dict(found)
