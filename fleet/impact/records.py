"""The newcomer holdout's records: each person's arm, recorded once per experiment, and
the people's posts and comments Fleet saw on the gallery (``fleet.impact.holdout``,
``fleet.impact.outcomes``). Commands write them; queries read them for the report and for
the agents' target choice."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session, sessionmaker

from fleet.core.kinds import TARGET_KINDS
from fleet.db.engine import insert_ignoring
from fleet.db.models import (
    Agent,
    Engagement,
    IdentityQuestion,
    ImpactAssignment,
    ImpactSighting,
)
from fleet.impact.holdout import Arm, Assignment, Person, Touch, newly_assigned

# Rows written in one statement at the most.
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Sighting:
    """A person's post or comment as Fleet saw it on the gallery, or a follower of theirs
    (``kind`` "follower", ``item_id`` ``follower_item``: first seen at ``at``)."""

    kind: str  # "post", "comment" or "follower"
    item_id: str
    user_id: str
    at: datetime


FOLLOWER = "follower"


def follower_item(user_id: str, follower_id: str) -> str:
    """The item id of a person's follower's sighting: one per (person, follower)."""
    return f"{user_id}<{follower_id}"[:64]


def _insert_ignoring(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows``, leaving any whose key is there already (a row is written once)."""
    statement = insert_ignoring(session, model)
    for start in range(0, len(rows), _CHUNK):
        session.execute(statement, rows[start : start + _CHUNK])


def record_sightings(sessions: sessionmaker[Session], seen: Sequence[Sighting]) -> None:
    """Keep people's posts and comments seen on the gallery (each once)."""
    if not seen:
        return
    rows = [
        {"kind": s.kind, "item_id": s.item_id[:64], "user_id": s.user_id[:64], "at": s.at}
        for s in {(s.kind, s.item_id): s for s in seen}.values()
    ]
    with sessions.begin() as session:
        _insert_ignoring(session, ImpactSighting, rows)


def assign_people(
    sessions: sessionmaker[Session],
    people: Mapping[str, tuple[str, datetime]],
    *,
    experiment: str,
    share: float,
    now: datetime,
) -> list[Assignment]:
    """Assign the people of ``people`` (user id -> (username, first seen)) that
    ``experiment`` does not hold yet, at ``share``, and record them; the new assignments.
    A person already recorded keeps their arm, whatever the share is now."""
    if not people:
        return []
    with sessions.begin() as session:
        known = set(
            session.scalars(
                select(ImpactAssignment.user_id).where(
                    ImpactAssignment.experiment == experiment,
                    ImpactAssignment.user_id.in_(list(people)),
                )
            )
        )
        new = newly_assigned(people, known, experiment=experiment, share=share)
        _insert_ignoring(
            session,
            ImpactAssignment,
            [
                {
                    "experiment": a.experiment,
                    "user_id": a.user_id[:64],
                    "username": a.username[:64],
                    "arm": a.arm,
                    "share": a.share,
                    "first_seen": a.first_seen,
                    "assigned_at": now,
                }
                for a in new
            ],
        )
    return new


def _assignment(row: ImpactAssignment) -> Assignment:
    arm: Arm = "holdout" if row.arm == "holdout" else "treated"
    return Assignment(row.user_id, row.username, row.experiment, arm, row.share, row.first_seen)


def assignments(sessions: sessionmaker[Session], experiment: str) -> list[Assignment]:
    """Every person recorded in ``experiment``, first seen first."""
    with sessions() as session:
        rows = session.scalars(
            select(ImpactAssignment)
            .where(ImpactAssignment.experiment == experiment)
            .order_by(ImpactAssignment.first_seen, ImpactAssignment.user_id)
        ).all()
        return [_assignment(r) for r in rows]


def arms_of(sessions: sessionmaker[Session], experiment: str) -> list[tuple[str, str, datetime]]:
    """(user id, arm, first seen) of every person recorded in ``experiment``: what target
    choice needs to leave the holdout alone (``fleet.impact.holdout.Spared``)."""
    with sessions() as session:
        return [
            (user_id, arm, seen)
            for user_id, arm, seen in session.execute(
                select(
                    ImpactAssignment.user_id, ImpactAssignment.arm, ImpactAssignment.first_seen
                ).where(ImpactAssignment.experiment == experiment)
            )
        ]


def experiments(sessions: sessionmaker[Session]) -> list[tuple[str, int, datetime]]:
    """Every experiment recorded: (name, people, first assignment), oldest first."""
    with sessions() as session:
        rows = session.execute(
            select(
                ImpactAssignment.experiment,
                func.count(),
                func.min(ImpactAssignment.assigned_at),
            )
            .group_by(ImpactAssignment.experiment)
            .order_by(func.min(ImpactAssignment.assigned_at))
        ).all()
        return [(name, int(count), first) for name, count, first in rows]


def people_of(sessions: sessionmaker[Session], experiment: str) -> list[Person]:
    """The people recorded in ``experiment`` with what Fleet saw of them: their posts and
    comments, the first like or comment of an agent on their first post (from the
    engagement ledger), and their first follower: an agent's follow (the ledger) or a
    person's seen among their followers, whichever came first."""
    recorded = assignments(sessions, experiment)
    if not recorded:
        return []
    posts: dict[str, list[tuple[datetime, str]]] = {}
    comments: dict[str, list[datetime]] = {}
    followed: dict[str, datetime] = {}
    ids = [a.user_id for a in recorded]
    with sessions() as session:
        for start in range(0, len(ids), _CHUNK):
            for kind, item, user_id, at in session.execute(
                select(
                    ImpactSighting.kind,
                    ImpactSighting.item_id,
                    ImpactSighting.user_id,
                    ImpactSighting.at,
                ).where(ImpactSighting.user_id.in_(ids[start : start + _CHUNK]))
            ):
                if kind == "post":
                    posts.setdefault(user_id, []).append((at, item))
                elif kind == FOLLOWER:
                    followed[user_id] = min(at, followed.get(user_id, at))
                else:
                    comments.setdefault(user_id, []).append(at)
        first_posts = {user_id: min(made)[1] for user_id, made in posts.items() if made}
        responses = _first_engagements(session, list(first_posts.values()))
        by_agents = _first_follows(session, recorded)
    for user_id, at in by_agents.items():
        followed[user_id] = min(at, followed.get(user_id, at))
    return [
        Person(
            a,
            tuple(sorted(at for at, _ in posts.get(a.user_id, []))),
            tuple(sorted(comments.get(a.user_id, []))),
            responses.get(first_posts.get(a.user_id, "")),
            followed.get(a.user_id),
        )
        for a in recorded
    ]


def _first_follows(session: Session, people: Sequence[Assignment]) -> dict[str, datetime]:
    """By user id, the first follow of an agent toward each person (the ledger names the
    account by its handle, or its id)."""
    owner: dict[str, str] = {}
    for a in people:
        owner[a.username] = a.user_id
        owner[a.user_id] = a.user_id
    wanted = list(owner)
    found: dict[str, datetime] = {}
    for start in range(0, len(wanted), _CHUNK):
        for target, first in session.execute(
            select(Engagement.target_id, func.min(Engagement.created_at))
            .where(
                Engagement.target_kind == "person",
                Engagement.kind == "follow",
                Engagement.target_id.in_(wanted[start : start + _CHUNK]),
            )
            .group_by(Engagement.target_id)
        ):
            user_id = owner[str(target)]
            found[user_id] = min(first, found.get(user_id, first))
    return found


def awaiting_first_follower(
    sessions: sessionmaker[Session],
    experiment: str,
    *,
    now: datetime,
    within: timedelta,
    limit: int,
) -> list[tuple[str, str]]:
    """(user id, username) of people recorded in ``experiment``, first seen within
    ``within`` of ``now``, with no follower seen yet, newest first, at most ``limit``:
    whose followers the pace task reads."""
    with sessions() as session:
        fresh = session.execute(
            select(ImpactAssignment.user_id, ImpactAssignment.username)
            .where(
                ImpactAssignment.experiment == experiment,
                ImpactAssignment.first_seen >= now - within,
            )
            .order_by(ImpactAssignment.first_seen.desc())
        ).all()
        if not fresh:
            return []
        seen = set(
            session.scalars(
                select(ImpactSighting.user_id).where(
                    ImpactSighting.kind == FOLLOWER,
                    ImpactSighting.user_id.in_([u for u, _ in fresh]),
                )
            )
        )
    return [(str(u), str(n)) for u, n in fresh if u not in seen][:limit]


def touches_of_the_held(sessions: sessionmaker[Session], experiment: str, days: int) -> list[Touch]:
    """The fleet's likes, comments, replies and mentions (by its engagement ledger) of
    held-out people within their holdout: of their posts (a target of kind ``post``),
    their comments (``comment``) or their account (``person``), each compared with its own
    kind, never a comment's id with a post's. None is right; each is shown with its target
    so that an operator can open it. An answer honesty owed (a question about what the
    agent is) is no touch: it is counted apart, per arm (``identity_answered``)."""
    held = {
        a.user_id: (a.first_seen, a.username)
        for a in assignments(sessions, experiment)
        if a.arm == "holdout"
    }
    if not held:
        return []
    horizon = timedelta(days=days)
    touches: list[Touch] = []
    ids = list(held)
    with sessions() as session:
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            owners: dict[tuple[str, str], str] = {
                (kind, item): user_id
                for kind, item, user_id in session.execute(
                    select(
                        ImpactSighting.kind, ImpactSighting.item_id, ImpactSighting.user_id
                    ).where(ImpactSighting.user_id.in_(chunk))
                )
            }
            # An account is named by its id or, as a follow and a mention name it, its handle.
            owners.update({("person", u): u for u in chunk})
            owners.update({("person", held[u][1]): u for u in chunk})
            for target_kind in TARGET_KINDS:
                wanted = [item for kind, item in owners if kind == target_kind]
                for part in range(0, len(wanted), _CHUNK):
                    rows = session.execute(
                        select(
                            Agent.handle,
                            Engagement.kind,
                            Engagement.target_id,
                            Engagement.created_at,
                        )
                        .join(Agent, Agent.id == Engagement.agent_id)
                        .where(
                            Engagement.target_kind == target_kind,
                            Engagement.target_id.in_(wanted[part : part + _CHUNK]),
                            ~_owed_answer(),
                        )
                    )
                    for handle, action, target_id, at in rows:
                        user_id = owners[(target_kind, target_id)]
                        seen, username = held[user_id]
                        if seen <= at < seen + horizon:
                            touches.append(
                                Touch(
                                    str(handle),
                                    str(action),
                                    target_kind,
                                    str(target_id),
                                    user_id,
                                    username,
                                    at,
                                )
                            )
    return sorted(touches, key=lambda t: (t.at, t.agent, t.target_id))


def held_posts(
    sessions: sessionmaker[Session], experiment: str, days: int, *, now: datetime, limit: int
) -> list[tuple[str, str, str, datetime]]:
    """The posts of held-out people seen within their holdout, newest first, at most
    ``limit``: (post id, user id, username, the holdout's start)."""
    held = {
        a.user_id: (a.username, a.first_seen)
        for a in assignments(sessions, experiment)
        if a.arm == "holdout" and now - a.first_seen < timedelta(days=days)
    }
    if not held:
        return []
    found: list[tuple[str, str, str, datetime]] = []
    ids = list(held)
    with sessions() as session:
        for start in range(0, len(ids), _CHUNK):
            for item, user_id, at in session.execute(
                select(ImpactSighting.item_id, ImpactSighting.user_id, ImpactSighting.at).where(
                    ImpactSighting.kind == "post",
                    ImpactSighting.user_id.in_(ids[start : start + _CHUNK]),
                )
            ):
                found.append((str(item), str(user_id), held[user_id][0], at))
    found.sort(key=lambda f: f[3], reverse=True)
    return [(item, user, name, held[user][1]) for item, user, name, _ in found[:limit]]


def _owed_answer() -> Any:
    """An engagement that is the truthful answer honesty owed a person's question about
    what the agent is: an exposure (``identity_answered``), not a touch the holdout
    forbids."""
    return exists().where(
        Engagement.kind == "reply",
        Engagement.target_kind == "comment",
        IdentityQuestion.agent_id == Engagement.agent_id,
        IdentityQuestion.comment_id == Engagement.target_id,
        IdentityQuestion.closed_reason.is_(None),
    )


def identity_answered(sessions: sessionmaker[Session], experiment: str) -> dict[str, int]:
    """Per arm, the people recorded in ``experiment`` whom an agent answered a question
    about what it is (the question's asker, its answer a reply in the ledger): exposures
    honesty owes whatever the arm (``fleet.core.answering``)."""
    answered = (
        select(ImpactAssignment.arm, func.count(func.distinct(ImpactAssignment.user_id)))
        .select_from(IdentityQuestion)
        .join(
            Engagement,
            and_(
                Engagement.agent_id == IdentityQuestion.agent_id,
                Engagement.target_kind == "comment",
                Engagement.target_id == IdentityQuestion.comment_id,
                Engagement.kind == "reply",
            ),
        )
        .join(
            ImpactAssignment,
            and_(
                ImpactAssignment.experiment == experiment,
                ImpactAssignment.username == IdentityQuestion.asker,
            ),
        )
        .where(IdentityQuestion.asker != "")
        .group_by(ImpactAssignment.arm)
    )
    found = {arm: 0 for arm in ("treated", "holdout")}
    with sessions() as session:
        for arm, count in session.execute(answered):
            found[str(arm)] = int(count)
    return found


def _first_engagements(session: Session, post_ids: Iterable[str]) -> dict[str, datetime]:
    wanted = list(post_ids)
    found: dict[str, datetime] = {}
    for start in range(0, len(wanted), _CHUNK):
        for post_id, first in session.execute(
            select(Engagement.target_id, func.min(Engagement.created_at))
            .where(
                Engagement.target_kind == "post",
                Engagement.target_id.in_(wanted[start : start + _CHUNK]),
                Engagement.kind.in_(("like", "comment")),
            )
            .group_by(Engagement.target_id)
        ):
            found[post_id] = first
    return found
