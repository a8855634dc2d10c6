"""What a tick does, decided once per (agent, due second) with the agent locked.

The session's action (or a steady draw), the LLM budget and the daily quotas applied,
recorded as one activity row. Two parts: ``plan_ticks`` decides (values in, the rows to
write out: no database), and ``decide_ticks`` is the transaction around it (lock and read
the agents, plan, write). The ticks come from the heartbeat (``fleet.agents.heartbeat``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, cast

from pydantic import ValidationError
from sqlalchemy import Table, bindparam, case, select, update
from sqlalchemy.orm import Session, sessionmaker

from fleet.activities.commands import decided_before, record_decided, spoke_since
from fleet.core.back_pressure import acts
from fleet.core.decisions import Decision
from fleet.core.kinds import COSTLY, ActionKey
from fleet.core.persona import Action, ActionWeights, effective_weights
from fleet.core.quotas import DayQuotaBook
from fleet.core.rhythm import PersonaCadence, Rhythm
from fleet.core.statuses import ActivityStatus
from fleet.core.tick_notes import NO_NOTES, TickNotes
from fleet.db.models import Agent
from fleet.errors import UnknownPersona
from fleet.honesty import ledger as identity
from fleet.infra.persona_files import PersonaCatalogue

_AGENTS = cast(Table, Agent.__table__)
# Whose sessions open by answering: agents that posted or commented in these last days.
ANSWER_DAYS = timedelta(days=3)
_WORDS = frozenset({Action.COMMENT.value, Action.REPLY.value, Action.POST.value})


def rhythm_of(
    persona: PersonaCadence,
    row: Any,
    weights: ActionWeights | None = None,
    *,
    pace: float = 1.0,
) -> Rhythm:
    """The rhythm of an agent row (seed, interval_min/max, activity) of the persona whose
    rhythm is ``persona`` (``PersonaCatalogue.cadences``), at the fleet's ``pace``."""
    interval = None
    if row.interval_min is not None and row.interval_max is not None:
        interval = (row.interval_min, row.interval_max)
    return persona.rhythm(
        row.seed, interval=interval, activity=row.activity, weights=weights, pace=pace
    )


@dataclass(frozen=True, slots=True)
class RecordedDecision:
    """One tick's decision as recorded: the decision (its key and notes) and the activity
    that will carry it out.

    ``new`` is true when this call recorded it and it waits for its task (pending); a
    tick past every daily quota records a ``skipped`` activity that no task carries out.
    """

    decision: Decision
    activity_id: int | None
    new: bool

    @property
    def key(self) -> ActionKey[Action]:
        """The decided action's key."""
        return self.decision.key


# A tick as the dispatcher sends it: (agent, due second, its session's opening, its index).
ParsedTick = tuple[int, int, int | None, int]
# The tick's budget check: (agent, action) -> (the action to do, why it changed); asked
# only of the kinds that call the LLM.
Adjust = Callable[[int, str], tuple[str, str | None]]


@dataclass(frozen=True, slots=True)
class TickPlan:
    """What deciding a batch of ticks writes, before any of it is written.

    ``rows`` are the activity rows to insert (pending, or skipped past every quota);
    ``updates`` the agents' new tick counts and day counts, one per row in the same order;
    ``decided`` every tick that decides something, those decided before included;
    ``rested`` the ticks the back-pressure let rest; ``pending`` the keys (as text) of
    the rows that wait for their task.
    """

    rows: list[dict[str, Any]]
    updates: list[dict[str, Any]]
    decided: list[Decision]
    rested: int = 0
    pending: set[str] = field(default_factory=set)
    # The notified agents whose look at their notifications this plan decides.
    looked: set[int] = field(default_factory=set)
    # The agents whose truthful answer (a person asked what they are) this plan decides.
    answered: set[int] = field(default_factory=set)


def plan_ticks(
    ticks: Sequence[ParsedTick],
    agents: Mapping[int, Any],
    catalogue: PersonaCatalogue,
    *,
    before: Mapping[tuple[int, int], Decision],
    answering: Collection[int],
    now: datetime,
    lease: timedelta,
    adjust: Adjust | None = None,
    notified: Collection[int] = (),
    share: float = 1.0,
    owed: Collection[int] = (),
) -> TickPlan:
    """Decide each tick's action from what was read: no database, the same answer for the
    same rows (``adjust``, the budget's check, is the one call out).

    ``share``: the back-pressure's share of ticks that act (``fleet.core.timeline``);
    the others rest, deciding nothing (a tick decided before keeps its decision).

    ``agents`` are the agents' rows by id (persona, seed, status, deleted_at, weights,
    interval_min/max, activity, day_counts); ``before`` the ticks already recorded, their
    decisions; ``answering`` the agents whose sessions open by answering
    their notifications; ``notified`` those a person's comment was seen waiting on: the
    first of their ticks here answers it (``TickPlan.looked`` lists them, for the mark
    to be cleared). A tick of an agent missing, not active, deleted, or of a persona
    the catalogue cannot give plans nothing.

    ``owed``: the agents a person asked what they are (``fleet.honesty.ledger``):
    the first of their ticks here (but a session's one post) answers, and neither the
    budget nor the quotas turn it: the truthful answer costs nothing when the LLM
    budget is spent (the offline writer writes it).
    """
    books: dict[int, DayQuotaBook] = {}
    plan = TickPlan([], [], [])
    rested = 0
    for agent_id, due_at, opened, index in ticks:
        agent = agents.get(agent_id)
        if agent is None or agent.status != "active" or agent.deleted_at is not None:
            continue
        earlier = before.get((agent_id, due_at))
        if earlier is not None:
            plan.decided.append(earlier)
            continue
        # Every tick acts (no draw) unless the gallery is saturated.
        if share < 1.0 and not acts(agent.seed, due_at, share):
            rested += 1  # the gallery is saturated: this tick rests
            continue
        try:
            # The persona as its ticks read it, resolved once by the catalogue.
            prepared = catalogue.cadences[agent.persona]
            persona = prepared.persona
            weights = effective_weights(persona, agent.weights) if agent.weights else None
            rhythm = rhythm_of(prepared, agent, weights)
        except (UnknownPersona, ValidationError):
            continue  # the dispatcher sets it aside at its next claim
        if rhythm.sessions is None:
            # A steady ticker has no sessions: the opening second its tick carries (the
            # dispatcher gives every tick one, its due second) opens none. It is decided
            # as a tick of two fields is, so its words carry no session note and wait
            # for no session's plan (none is ever written for it).
            opened = None
        answers = agent_id in answering
        # Whether the budget was asked about this tick's action and let it be.
        budgeted = False
        first_look = agent_id in notified and agent_id not in plan.looked
        action = rhythm.action(due_at, opened, index, answers=answers, notified=first_look).value
        # The session's look at its notifications: people first, the rest now and then
        # (``fleet.core.answering``).
        looks = (
            action == Action.REPLY.value
            and (answers or first_look)
            and rhythm.answers_at(opened, index, notified=first_look)
        )
        notes = TickNotes(notifications=True) if looks else NO_NOTES
        looks = looks and agent_id in notified
        owes = (
            agent_id in owed
            and agent_id not in plan.answered
            and not (opened is not None and action == Action.POST.value)
        )
        if owes:
            # A person asked what it is: it answers now, truthfully (``actions.reply``).
            action, notes = Action.REPLY.value, TickNotes(notifications=True, identity=True)
            plan.answered.add(agent_id)
            looks = agent_id in notified
        elif adjust is not None and action in COSTLY:  # a like or a browse costs no budget
            adjusted, reason = adjust(agent_id, action)
            if adjusted != action:
                notes = TickNotes(degraded_from=Action(action), degraded=reason or "")
                action = adjusted
            else:
                # The budget is the agent's and the fleet's, whatever the kind: a quota
                # turning this action to another kind that calls the LLM keeps it asked.
                budgeted = True
        book = books.get(agent_id)
        if book is None:
            # The clock's zone is the persona's: where its local days (and quotas) turn.
            zone = prepared.clock.zone
            book = books[agent_id] = DayQuotaBook(persona.quotas, zone, agent.day_counts or {})
        allowed, reason = book.decide(due_at, Action(action), for_people=looks, owed=owes)
        status = ActivityStatus.PENDING.value
        if reason is not None:
            drawn = notes.degraded_from or Action(action)
            notes = replace(notes, degraded_from=drawn, quota=reason)
        if allowed is None:
            status = ActivityStatus.SKIPPED.value
        else:
            action = allowed.value
        if looks and status == ActivityStatus.PENDING and action == Action.REPLY.value:
            # Its look at its notifications stands (no budget or quota turned it): the
            # mark clears. Otherwise the mark stays, and its next tick looks again.
            plan.looked.add(agent_id)
        if action == Action.BROWSE.value and not rhythm.thinks(opened, index):
            # Only a session's opening look, when the session says something, asks
            # the writer for a thought: the other looks make no LLM call.
            notes = replace(notes, thinks=False)
        elif (
            opened is not None
            and index == 0
            and (action == Action.BROWSE.value or (action == Action.REPLY.value and not owes))
        ):
            # A speaking session's opening writes the session's words in one call (its
            # plan, ``fleet.actions.planning``): what the session holds, as drawn. It opens
            # with a look, or with a reply when a person's comment called the agent (the
            # reply writes the plan, ``engage.plan_session``, and counts in it).
            says = rhythm.says(opened, answers=answers)
            if action == Action.REPLY.value:
                says[Action.REPLY.value] = says.get(Action.REPLY.value, 0) + 1
            if says:
                notes = replace(notes, session=opened, says=MappingProxyType(says))
        elif opened is not None and action in _WORDS:
            # A comment, reply or post of a session uses its opening look's plan.
            notes = replace(notes, session=opened)
        pending = status == ActivityStatus.PENDING
        if adjust is not None and not budgeted and pending and action in COSTLY:
            # Its action calls the LLM and the budget was not asked (an owed answer) or
            # turned the action first drawn: the handler asks it
            # (``TickNotes.budgeted``). Without a budget to ask (no ``adjust``: no Redis),
            # the handler has none either.
            notes = replace(notes, budgeted=False)
        decision = Decision(ActionKey.tick(agent_id, due_at, action), notes)
        # The activity row: pending under a lease, or skipped with why. The key is
        # serialised here, once, for the ledger's column.
        due = datetime.fromtimestamp(due_at, UTC)
        row: dict[str, Any] = {
            "agent_id": agent_id,
            "action": action,
            "idempotency_key": decision.key.text,
            "status": status,
            "due_at": due,
            "lease_expires_at": now + lease if pending else None,
            # Notes that say nothing (a plain tick's) are not written: none to serialise.
            "content": None if notes is NO_NOTES else notes.content() or None,
            "error": None if pending else reason,
            "finished_at": None if pending else now,
            "created_at": now,
            "updated_at": now,
        }
        plan.rows.append(row)
        if pending:
            plan.pending.add(row["idempotency_key"])
        plan.updates.append(
            {"agent_id": agent_id, "due": due, "action": action, "counts": book.stored}
        )
        plan.decided.append(decision)
    return replace(plan, rested=rested)


@dataclass(frozen=True)
class Strain:
    """What the fleet's limits ask of a decision now: ``adjust`` (the LLM budget's
    degrade: an agent over its budget likes or browses instead of posting; None: no
    change), and the ``share`` of ticks that act while the gallery is saturated
    (``fleet.core.timeline``; 1.0: every tick)."""

    adjust: Adjust | None = None
    share: float = 1.0


def decide_ticks(
    sessions: sessionmaker[Session],
    catalogue: PersonaCatalogue,
    ticks: Sequence[Sequence[int]],
    *,
    now: datetime,
    lease: timedelta,
    strain: Strain = Strain(),
) -> list[RecordedDecision]:
    """Decide each tick's action and record it once, with the agents' runtime state.

    While the gallery is saturated only ``strain.share`` of the ticks act; the others
    rest and record nothing.

    The action is the session's (``fleet.core.timeline``) or a steady tick's weighted
    draw; ``strain.adjust`` may replace it (an agent over its LLM budget likes or browses
    instead of posting); then the agent's daily quotas may turn it to the next kind still
    allowed today, or, every kind spent, record it ``skipped``. The activity keeps what was chosen
    first and why it changed (``plan_ticks``). The agents are locked while they are
    decided, so two ticks of one agent decided at once count against its quotas one after
    the other; a tick decided before (a redelivered message) records nothing and returns
    the same decision. A tick for an agent that is no longer active decides nothing.
    """
    parsed: list[ParsedTick] = []
    wanted: set[int] = set()
    ticks_read: set[tuple[int, int]] = set()
    # Only a session's first actions may open by answering: ask only for the agents at one.
    may_answer: set[int] = set()
    for tick in ticks:  # a tick of two fields (an older dispatcher's) is a steady tick
        agent_id, due = int(tick[0]), int(tick[1])
        if len(tick) >= 4:
            opened: int | None = int(tick[2])
            index = int(tick[3])
            if index in (1, 2):
                may_answer.add(agent_id)
        else:
            opened, index = None, 0
        parsed.append((agent_id, due, opened, index))
        wanted.add(agent_id)
        ticks_read.add((agent_id, due))
    with sessions.begin() as session:
        # The agents' rows, locked FOR UPDATE in id order (two batches never deadlock;
        # SQLite renders nothing), and the ids of those a person's comment waits on.
        # And those a person asked what they are, still owed the answer
        # (``fleet.honesty.ledger.OWES``, read with the rows).
        agents: dict[int, Any] = {}
        notified: set[int] = set()
        owed: set[int] = set()
        # Each agent's latest tick decided (``last_tick_at``, never moved back): a tick due
        # after it was never decided, and only the others are looked for in the ledger.
        ticked: dict[int, float] = {}
        locked = session.execute(
            _LOCKED.where(Agent.id.in_(wanted)), {"owed_since": now - identity.OWED_DAYS}
        )
        for row in locked:
            agents[row.id] = row
            if row.people_waiting_since is not None:
                notified.add(row.id)
            if row.owes:
                owed.add(row.id)
            if row.last_tick_at is not None:
                ticked[row.id] = row.last_tick_at.timestamp()
        # A redelivered tick, or one decided after a later one: read back (no statement
        # when every tick is new, as a tick batch's are but for a redelivery).
        maybe_decided: set[tuple[int, int]] = set()
        for agent_id, due in ticks_read:
            if due <= ticked.get(agent_id, -math.inf):
                maybe_decided.add((agent_id, due))
        before = decided_before(session, maybe_decided) if maybe_decided else {}
        answering: set[int] = set()
        if may_answer:  # a steady tick, or a session's later one, opens nothing
            answering = spoke_since(session, may_answer, since=now - ANSWER_DAYS)
        plan = plan_ticks(
            parsed,
            agents,
            catalogue,
            before=before,
            answering=answering,
            now=now,
            lease=lease,
            adjust=strain.adjust,
            notified=notified,
            share=strain.share,
            owed=owed,
        )
        new_keys, ids = record_decided(session, plan.rows, [d.key.text for d in plan.decided])
        _update_ticked(session, plan, new_keys, now)
        to_send = new_keys & plan.pending  # once: per decision it made the batch quadratic
        return [
            RecordedDecision(d, ids.get(d.key.text), d.key.text in to_send) for d in plan.decided
        ]


# The agent columns a tick needs, in id order and locked (``decide_ticks``), and whether
# each agent owes a person an answer (``owed_since``: bound at each read): built once.
_LOCKED = (
    select(
        Agent.id,
        Agent.persona,
        Agent.seed,
        Agent.status,
        Agent.deleted_at,
        Agent.weights,
        Agent.interval_min,
        Agent.interval_max,
        Agent.activity,
        Agent.day_counts,
        Agent.people_waiting_since,
        Agent.last_tick_at,
        identity.OWES,
    )
    .order_by(Agent.id)
    .with_for_update()
)


def _update_ticked(session: Session, plan: TickPlan, new_keys: set[str], now: datetime) -> None:
    """The agents' runtime state after the decisions newly recorded (``new_keys``): a tick
    more, the latest tick's time (never moved back by a tick decided late: ``decide_ticks``
    looks in the ledger only for ticks due at or before it) and the day's counts; and the
    notifications looked at."""
    if plan.looked:
        # They looked at their notifications: the next scan marks them again if a
        # person's comment still waits.
        session.execute(
            update(_AGENTS)
            .where(_AGENTS.c.id.in_(sorted(plan.looked)))
            .values(people_waiting_since=None)
        )
    fresh = plan.updates
    if len(new_keys) < len(plan.rows):  # a tick decided before (redelivered): not again
        fresh = [
            u
            for u, row in zip(plan.updates, plan.rows, strict=True)
            if row["idempotency_key"] in new_keys
        ]
    if fresh:
        table = _AGENTS
        session.execute(
            update(table)
            .where(table.c.id == bindparam("agent_id"))
            .values(
                ticks_count=table.c.ticks_count + 1,
                last_tick_at=case(
                    (table.c.last_tick_at > bindparam("due"), table.c.last_tick_at),
                    else_=bindparam("due"),
                ),
                day_counts=bindparam("counts"),
                updated_at=now,
            ),
            fresh,
        )
