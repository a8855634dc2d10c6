"""What the activities context hands out: claims for tasks, rows for people."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, func, select
from sqlalchemy.orm import Session, sessionmaker

from fleet.core.kinds import KINDS, Action, ActionKey
from fleet.core.memory import post_text
from fleet.core.statuses import ActivityStatus, AgentStatus
from fleet.core.tick_notes import TickNotes
from fleet.db.engine import autocommit
from fleet.db.models import Agent, AgentActivity, DeadLetter, Engagement
from fleet.errors import InputError


def view_json(view: Any) -> dict[str, Any]:
    """A view dataclass as JSON-ready values (datetimes as ISO 8601)."""
    out: dict[str, Any] = asdict(view)
    for key, value in out.items():
        if isinstance(value, datetime):
            out[key] = value.isoformat()
    return out


@dataclass(frozen=True, slots=True)
class Actor:
    """The agent behind an activity, as an action needs it."""

    id: int
    handle: str
    display_name: str
    persona: str
    seed: int
    status: AgentStatus
    platform_user_id: str | None
    deleted: bool
    # Review mode: its content actions stop at a draft for an owner's decision.
    review: bool = False

    @property
    def active(self) -> bool:
        return self.status == AgentStatus.ACTIVE and not self.deleted


@dataclass(frozen=True, slots=True)
class Claim:
    """A pending activity an action task holds under a lease."""

    id: int
    key: ActionKey[Action]
    due_at: datetime
    attempts: int
    deliveries: int  # this one included
    content: dict[str, Any]
    target_post_id: str | None
    actor: Actor
    # A first choice came with the claim and was not kept (the post was not open).
    first_choice_refused: bool = False
    # What the tick told the action (read once from ``content``, where the tick wrote it).
    notes: TickNotes = field(default_factory=TickNotes)

    @property
    def action(self) -> Action:
        """The action the key names."""
        return self.key.action


@dataclass(frozen=True, slots=True)
class Held:
    """A pending activity another delivery holds: this delivery does no work."""

    key: ActionKey[Action]
    until: datetime | None


@dataclass(frozen=True, slots=True)
class FirstChoice:
    """A post chosen for a like or comment before its claim, with what makes it open.

    The claim keeps it as the activity's target if the activity is a ``kind`` without a
    target yet, the post is not the agent's own (by ``author``, its author's handle) and
    it is open to the agent (see ``targets.open_to``).
    """

    post_id: str
    author: str
    kind: str
    cap_per_hour: int
    since: datetime


Chooser = Callable[[set[str], dict[str, int]], str | None]
"""Picks a post given the posts already taken by the agent and the bot engagements per post."""


@dataclass(frozen=True, slots=True)
class TargetKept:
    """The post a like or comment is for (None: nothing to choose, or the action ended)."""

    post_id: str | None
    ended: bool


@dataclass(frozen=True, slots=True)
class ActivityView:
    """One activity as the CLI shows it."""

    id: int
    agent_id: int
    handle: str
    persona: str
    action: str
    status: str
    idempotency_key: str
    due_at: datetime
    attempts: int
    target_post_id: str | None
    result: dict[str, Any] | None
    usage: dict[str, Any] | None
    error: str | None
    created_at: datetime
    finished_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return view_json(self)


@dataclass(frozen=True, slots=True)
class DeadLetterView:
    """One dead letter: what could not be done, why, and how often it was tried."""

    id: int
    activity_id: int | None
    task: str
    arguments: dict[str, Any]
    error_type: str
    error: str
    attempts: int
    created_at: datetime
    replayed_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return view_json(self)


@dataclass(frozen=True, slots=True)
class Hold:
    """A fleet-wide wait the dispatcher respects."""

    kind: str
    reason: str
    until: datetime


@dataclass(frozen=True, slots=True)
class Tally:
    """What one agent did, read from its activities: successes per kind, the newest one,
    its newest thought, and the action it has in flight."""

    actions: dict[str, int]
    last_action: str | None = None
    last_action_at: datetime | None = None
    last_thought: str | None = None
    current_action: str | None = None


@dataclass(frozen=True, slots=True)
class Standing:
    """Where one activity stands, as a failed delivery's verdict needs it."""

    id: int
    agent_id: int
    status: str
    action: str
    attempts: int
    deliveries: int
    handle: str
    persona: str
    due_at: datetime


@dataclass(frozen=True, slots=True)
class Entry:
    """A post, comment (or reply) or like of the ledger, as reconciliation needs it."""

    activity_id: int
    key: str
    handle: str
    action: str
    status: str
    created_at: datetime
    made: str | None = None  # the gallery id the action recorded (its post or comment)
    target: str | None = None  # the post a like, comment or reply is for
    image_url: str | None = None
    title: str | None = None
    text: str | None = None


# Queries of the activities context: they read and never write.


def list_dead_letters(
    sessions: sessionmaker[Session], *, limit: int = 50, include_replayed: bool = False
) -> list[DeadLetterView]:
    """The newest dead letters first."""
    statement = select(DeadLetter).order_by(DeadLetter.id.desc()).limit(limit)
    if not include_replayed:
        statement = statement.where(DeadLetter.replayed_at.is_(None))
    with sessions() as session:
        return [_letter(row) for row in session.scalars(statement)]


def get_dead_letter(sessions: sessionmaker[Session], letter_id: int) -> DeadLetterView:
    """One dead letter, or InputError."""
    with sessions() as session:
        row = session.get(DeadLetter, letter_id)
        if row is None:
            raise InputError(f"no dead letter {letter_id}")
        return _letter(row)


def _letter(row: DeadLetter) -> DeadLetterView:
    return DeadLetterView(
        row.id,
        row.activity_id,
        row.task,
        dict(row.arguments),
        row.error_type,
        row.error,
        row.attempts,
        row.created_at,
        row.replayed_at,
    )


def engaged_posts(session: Session, agent_id: int, kind: str) -> set[str]:
    """Posts the agent already liked (or commented on), from the engagement ledger."""
    rows = session.scalars(
        select(Engagement.target_id).where(Engagement.agent_id == agent_id, Engagement.kind == kind)
    )
    return set(rows)


_ACTIVITIES = cast(Table, AgentActivity.__table__)
_ENGAGEMENTS = cast(Table, Engagement.__table__)
# What the LLM writes is published text: captions, comments, replies.
_WRITTEN = tuple(kind.action.value for kind in KINDS.values() if kind.spends_llm)
# Of each text's content only what is read: the database takes the three fields out of
# it, and no row's whole document (the image, the usage, the answered comment) is parsed.
_CONTENT = _ACTIVITIES.c.content
_PUBLISHED = select(
    _CONTENT["title"].as_string(),
    _CONTENT["description"].as_string(),
    _CONTENT["text"].as_string(),
    _ACTIVITIES.c.action,
).where(_ACTIVITIES.c.status == ActivityStatus.SUCCEEDED, _ACTIVITIES.c.action.in_(_WRITTEN))
_RECENT_TEXTS = _PUBLISHED.order_by(_ACTIVITIES.c.id.desc()).limit(bindparam("limit"))
_RECENT_TEXTS_OF_AGENT = (
    _PUBLISHED.where(_ACTIVITIES.c.agent_id == bindparam("agent"))
    .order_by(_ACTIVITIES.c.id.desc())
    .limit(bindparam("limit"))
)


def recent_texts(
    session: Session | Connection, *, agent_id: int | None = None, limit: int = 50
) -> list[str]:
    """Posts' texts and comments recently published (by one agent, or by the whole
    fleet), newest first."""
    if agent_id is None:
        rows = session.execute(_RECENT_TEXTS, {"limit": limit})
    else:
        rows = session.execute(_RECENT_TEXTS_OF_AGENT, {"agent": agent_id, "limit": limit})
    texts = []
    for title, description, said, action in rows:
        # A comment keeps the title of the post it answers beside its own text: its text
        # is what it said. A post is its caption and description.
        text = post_text(_said(title), _said(description)) if action == "post" else _said(said)
        if text:
            texts.append(text)
    return texts


def _said(value: object) -> str:
    """A field of a text's content as a string ("" when it has none)."""
    return "" if value is None else str(value)


def tallies(session: Session, agent_ids: list[int]) -> dict[int, Tally]:
    """What each of these agents did, read from their activities (a page of agents at a
    time: three reads through the index on (agent_id, created_at))."""
    if not agent_ids:
        return {}
    table = _ACTIVITIES
    of_agents = table.c.agent_id.in_(agent_ids)
    counts: dict[int, dict[str, int]] = {agent: {} for agent in agent_ids}
    for agent, action, count in session.execute(
        select(table.c.agent_id, table.c.action, func.count())
        .where(of_agents, table.c.status == ActivityStatus.SUCCEEDED)
        .group_by(table.c.agent_id, table.c.action)
    ):
        counts[agent][action] = count
    newest = (
        select(
            table.c.agent_id,
            table.c.action,
            table.c.status,
            table.c.finished_at,
            table.c.result,
            func.row_number()
            .over(
                partition_by=(table.c.agent_id, table.c.status, table.c.action == "browse"),
                order_by=table.c.id.desc(),
            )
            .label("rank"),
        )
        .where(of_agents, table.c.status.in_((ActivityStatus.SUCCEEDED, ActivityStatus.PENDING)))
        .subquery()
    )
    last: dict[int, dict[str, object]] = {agent: {} for agent in agent_ids}
    for agent, action, status, finished_at, result, _ in session.execute(
        select(newest).where(newest.c.rank == 1).order_by(newest.c.agent_id)
    ):
        seen = last[agent]
        if status == ActivityStatus.PENDING:
            seen["current_action"] = action
            continue
        if action == "browse" and (result or {}).get("thought"):
            seen["last_thought"] = str(result["thought"])
        at = seen.get("last_action_at")
        if at is None or (finished_at is not None and finished_at > at):
            seen["last_action"], seen["last_action_at"] = action, finished_at
    return {
        agent: Tally(counts[agent], **last[agent])  # type: ignore[arg-type]
        for agent in agent_ids
    }


def recent_texts_of(
    sessions: sessionmaker[Session], *, agent_id: int | None = None, limit: int = 50
) -> list[str]:
    """``recent_texts`` on a connection of its own, outside any transaction."""
    with autocommit(sessions).connect() as connection:
        return recent_texts(connection, agent_id=agent_id, limit=limit)


def _newest_results(action: str) -> Any:
    """The results of an agent's newest succeeded activities of ``action``."""
    return (
        select(_ACTIVITIES.c.result)
        .where(
            _ACTIVITIES.c.agent_id == bindparam("agent"),
            _ACTIVITIES.c.action == action,
            _ACTIVITIES.c.status == ActivityStatus.SUCCEEDED,
        )
        .order_by(_ACTIVITIES.c.id.desc())
        .limit(bindparam("limit"))
    )


_OWN_POSTS = _newest_results("post")


def own_posts(sessions: sessionmaker[Session], agent_id: int, *, limit: int = 5) -> list[str]:
    """The gallery ids of the agent's newest posts, newest first."""
    with autocommit(sessions).connect() as connection:
        rows = connection.execute(_OWN_POSTS, {"agent": agent_id, "limit": limit})
        return [str(result["post_id"]) for (result,) in rows if result and result.get("post_id")]


_OWN_COMMENTS = _newest_results("comment")


def own_comments(
    sessions: sessionmaker[Session], agent_id: int, *, limit: int = 3
) -> list[tuple[str, str]]:
    """(post id, comment id) of the agent's newest comments on others' posts, newest
    first: where someone may have answered it."""
    with autocommit(sessions).connect() as connection:
        rows = connection.execute(_OWN_COMMENTS, {"agent": agent_id, "limit": limit})
        return [
            (str(result["post_id"]), str(result["comment_id"]))
            for (result,) in rows
            if result and result.get("post_id") and result.get("comment_id")
        ]


# Each agent's newest succeeded posts and replies, numbered per agent and action (newest
# 1): many agents at once.
_NUMBERED = (
    select(
        _ACTIVITIES.c.agent_id,
        _ACTIVITIES.c.action,
        _ACTIVITIES.c.result,
        func.row_number()
        .over(
            partition_by=(_ACTIVITIES.c.agent_id, _ACTIVITIES.c.action),
            order_by=_ACTIVITIES.c.id.desc(),
        )
        .label("newest"),
    )
    .where(
        _ACTIVITIES.c.agent_id.in_(bindparam("agents", expanding=True)),
        _ACTIVITIES.c.action.in_(("post", "reply")),
        _ACTIVITIES.c.status == ActivityStatus.SUCCEEDED,
    )
    .subquery()
)
_OWN_POSTS_AND_REPLIES_OF = select(
    _NUMBERED.c.agent_id, _NUMBERED.c.action, _NUMBERED.c.result
).where(_NUMBERED.c.newest <= bindparam("limit"))
_ADMIRERS = (
    select(_ENGAGEMENTS.c.target_id, Agent.handle, func.count())
    .select_from(_ENGAGEMENTS)
    .join(Agent, Agent.id == _ENGAGEMENTS.c.agent_id)
    .where(
        _ENGAGEMENTS.c.target_id.in_(bindparam("posts", expanding=True)),
        # A reply's row holds the comment answered, whose id may equal a post's.
        _ENGAGEMENTS.c.kind.in_(("like", "comment")),
    )
    .group_by(_ENGAGEMENTS.c.target_id, Agent.handle)
)


def admirers(sessions: sessionmaker[Session], agent_id: int, *, posts: int = 20) -> dict[str, int]:
    """Who engaged with the agent's newest ``posts`` posts, and how often (the agents'
    handles), and the people whose comments its newest ``posts`` replies answered (their
    gallery usernames): the ties taste weighs."""
    return admirers_of(sessions, [agent_id], posts=posts)[agent_id]


def admirers_of(
    sessions: sessionmaker[Session], agent_ids: Sequence[int], *, posts: int = 20
) -> dict[int, dict[str, int]]:
    """``admirers`` of many agents in two statements (a batch's likes): per agent, who
    engaged with its newest ``posts`` posts, and how often.

    A person's like is not in the fleet's ledger (the gallery does not say who liked a
    post), but a person's comment is answered: each person an agent's reply answered
    counts once per reply, as a notification brings the commenter back to mind. Another
    agent's comment counts already, through the engagement ledger."""
    found: dict[int, dict[str, int]] = {agent_id: {} for agent_id in agent_ids}
    if not agent_ids:
        return found
    with autocommit(sessions).connect() as connection:
        owner: dict[str, int] = {}
        for agent_id, action, result in connection.execute(
            _OWN_POSTS_AND_REPLIES_OF, {"agents": list(found), "limit": posts}
        ):
            if not result:
                continue
            if action == "post" and result.get("post_id"):
                owner[str(result["post_id"])] = int(agent_id)
            elif action == "reply" and result.get("to_person") and result.get("to"):
                mine = found[int(agent_id)]
                mine[str(result["to"])] = mine.get(str(result["to"]), 0) + 1
        if not owner:
            return found
        for post_id, handle, count in connection.execute(_ADMIRERS, {"posts": list(owner)}):
            mine = found[owner[post_id]]
            mine[handle] = mine.get(handle, 0) + int(count)
    return found


_NEWEST_POSTS_BY = (
    select(Agent.handle, _ACTIVITIES.c.result, _ACTIVITIES.c.id)
    .join(Agent, Agent.id == _ACTIVITIES.c.agent_id)
    .where(
        Agent.handle.in_(bindparam("handles", expanding=True)),
        _ACTIVITIES.c.action == "post",
        _ACTIVITIES.c.status == ActivityStatus.SUCCEEDED,
        # (agent, due time) is indexed: a post is finished within minutes of its due time.
        _ACTIVITIES.c.due_at >= bindparam("since"),
    )
    .order_by(_ACTIVITIES.c.id.desc())
)


def newest_posts_by(
    sessions: sessionmaker[Session], handles: Sequence[str], *, since: datetime
) -> dict[str, str]:
    """The gallery id of each of these agents' newest post due since ``since`` (handle ->
    post id; an agent with none is left out): a friend's post the feeds may no longer
    show."""
    if not handles:
        return {}
    found: dict[str, str] = {}
    with autocommit(sessions).connect() as connection:
        for handle, result, _ in connection.execute(
            _NEWEST_POSTS_BY, {"handles": list(dict.fromkeys(handles)), "since": since}
        ):
            if handle not in found and result and result.get("post_id"):
                found[str(handle)] = str(result["post_id"])
    return found


_STANDING = (
    select(
        _ACTIVITIES.c.id,
        _ACTIVITIES.c.agent_id,
        _ACTIVITIES.c.status,
        _ACTIVITIES.c.action,
        _ACTIVITIES.c.attempts,
        _ACTIVITIES.c.deliveries,
        Agent.handle,
        Agent.persona,
        _ACTIVITIES.c.due_at,
    )
    .join(Agent, Agent.id == _ACTIVITIES.c.agent_id)
    .where(_ACTIVITIES.c.idempotency_key == bindparam("key"))
)


def standing_of(sessions: sessionmaker[Session], key: ActionKey[Action]) -> Standing | None:
    """Where the activity ``key`` stands, with its agent's handle and persona (a failed
    delivery's verdict needs them); None if there is no such activity."""
    with sessions() as session:
        row = session.execute(_STANDING, {"key": key.text}).first()
    return None if row is None else Standing(*row)


def dead_letters_of(
    sessions: sessionmaker[Session], agent_id: int, *, limit: int = 20
) -> list[DeadLetterView]:
    """The newest dead letters of one agent's activities."""
    statement = (
        select(DeadLetter)
        .join(AgentActivity, AgentActivity.id == DeadLetter.activity_id)
        .where(AgentActivity.agent_id == agent_id)
        .order_by(DeadLetter.id.desc())
        .limit(limit)
    )
    with sessions() as session:
        return [_letter(row) for row in session.scalars(statement)]
