"""Questions about what an agent is, and their answers: the ledger's side of honesty.

A scan (``fleet.honesty.use_cases.scan_identity_questions``) or the reply that reads it
notes a person's comment asking an agent what it is (``note_questions``: once per agent
and comment). The agent owes an answer until its reply to that comment is in the
engagement ledger (``owed``: such an agent's next tick answers, whatever the quotas
and the budget say). ``answers`` reads each question with its answer for the audit;
``published_texts`` every text the fleet published, for the audit's check of claims to
be human. The question's own text is never kept.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, exists, select, update
from sqlalchemy.orm import Session, sessionmaker

from fleet.core.answering import Closed, Question, owing
from fleet.core.memory import post_text
from fleet.core.statuses import ActivityStatus
from fleet.db.engine import autocommit, insert_ignoring
from fleet.db.models import Agent, AgentActivity, Engagement, IdentityQuestion

_QUESTIONS = cast(Table, IdentityQuestion.__table__)
_ENGAGEMENTS = cast(Table, Engagement.__table__)
_ACTIVITIES = cast(Table, AgentActivity.__table__)
_AGENTS = cast(Table, Agent.__table__)
# A reply still under way (or a draft awaiting review) for a question: nothing more owed.
_UNDER_WAY = (ActivityStatus.PENDING, ActivityStatus.AWAITING_REVIEW)
# A question stays owed this long (a comment deleted since, or never found again, does
# not hold its agent's sessions for ever).
OWED_DAYS = timedelta(days=3)


@dataclass(frozen=True, slots=True)
class QuestionSeen:
    """A person's comment that asks agent ``agent_id`` what it is; ``asker``: their
    username; ``said_no``: the agent may not address them (an opt-out, a block)."""

    agent_id: int
    comment_id: str
    post_id: str
    asked_at: datetime
    asker: str = ""
    said_no: bool = False


def note_questions(
    sessions: sessionmaker[Session], questions: Sequence[QuestionSeen], *, now: datetime
) -> int:
    """Keep these questions (a question kept before stays as it was), each owed an answer
    or closed with the reason ``fleet.core.answering.owing`` gives (the asker said no,
    asked this agent before, or the agent's day's cap was reached). How many are new."""
    if not questions:
        return 0
    agents = sorted({q.agent_id for q in questions})
    with sessions.begin() as session:
        kept: set[tuple[int, str]] = set(
            session.execute(
                select(_QUESTIONS.c.agent_id, _QUESTIONS.c.comment_id).where(
                    _QUESTIONS.c.agent_id.in_(agents),
                    _QUESTIONS.c.comment_id.in_(sorted({q.comment_id[:64] for q in questions})),
                )
            )
        )
        fresh = {
            (q.agent_id, q.comment_id[:64]): q
            for q in questions
            if (q.agent_id, q.comment_id[:64]) not in kept
        }
        if not fresh:
            return 0
        owed_rows = session.execute(
            select(_QUESTIONS.c.agent_id, _QUESTIONS.c.asker, _QUESTIONS.c.seen_at).where(
                _QUESTIONS.c.agent_id.in_(agents), _QUESTIONS.c.closed_reason.is_(None)
            )
        )
        before: set[tuple[int, str]] = set()
        today: dict[int, int] = {}
        for agent_id, asker, seen_at in owed_rows:
            if asker:
                before.add((int(agent_id), str(asker)))
            if seen_at >= now - timedelta(days=1):
                today[int(agent_id)] = today.get(int(agent_id), 0) + 1
        decided = owing(
            [
                Question(q.agent_id, q.comment_id[:64], q.asker[:64], q.asked_at, q.said_no)
                for q in fresh.values()
            ],
            asked_before=before,
            owed_today=today,
        )
        rows = [
            {
                "agent_id": q.agent_id,
                "comment_id": q.comment_id,
                "post_id": fresh[(q.agent_id, q.comment_id)].post_id[:64],
                "asked_at": q.asked_at,
                "seen_at": now,
                "asker": q.asker,
                "closed_at": None if closed is None else now,
                "closed_reason": None if closed is None else closed.value,
            }
            for q, closed in decided
        ]
        statement = insert_ignoring(session, _QUESTIONS)
        # The rows inserted, counted from what they return (an executemany's rowcount
        # is not reliable across drivers).
        made = session.execute(statement.returning(_QUESTIONS.c.id), rows)
        return len(made.all())


def close_questions(
    sessions: sessionmaker[Session],
    agent_id: int,
    comment_ids: Collection[str],
    reason: Closed,
    *,
    now: datetime,
) -> int:
    """Close these open questions to this agent with ``reason`` (an asker who said no
    since they asked): nothing is owed them any more. How many were closed."""
    if not comment_ids:
        return 0
    with sessions.begin() as session:
        done = session.execute(
            update(_QUESTIONS)
            .where(
                _QUESTIONS.c.agent_id == agent_id,
                _QUESTIONS.c.comment_id.in_(sorted(comment_ids)),
                _QUESTIONS.c.closed_reason.is_(None),
                ~_answered(),
            )
            .values(closed_at=now, closed_reason=reason.value)
        )
        return int(cast(Any, done).rowcount or 0)


def open_questions(sessions: sessionmaker[Session], agent_id: int, *, since: datetime) -> list[str]:
    """The comments asking this agent what it is, asked since ``since``, owed an answer
    and not answered yet (whatever the agent has under way), oldest first."""
    with autocommit(sessions).connect() as connection:
        found = connection.execute(_OPEN, {"agent": agent_id, "since": since}).scalars()
        return [str(c) for c in found]


def owes_answer(sessions: sessionmaker[Session], agent_id: int, comment_id: str) -> bool:
    """Whether a question in this comment is owed this agent's own answer: not closed as a
    repeat of the asker's or past the day's cap (such a one, answered in the ordinary
    course, is written by the offline writer). A comment not kept as a question is owed."""
    with sessions() as session:
        reason = session.scalar(
            select(_QUESTIONS.c.closed_reason).where(
                _QUESTIONS.c.agent_id == agent_id, _QUESTIONS.c.comment_id == comment_id[:64]
            )
        )
    return reason not in (Closed.ASKED_BEFORE.value, Closed.MANY_TODAY.value)


def _answered(question: Any = _QUESTIONS) -> Any:
    return exists().where(
        _ENGAGEMENTS.c.agent_id == question.c.agent_id,
        _ENGAGEMENTS.c.target_kind == "comment",
        _ENGAGEMENTS.c.target_id == question.c.comment_id,
        _ENGAGEMENTS.c.kind == "reply",
    )


# ``open_questions``' one statement, built once: a reply's choice asks it twice.
_OPEN = (
    select(_QUESTIONS.c.comment_id)
    .where(
        _QUESTIONS.c.agent_id == bindparam("agent"),
        _QUESTIONS.c.asked_at >= bindparam("since"),
        _QUESTIONS.c.closed_reason.is_(None),
        ~_answered(),
    )
    .order_by(_QUESTIONS.c.asked_at, _QUESTIONS.c.id)
)


# A question neither answered nor met by a reply of the agent's under way: decided, a
# reply has no target until its task chooses one (the question first,
# ``fleet.actions.reply_choice.choose_comment``). Built once: every tick asks it.
_STILL_OWED = (
    ~_answered(),
    ~exists().where(
        _ACTIVITIES.c.agent_id == _QUESTIONS.c.agent_id,
        _ACTIVITIES.c.action == "reply",
        _ACTIVITIES.c.status.in_(_UNDER_WAY),
    ),
)

# ``owed`` asked of the agents' rows a tick batch reads and locks (``fleet.agents.deciding``),
# as a column of that read: whether a question asked since ``owed_since`` (a bound
# parameter) waits on the row's agent. A tick batch makes no statement of its own for it.
OWES = (
    exists()
    .where(
        _QUESTIONS.c.agent_id == _AGENTS.c.id,
        _QUESTIONS.c.asked_at >= bindparam("owed_since"),
        _QUESTIONS.c.closed_reason.is_(None),
        *_STILL_OWED,
    )
    .label("owes")
)


def owed(session: Session, agent_ids: Collection[int], *, since: datetime) -> dict[int, list[str]]:
    """Of these agents, those a question asked since ``since`` waits on (no reply to it in
    the ledger, no reply of theirs under way), with the comments waiting, oldest first."""
    if not agent_ids:
        return {}
    rows = session.execute(
        select(_QUESTIONS.c.agent_id, _QUESTIONS.c.comment_id)
        .where(
            _QUESTIONS.c.agent_id.in_(sorted(agent_ids)),
            _QUESTIONS.c.asked_at >= since,
            _QUESTIONS.c.closed_reason.is_(None),
            *_STILL_OWED,
        )
        .order_by(_QUESTIONS.c.asked_at, _QUESTIONS.c.id)
    )
    waiting: dict[int, list[str]] = {}
    for agent_id, comment_id in rows:
        waiting.setdefault(int(agent_id), []).append(str(comment_id))
    return waiting


def owed_comments(sessions: sessionmaker[Session], agent_id: int, *, since: datetime) -> list[str]:
    """The comments asking this agent what it is that wait on it, oldest first."""
    with sessions() as session:
        return owed(session, [agent_id], since=since).get(agent_id, [])


@dataclass(frozen=True, slots=True)
class KeptQuestion:
    """A question and its answer, as the ledger knows them (None: not answered)."""

    agent: str
    comment_id: str
    asked_at: datetime
    answered_at: datetime | None
    text: str | None
    marked: bool  # the reply carries the identity mark (``content.identity``)
    # Closed without an answer owed, and why (``fleet.core.answering.Closed``); None: owed.
    closed: str | None = None


def answers(sessions: sessionmaker[Session], *, since: datetime) -> list[KeptQuestion]:
    """Every question asked since ``since``, with the reply that answered it."""
    query = (
        select(
            _AGENTS.c.handle,
            _QUESTIONS.c.comment_id,
            _QUESTIONS.c.asked_at,
            _ACTIVITIES.c.finished_at,
            _ACTIVITIES.c.content,
            _ACTIVITIES.c.status,
            _QUESTIONS.c.closed_reason,
        )
        .select_from(_QUESTIONS)
        .join(_AGENTS, _AGENTS.c.id == _QUESTIONS.c.agent_id)
        .outerjoin(
            _ENGAGEMENTS,
            and_(
                _ENGAGEMENTS.c.agent_id == _QUESTIONS.c.agent_id,
                _ENGAGEMENTS.c.target_kind == "comment",
                _ENGAGEMENTS.c.target_id == _QUESTIONS.c.comment_id,
                _ENGAGEMENTS.c.kind == "reply",
            ),
        )
        .outerjoin(_ACTIVITIES, _ACTIVITIES.c.id == _ENGAGEMENTS.c.activity_id)
        .where(_QUESTIONS.c.asked_at >= since)
        .order_by(_QUESTIONS.c.asked_at, _QUESTIONS.c.id)
    )
    found = []
    with autocommit(sessions).connect() as connection:
        for (
            handle,
            comment_id,
            asked_at,
            finished_at,
            content,
            status,
            closed,
        ) in connection.execute(query):
            done = status == ActivityStatus.SUCCEEDED and finished_at is not None
            written = content or {}
            found.append(
                KeptQuestion(
                    str(handle),
                    str(comment_id),
                    asked_at,
                    finished_at if done else None,
                    str(written.get("text") or "") if done else None,
                    bool(written.get("identity")) if done else False,
                    None if closed is None else str(closed),
                )
            )
    return found


@dataclass(frozen=True, slots=True)
class AgentText:
    """A text the fleet published: who, which action, the activity, the text."""

    agent: str
    action: str
    activity_id: int
    text: str


def published_texts(
    sessions: sessionmaker[Session], *, since: datetime, page: int = 1000
) -> Iterator[AgentText]:
    """Every text the fleet published since ``since`` (a post's caption and
    description, a comment's or a reply's text), oldest first, read a page at a time."""
    after = 0
    while True:
        query = (
            select(_ACTIVITIES.c.id, _ACTIVITIES.c.action, _ACTIVITIES.c.content, _AGENTS.c.handle)
            .join(_AGENTS, _AGENTS.c.id == _ACTIVITIES.c.agent_id)
            .where(
                _ACTIVITIES.c.status == ActivityStatus.SUCCEEDED,
                _ACTIVITIES.c.action.in_(("post", "comment", "reply")),
                _ACTIVITIES.c.finished_at >= since,
                _ACTIVITIES.c.id > after,
            )
            .order_by(_ACTIVITIES.c.id)
            .limit(page)
        )
        with autocommit(sessions).connect() as connection:
            rows = list(connection.execute(query))
        for activity_id, action, content, handle in rows:
            written = content or {}
            if action == "post":
                text = post_text(
                    str(written.get("title") or ""), str(written.get("description") or "")
                )
            else:
                text = str(written.get("text") or "")
            if text:
                yield AgentText(str(handle), str(action), int(activity_id), text)
        if len(rows) < page:
            return
        after = int(rows[-1][0])
