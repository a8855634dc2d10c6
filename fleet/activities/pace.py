"""The fleet's pace as stored (``fleet.core.pace``), and the ledger's side of a day's
activity: the fleet's own actions, and its engagements on given posts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from fleet.core.pace import Pace
from fleet.db.models import AgentActivity, Engagement, FleetPace

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
                    AgentActivity.status == "succeeded",
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


def fleet_engagements_on(
    sessions: sessionmaker[Session], post_ids: Sequence[str], *, since: datetime
) -> int:
    """The fleet's likes, comments and replies on these posts (``fleet_comments_on`` for
    the comments and replies)."""
    if not post_ids:
        return 0
    with sessions() as session:
        likes = (
            session.scalar(
                select(func.count()).where(
                    Engagement.post_id.in_(list(set(post_ids))), Engagement.kind == "like"
                )
            )
            or 0
        )
    return likes + sum(fleet_comments_on(sessions, post_ids, since=since).values())


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
            select(Engagement.post_id, func.count())
            .where(Engagement.post_id.in_(list(wanted)), Engagement.kind == "comment")
            .group_by(Engagement.post_id)
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
                AgentActivity.status == "succeeded",
                AgentActivity.created_at >= since,
            )
        )
        return [
            (str(result["post_id"]), str(result["to"]) if result.get("to") else None)
            for result in replies
            if isinstance(result, dict) and result.get("post_id") in wanted
        ]
