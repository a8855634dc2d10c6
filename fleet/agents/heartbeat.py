"""The heartbeat: each cycle claims due agents, moves their clocks on, then publishes their ticks.

Dispatch claims due active agents in batches (``FOR UPDATE SKIP LOCKED`` on Postgres, so
two dispatchers never claim the same agent), advances each ``next_tick_at`` with the
agent's clock, commits, and only then hands the batch to the publisher. The tick's
due time is the agent's old ``next_tick_at`` in whole UTC seconds: it names the tick in
the idempotency key, and a redelivered tick finds its decision already recorded. What a
tick does is decided when it arrives (``fleet.agents.deciding``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, select, update
from sqlalchemy.orm import Session, sessionmaker

from fleet.activities.holds import active_hold
from fleet.activities.pace import current_pace
from fleet.activities.views import Hold
from fleet.agents.deciding import rhythm_of
from fleet.core.sessions import MIN_GAP_SECONDS, Position
from fleet.db.engine import update_rows
from fleet.db.models import Agent
from fleet.errors import UnknownPersona
from fleet.infra.persona_files import PersonaCatalogue

# A tick is named by its whole UTC second: two ticks of one agent never share one.
MIN_TICK_GAP_SECONDS = MIN_GAP_SECONDS
# Ticks one agent may be given in one claim (a session's actions seconds apart, a demo's
# long step); past it the agent waits for the next cycle.
MAX_TICKS_PER_CLAIM = 1000

_AGENTS = cast(Table, Agent.__table__)

Tick = tuple[int, int, int, int]
"""(agent id, due time, opening second of its session, index in the session), the due
time and the opening as whole UTC epoch seconds: what a tick message carries. A tick of
two fields (an older dispatcher's) is decided as a steady tick."""


@dataclass
class DispatchReport:
    """What one dispatch cycle did."""

    ticks: int = 0
    batches: int = 0
    lags: list[float] = field(default_factory=list)
    held: Hold | None = None
    # Agents set aside (status "error"): (agent id, why).
    set_aside: list[tuple[int, str]] = field(default_factory=list)


# The due active agents, oldest first, locked and skipped when another dispatcher holds
# them (``dispatch_due`` adds the batch's limit): built once.
_DUE = (
    select(
        Agent.id,
        Agent.persona,
        Agent.seed,
        Agent.next_tick_at,
        Agent.session_opened_at,
        Agent.session_index,
        Agent.interval_min,
        Agent.interval_max,
        Agent.activity,
    )
    .where(
        Agent.status == "active",
        Agent.deleted_at.is_(None),
        Agent.next_tick_at <= bindparam("due_by"),
    )
    .order_by(Agent.next_tick_at)
    .with_for_update(skip_locked=True)
)


# What an agent's own data can make its clock raise: a persona file that is gone, an
# interval out of any range, a time past what a datetime holds.
AGENT_FAULTS: tuple[type[Exception], ...] = (UnknownPersona, ValueError, OverflowError)


def set_aside(connection: Connection, bad: Sequence[tuple[int, str]], *, now: datetime) -> None:
    """Give agents status ``error`` with the reason: no next tick until started again."""
    connection.execute(
        update(_AGENTS)
        .where(_AGENTS.c.id == bindparam("agent_id"))
        .values(
            status="error",
            error=bindparam("reason"),
            next_tick_at=None,
            updated_at=now,
        ),
        [{"agent_id": agent_id, "reason": reason[:500]} for agent_id, reason in bad],
    )


def ticks_due(
    catalogue: PersonaCatalogue, row: Any, now: float, catch_up: float, *, pace: float = 1.0
) -> tuple[list[Tick], list[float], Position]:
    """The ticks of a claimed agent up to ``now``, their due times, and its next position.

    Every tick of its timeline due by ``now`` is given (a session's actions follow one
    another within seconds; a demo's step spans minutes), but an agent far behind (the
    fleet was down longer than ``catch_up`` seconds) gets one tick for the whole gap and
    then the rhythm from ``now``: never a burst of catch-up ticks.
    """
    rhythm = rhythm_of(catalogue.cadences[row.persona], row, pace=pace)
    due = row.next_tick_at.timestamp()
    if row.session_opened_at is None:
        current = Position(due, math.floor(due), 0)
    else:
        current = Position(due, math.floor(row.session_opened_at.timestamp()), row.session_index)
    ticks: list[Tick] = []
    dues: list[float] = []
    while True:
        ticks.append((row.id, math.floor(current.due), current.opened, current.index))
        dues.append(current.due)
        following = rhythm.following(current)
        if following.due > now:
            return ticks, dues, following
        if following.due < now - catch_up or len(ticks) >= MAX_TICKS_PER_CLAIM:
            return ticks, dues, rhythm.start(now)
        current = following


@dataclass(frozen=True)
class DispatchLimits:
    """How one dispatch cycle claims: agents per batch (one transaction), batches at most,
    how far behind (seconds) a clock catches up before it starts afresh, and how far
    ahead of now agents are claimed (their ticks published for the workers to hold)."""

    batch_size: int
    max_batches: int
    catch_up: float = 60.0
    lead: float = 0.0


def dispatch_due(
    sessions: sessionmaker[Session],
    catalogue: PersonaCatalogue,
    publish: Callable[[list[Tick]], None],
    *,
    now: float,
    limits: DispatchLimits,
) -> DispatchReport:
    """Claim due agents batch by batch, advance their clocks, commit, then publish.

    Agents due within ``limits.lead`` seconds after ``now`` are claimed too: their ticks
    are published ahead, for the workers to hold until due (``Tick``'s due second).

    On Postgres a full batch is written (its clocks' ``UPDATE``, the commit, the publish)
    on a thread of its own while the next batch is claimed and its clocks computed: the
    server's work on the one overlaps the dispatcher's on the other, and ``SKIP LOCKED``
    keeps the two batches apart (the rows being written stay locked until committed). At
    most one batch is being written; the last batch is written in place.

    While a fleet-wide hold is in force (the fleet's budget, the platform's pause),
    nothing is claimed: the agents' ticks wait in Postgres, not in the broker.
    """
    report = DispatchReport()
    with sessions() as session:
        report.held = active_hold(session, datetime.fromtimestamp(now, UTC))
        # As people become active the fleet opens fewer sessions (``fleet.core.pace``).
        pace = current_pace(session)
    if report.held is not None:
        return report
    writing: Future[None] | None = None
    writer: ThreadPoolExecutor | None = None
    try:
        for _ in range(limits.max_batches):
            session = sessions()
            try:
                session.begin()
                connection = session.connection()
                due_by = datetime.fromtimestamp(now + limits.lead, UTC)
                rows = connection.execute(_DUE.limit(limits.batch_size), {"due_by": due_by}).all()
                if rows:
                    batch = _Batch(session, now)
                    for row in rows:
                        try:
                            given, dues, following = ticks_due(
                                catalogue, row, now + limits.lead, limits.catch_up, pace=pace
                            )
                        except AGENT_FAULTS as error:
                            # One agent the clock cannot advance must not hold back the others.
                            batch.bad.append((row.id, f"cannot be dispatched: {error}"))
                            continue
                        batch.ids.append(row.id)
                        batch.dues.append(following.due)
                        batch.opened.append(following.opened)
                        batch.indexes.append(following.index)
                        batch.ticks.extend(given)
                        for due in dues:
                            report.lags.append(max(0.0, now - due))
                if writing is not None:  # the batch before is written before this one is
                    previous, writing = writing, None
                    previous.result()
            except BaseException:
                session.close()
                raise
            if not rows:
                session.close()
                break
            # The batch's ticks are counted when they are sent: published only after commit.
            report.ticks += len(batch.ticks)
            report.batches += 1
            report.set_aside.extend(batch.bad)
            last = len(rows) < limits.batch_size
            if last or connection.dialect.name != "postgresql":
                batch.write(publish)
                if last:
                    break
                continue
            writer = writer or ThreadPoolExecutor(1, thread_name_prefix="fleet-dispatch")
            writing = writer.submit(batch.write, publish)
    finally:
        if writing is not None:
            writing.result()
        if writer is not None:
            writer.shutdown()
    return report


@dataclass
class _Batch:
    """One claimed batch: its open transaction, the agents advanced and their next
    positions (due, opening and index, column by column as they are written), their
    ticks, and the agents set aside (id, why)."""

    session: Session
    now: float
    ids: list[int] = field(default_factory=list)
    dues: list[float] = field(default_factory=list)
    opened: list[int] = field(default_factory=list)
    indexes: list[int] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    bad: list[tuple[int, str]] = field(default_factory=list)

    def write(self, publish: Callable[[list[Tick]], None]) -> None:
        """Write the agents' next positions, set the bad ones aside, commit, then
        publish the ticks."""
        with self.session:
            connection = self.session.connection()
            # Epoch seconds: on Postgres the server turns them into timestamps.
            update_rows(
                connection,
                _AGENTS,
                self.ids,
                {"session_index": self.indexes},
                epochs={"next_tick_at": self.dues, "session_opened_at": self.opened},
            )
            if self.bad:
                set_aside(connection, self.bad, now=datetime.fromtimestamp(self.now, UTC))
            self.session.commit()
        # Published only after commit: a crash between the two loses a tick, never
        # duplicates one, and the agent's next tick is already on its way.
        publish(self.ticks)
