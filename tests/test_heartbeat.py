"""The dispatcher and the tick decision, on the real Postgres and on SQLite."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from fleet import agents
from fleet.agents import Selection
from fleet.agents.heartbeat import Tick, decide_ticks, dispatch_due
from fleet.bootstrap import Fleet
from fleet.db.models import Agent, AgentActivity
from tests.conftest import active_agents

NOW = datetime(2026, 11, 17, 15, 0, tzinfo=UTC)  # Tuesday: 10:00 in New York, 07:00 in LA
LEASE = timedelta(minutes=5)


def _fleet_of(
    fleet: Fleet, persona: str, count: int, interval: tuple[float, float] | None = None
) -> list[int]:
    return active_agents(fleet, count, persona, now=NOW, interval=interval)


def _make_due(fleet: Fleet, at: datetime) -> None:
    with fleet.sessions.begin() as session:
        session.execute(update(Agent).values(next_tick_at=at))


def _next_ticks(fleet: Fleet) -> dict[int, datetime]:
    with fleet.sessions() as session:
        return {
            row.id: row.next_tick_at
            for row in session.execute(select(Agent.id, Agent.next_tick_at))
        }


def _dispatch(fleet: Fleet, now: datetime, batch: int = 100) -> list[Tick]:
    sent: list[Tick] = []
    dispatch_due(
        fleet.sessions,
        fleet.personas,
        sent.extend,
        now=now.timestamp(),
        batch_size=batch,
        max_batches=1000,
    )
    return sent


def test_due_agents_get_one_tick_each_and_a_later_next_tick(fleet: Fleet) -> None:
    ids = _fleet_of(fleet, "product_photographer", 30)
    due = NOW + timedelta(seconds=10)
    _make_due(fleet, due)
    assert _dispatch(fleet, NOW) == [], "nothing is due before its time"
    sent = _dispatch(fleet, due + timedelta(seconds=1), batch=7)
    assert sorted(sent) == [(agent_id, int(due.timestamp())) for agent_id in ids]
    after = _next_ticks(fleet)
    assert all(tick > due for tick in after.values())
    assert _dispatch(fleet, due + timedelta(seconds=1)) == [], "a tick is dispatched once"


def test_paused_and_deleted_agents_are_not_dispatched(fleet: Fleet) -> None:
    ids = _fleet_of(fleet, "ux_ui_designer", 3)
    agents.change_status(
        fleet.sessions, fleet.personas, "pause", Selection(refs=(str(ids[0]),)), now=NOW
    )
    agents.delete_agents(fleet.sessions, fleet.personas, Selection(refs=(str(ids[1]),)), now=NOW)
    with fleet.sessions.begin() as session:
        session.execute(update(Agent).values(next_tick_at=NOW))
    assert [agent_id for agent_id, _ in _dispatch(fleet, NOW + timedelta(seconds=1))] == [ids[2]]


def test_an_agent_far_behind_gets_one_tick_then_its_normal_rhythm(fleet: Fleet) -> None:
    (agent_id,) = _fleet_of(fleet, "social_media_marketer", 1)
    _make_due(fleet, NOW - timedelta(days=1))
    sent = _dispatch(fleet, NOW)
    assert len(sent) == 1
    following = _next_ticks(fleet)[agent_id]
    # Counted from now, not from a day ago: 30-90 s of active time at 2.5x or less.
    assert NOW < following <= NOW + timedelta(seconds=90 / 0.5)
    assert _dispatch(fleet, NOW + timedelta(seconds=1)) == []


def test_a_lost_tick_does_not_stall_the_agent(fleet: Fleet) -> None:
    (agent_id,) = _fleet_of(fleet, "ai_art_enthusiast", 1, interval=(5, 5))
    first = _next_ticks(fleet)[agent_id]
    lost = _dispatch(fleet, first)  # published, then lost by the broker: never decided
    assert len(lost) == 1
    second = _next_ticks(fleet)[agent_id]
    assert second > first
    assert [t[0] for t in _dispatch(fleet, second)] == [agent_id]


def test_two_dispatchers_at_once_never_emit_the_same_tick_twice(pg_fleet: Fleet) -> None:
    fleet = pg_fleet
    _fleet_of(fleet, "social_media_marketer", 10_000)
    _make_due(fleet, NOW)
    results: list[list[Tick]] = [[], []]
    barrier = threading.Barrier(2)

    def run(slot: int) -> None:
        barrier.wait()
        dispatch_due(
            fleet.sessions,
            fleet.personas,
            results[slot].extend,
            now=NOW.timestamp(),
            batch_size=250,
            max_batches=1000,
        )

    threads = [threading.Thread(target=run, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    every = results[0] + results[1]
    assert len(every) == 10_000
    assert len(set(every)) == 10_000
    assert results[0] and results[1], "both dispatchers took a share"


def _activities(fleet: Fleet) -> list[AgentActivity]:
    with fleet.sessions() as session:
        return list(session.scalars(select(AgentActivity).order_by(AgentActivity.id)))


def test_a_tick_decides_an_action_and_records_it_once(fleet: Fleet) -> None:
    ids = _fleet_of(fleet, "indie_game_dev", 5)
    due = int(NOW.timestamp())
    ticks = [(agent_id, due) for agent_id in ids]
    first = decide_ticks(fleet.sessions, fleet.personas, ticks, now=NOW, lease=LEASE)
    assert [d.new for d in first] == [True] * 5
    assert all(d.idempotency_key == f"{d.agent_id}:{due}:{d.action}" for d in first)
    again = decide_ticks(fleet.sessions, fleet.personas, ticks, now=NOW, lease=LEASE)
    assert [(d.action, d.activity_id, d.new) for d in again] == [
        (d.action, d.activity_id, False) for d in first
    ]
    rows = _activities(fleet)
    assert len(rows) == 5 and {r.status for r in rows} == {"pending"}
    for agent_id in ids:
        shown = agents.get_agent(fleet.sessions, str(agent_id))
        assert shown.ticks == 1
        assert shown.last_tick_at == datetime.fromtimestamp(due, UTC)
        assert shown.current_action in {"post", "comment", "like", "browse"}


def test_a_tick_for_an_agent_that_is_no_longer_active_decides_nothing(fleet: Fleet) -> None:
    (agent_id,) = _fleet_of(fleet, "ux_ui_designer", 1)
    agents.change_status(
        fleet.sessions, fleet.personas, "pause", Selection(refs=(str(agent_id),)), now=NOW
    )
    assert (
        decide_ticks(
            fleet.sessions, fleet.personas, [(agent_id, 1), (424242, 1)], now=NOW, lease=LEASE
        )
        == []
    )
    assert _activities(fleet) == []


def test_decisions_follow_the_normalised_weights(fleet: Fleet) -> None:
    ids = _fleet_of(fleet, "product_photographer", 200)
    ticks = [(agent_id, int(NOW.timestamp()) + k) for agent_id in ids for k in range(10)]
    decisions = decide_ticks(fleet.sessions, fleet.personas, ticks, now=NOW, lease=LEASE)
    counts = Counter(d.action for d in decisions)
    expected = fleet.personas.get("product_photographer").weights.normalised()
    for action, share in expected.items():
        assert abs(counts[action.value] / len(decisions) - share) < 0.04
    with fleet.sessions() as session:
        assert session.scalar(select(func.sum(Agent.ticks_count))) == 2000


def test_a_fleet_hold_stops_dispatch_until_it_ends(fleet: Fleet) -> None:
    from fleet.activities import hold_fleet

    _fleet_of(fleet, "ux_ui_designer", 3)
    _make_due(fleet, NOW)
    hold_fleet(
        fleet.sessions, "paused", "the gallery is paused", NOW + timedelta(minutes=1), now=NOW
    )
    held: list[Tick] = []
    report = dispatch_due(
        fleet.sessions,
        fleet.personas,
        held.extend,
        now=(NOW + timedelta(seconds=30)).timestamp(),
        batch_size=100,
        max_batches=10,
    )
    assert held == [] and report.held is not None and report.held.kind == "paused"
    assert len(_dispatch(fleet, NOW + timedelta(minutes=1, seconds=1))) == 3
