"""The post a like or comment is for: chosen once, never one the agent already has.

A pending like (or comment) holds its target on its activity row, so that every delivery
of it acts on the same post. The unique index of pending targets per (agent, action)
keeps two actions of one agent in flight off one post; the engagement ledger says which
posts the agent is done with and how many bot engagements a post had in the last hour.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    String,
    Table,
    and_,
    any_,
    bindparam,
    case,
    exists,
    func,
    literal,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from fleet.activities.views import Chooser, TargetKept
from fleet.core.statuses import ActivityStatus
from fleet.db.engine import autocommit
from fleet.db.models import Agent, AgentActivity, Engagement

ACTIVITIES = cast(Table, AgentActivity.__table__)
AGENTS = cast(Table, Agent.__table__)
ENGAGEMENTS = cast(Table, Engagement.__table__)


def _held(columns: tuple[Any, ...], agent_is: Any, post_is: Any) -> Any:
    """``columns`` of the posts among ``post_is`` an agent's (``agent_is``) actions of
    ``:kind`` hold: every one but a skipped one. One in flight (pending), a draft awaiting
    review, one that succeeded (the ledger has it too), and one that died (its effect may
    have reached the gallery; reconciliation may find it there and count it): a second
    like of a post would toggle the first off, a second comment is one too many."""
    return select(*columns).where(
        agent_is,
        ACTIVITIES.c.action == bindparam("kind"),
        post_is(ACTIVITIES.c.target_post_id),
        ACTIVITIES.c.status != ActivityStatus.SKIPPED.value,
    )


_TARGET_OF = select(ACTIVITIES.c.status, ACTIVITIES.c.target_post_id).where(
    ACTIVITIES.c.id == bindparam("activity")
)


# One read for the choice: the agent's other likes (or comments) in flight have taken
# their posts (a second like of one post would toggle the first off), and per feed post
# the bot engagements since the cap's window began and whether this agent is among them.
def _taken(post_in: Any) -> Any:
    return union_all(
        _held(
            (ACTIVITIES.c.target_post_id, literal(0), literal(1)),
            and_(
                ACTIVITIES.c.agent_id == bindparam("agent"),
                ACTIVITIES.c.id != bindparam("activity"),
            ),
            post_in,
        ),
        select(
            ENGAGEMENTS.c.target_id,
            func.sum(case((ENGAGEMENTS.c.created_at >= bindparam("since"), 1), else_=0)),
            func.max(case((ENGAGEMENTS.c.agent_id == bindparam("agent"), 1), else_=0)),
        )
        .where(post_in(ENGAGEMENTS.c.target_id), ENGAGEMENTS.c.kind == bindparam("kind"))
        .group_by(ENGAGEMENTS.c.target_id),
    )


# Dialect branch: Postgres gets one array parameter (= ANY), SQLite an expanding IN list.
_TAKEN = {
    # One array parameter: the statement's text is the same whatever the page's length,
    # so Postgres keeps one prepared plan for it.
    "postgresql": _taken(lambda c: c == any_(bindparam("posts", type_=postgresql.ARRAY(String)))),
    "sqlite": _taken(lambda c: c.in_(bindparam("posts", expanding=True))),
}


# The same read for many agents at once (a batch's first choices), by what the choice needs
# and no more: rows that do not grow with an agent's history. Per agent its handle (marked
# 1) and persona (marked 2); the posts its actions in flight hold (pending ones: a set as
# small as what is in flight, marked 0); and the candidates' ledger, read by the candidates
# (``ix_engagements_target_id_created_at``: one descent a post, however long any agent's
# history) and grouped per post and batch agent (marked 3): who of the batch engaged with
# each and the bot engagements since ``:since``. A succeeded action is in the ledger; one
# that died or awaits review (rare) is not read here: the claim's check (``open_to``) still
# refuses its post, and the like then chooses again by ``keep_target``'s exact read.
#
# Before, every action of the agent but a skipped one was read, by agent: the planner read
# each agent's whole history through an index of agent alone (5,150 rows for a batch of 50
# likes with a hundred earlier likes each, ``bench.like_cpu``), or probed each (agent,
# post) pair, 2,500 index descents and 4-11 ms of Postgres per batch.
def _taken_by(agent_in: Any, ledger: Any) -> Any:
    """``ledger``: the candidates' ledger rows of ``:kind`` (agent, target, time)."""
    batch_agent = case((agent_in(ledger.c.agent_id), ledger.c.agent_id), else_=None)
    return union_all(
        select(AGENTS.c.id, AGENTS.c.handle, literal(1), literal(0)).where(agent_in(AGENTS.c.id)),
        select(AGENTS.c.id, AGENTS.c.persona, literal(2), literal(0)).where(agent_in(AGENTS.c.id)),
        select(ACTIVITIES.c.agent_id, ACTIVITIES.c.target_post_id, literal(0), literal(0)).where(
            agent_in(ACTIVITIES.c.agent_id),
            ACTIVITIES.c.action == bindparam("kind"),
            ACTIVITIES.c.status == ActivityStatus.PENDING.value,
            ACTIVITIES.c.target_post_id.is_not(None),  # the pending-target index's condition
        ),
        select(
            batch_agent,
            ledger.c.target_id,
            literal(3),
            func.count().filter(ledger.c.created_at >= bindparam("since")),
        ).group_by(batch_agent, ledger.c.target_id),
    )


_LEDGER = (ENGAGEMENTS.c.agent_id, ENGAGEMENTS.c.target_id, ENGAGEMENTS.c.created_at)


def _ledger_probes() -> Any:
    """Postgres's candidates' ledger: a lateral probe of the target's index per candidate
    (never a hash of the table read whole, which the planner picks while the ledger is
    small: 10,000 rows read for a batch's 150)."""
    posts = bindparam("posts", type_=postgresql.ARRAY(String))
    candidate = func.unnest(posts).table_valued("post").render_derived(name="candidate")
    probe = (
        select(*_LEDGER)
        .where(ENGAGEMENTS.c.target_id == candidate.c.post, ENGAGEMENTS.c.kind == bindparam("kind"))
        .offset(0)  # kept a probe per candidate: Postgres flattens a lateral without one
        .lateral("ledger")
    )
    return select(probe).select_from(candidate.join(probe, true())).subquery("ledger_rows")


_TAKEN_BY = {
    # Arrays as one parameter each: one text whatever the batch's size, one prepared plan.
    "postgresql": _taken_by(
        lambda c: c == any_(bindparam("agents", type_=postgresql.ARRAY(BigInteger))),
        _ledger_probes(),
    ),
    "sqlite": _taken_by(
        lambda c: c.in_(bindparam("agents", expanding=True)),
        select(*_LEDGER)
        .where(
            ENGAGEMENTS.c.target_id.in_(bindparam("posts", expanding=True)),
            ENGAGEMENTS.c.kind == bindparam("kind"),
        )
        .subquery("ledger_rows"),
    ),
}


@dataclass(frozen=True, slots=True)
class Taken:
    """What a batch's first choices must avoid: per agent the posts it is done with or
    holds (``done``), per post the bot engagements in the cap's window (``recent``); and
    each agent's handle (its own posts are not for it) and persona (its taste)."""

    done: dict[int, set[str]]
    recent: dict[str, int]
    handles: dict[int, str]
    personas: dict[int, str] = field(default_factory=dict)


def taken_by_parameters(
    agent_ids: Sequence[int], kind: str, post_ids: Sequence[str], *, since: datetime
) -> dict[str, Any]:
    """The parameters of ``taken_by``'s one statement (``_TAKEN_BY``)."""
    return {
        "agents": list(dict.fromkeys(agent_ids)),
        "posts": list(post_ids),
        "kind": kind,
        "since": since,
    }


def taken_by(
    sessions: sessionmaker[Session],
    agent_ids: Sequence[int],
    kind: str,
    post_ids: Sequence[str],
    *,
    since: datetime,
) -> Taken:
    """One read for many agents' choices among ``post_ids`` (see ``Taken``)."""
    done: dict[int, set[str]] = {}
    recent: dict[str, int] = {}
    handles: dict[int, str] = {}
    personas: dict[int, str] = {}
    if not agent_ids or not post_ids:
        return Taken(done, recent, handles, personas)
    with autocommit(sessions).connect() as connection:
        # Fetched whole in one call: hundreds of rows a batch, which iterating the
        # result would fetch one call each.
        rows = connection.execute(
            _TAKEN_BY[connection.dialect.name],
            taken_by_parameters(agent_ids, kind, post_ids, since=since),
        ).all()
        for agent_id, text, marked, count in rows:
            if marked == 3:  # a candidate's ledger: by one of the batch, or by the others
                if count:
                    recent[text] = recent.get(text, 0) + int(count)
                if agent_id is not None:
                    done.setdefault(int(agent_id), set()).add(text)
            elif marked == 1:
                handles[int(agent_id)] = text
            elif marked == 2:
                personas[int(agent_id)] = text
            else:
                done.setdefault(int(agent_id), set()).add(text)
    return Taken(done, recent, handles, personas)


# The first choice holds: only a pending activity without a target takes one. The unique
# index of pending targets per (agent, action) refuses a post another action has taken.
_KEEP = (
    update(ACTIVITIES)
    .where(
        ACTIVITIES.c.id == bindparam("activity"),
        ACTIVITIES.c.status == ActivityStatus.PENDING,
        ACTIVITIES.c.target_post_id.is_(None),
    )
    .values(target_post_id=bindparam("post"), updated_at=bindparam("at"))
    .returning(ACTIVITIES.c.target_post_id)
)


# Another action of the agent, beside the activity an open_to statement updates.
_OTHER = ACTIVITIES.alias("other")


def open_to(agent: Any, post: Any = None) -> Any:
    """The post ``post`` (default ``:post``) is open to ``agent``'s activity the statement
    updates: held by no other action of the agent of
    ``:kind`` but a skipped one (``_held``), not engaged with by it before, and with fewer
    than ``:cap`` bot engagements of that kind since ``:since``.

    The other actions' rows are locked for share as they are read (Postgres; SQLite runs
    one writer at a time): of an action of the agent on the post ending at this moment
    (pending, then succeeded and its ledger row, in one transaction), the check waits for
    the end and reads the row as it ended, never the pending one it read before the wait
    while the ledger it read says nothing yet. Without the lock the unique index of pending
    targets waited on that transaction and then let the post be held a second time.
    """
    post = bindparam("post") if post is None else post
    return and_(
        ~select(literal(1))
        .where(
            _OTHER.c.agent_id == agent,
            _OTHER.c.action == bindparam("kind"),
            _OTHER.c.target_post_id == post,
            _OTHER.c.status != ActivityStatus.SKIPPED.value,
            _OTHER.c.id != ACTIVITIES.c.id,
        )
        .with_for_update(read=True)
        .exists(),
        ~exists().where(
            ENGAGEMENTS.c.agent_id == agent,
            ENGAGEMENTS.c.target_id == post,
            ENGAGEMENTS.c.kind == bindparam("kind"),
        ),
        select(func.count())
        .where(
            ENGAGEMENTS.c.target_id == post,
            ENGAGEMENTS.c.kind == bindparam("kind"),
            ENGAGEMENTS.c.created_at >= bindparam("since"),
        )
        .scalar_subquery()
        < bindparam("cap"),
    )


# A choice is kept only if the post is still open to the agent as the row is written.
_KEEP_IF_OPEN = _KEEP.where(open_to(bindparam("agent")))
CHOICE_ATTEMPTS = 3


def keep_target(
    sessions: sessionmaker[Session],
    activity_id: int,
    agent_id: int,
    kind: str,
    post_ids: Sequence[str],
    choose: Chooser,
    *,
    cap_per_hour: int,
    since: datetime,
    now: datetime,
) -> TargetKept:
    """Choose and record the post a pending like or comment is for, once: the choice
    made when no first choice came with the claim, or the claim refused it.

    ``choose(done, recent)`` picks among ``post_ids`` given the posts this agent already
    engaged with or another action of its holds (``done``) and how many bot engagements
    each post got since ``since`` (``recent``); a post with ``cap_per_hour`` of them or
    more is not open. The first recorded choice holds: a second delivery of the same
    action gets it back instead of choosing again. The choice is kept only if the post is
    still open as the row is written (``open_to``): two actions of one agent never hold
    the same post, and one that lost the post between the read and the write reads again.
    """
    keep = {
        "activity": activity_id,
        "agent": agent_id,
        "kind": kind,
        "since": since,
        "cap": cap_per_hour,
        "at": now,
    }
    with autocommit(sessions).connect() as connection:
        taken = _TAKEN[connection.dialect.name]
        for _ in range(CHOICE_ATTEMPTS):
            done: set[str] = set()
            recent: dict[str, int] = {}
            if post_ids:
                for post_id, count, mine in connection.execute(
                    taken, {**keep, "posts": list(post_ids)}
                ):
                    if count:
                        recent[post_id] = int(count)
                    if mine:
                        done.add(post_id)
            chosen = choose(done, recent)
            if chosen is not None:
                try:
                    kept = connection.execute(_KEEP_IF_OPEN, {**keep, "post": chosen}).first()
                except IntegrityError:
                    kept = None  # another action of this agent took the post just now
                if kept is not None:
                    return TargetKept(chosen, ended=False)
            # Not kept: what does the row say? Ended, or chosen by another delivery.
            state = connection.execute(_TARGET_OF, {"activity": activity_id}).one()
            if state.status != ActivityStatus.PENDING:
                return TargetKept(None, ended=True)
            if state.target_post_id is not None or chosen is None:
                return TargetKept(state.target_post_id, ended=False)
    return TargetKept(None, ended=False)
