"""End to end: a real worker and beat on the real Redis tick 200 agents on their rhythm."""

from __future__ import annotations

import math
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from sqlalchemy import Engine, func, select

from fleet import agents
from fleet.agents import Selection
from fleet.agents.heartbeat import MIN_TICK_GAP_SECONDS
from fleet.core.steady import next_tick_epoch
from fleet.db.models import Agent, AgentActivity
from fleet.service.root import Fleet, bootstrap
from fleet.settings import Settings
from fleet.worker.app import create_app
from tests.e2e.conftest import REDIS_URL, Processes, wait_for

pytestmark = pytest.mark.slow

PERSONAS = Path(__file__).parent / "personas"
RUN_SECONDS = 30.0
INTERVAL = (6.0, 10.0)


def _predicted(fleet: Fleet, agent: object, until: float) -> int:
    """Ticks the pure clock predicts for one agent, due at or before ``until``."""
    clock = fleet.personas.clock(agent.persona)  # type: ignore[attr-defined]
    due = agent.next_tick_at.timestamp()  # type: ignore[attr-defined]
    count = 0
    while due <= until:
        count += 1
        following = next_tick_epoch(clock, agent.seed, *INTERVAL, due)  # type: ignore[attr-defined]
        due = max(following, math.floor(due) + MIN_TICK_GAP_SECONDS)
    return count


def test_200_agents_tick_as_their_schedules_predict(
    processes: Processes, postgres_database: str, pg_engine: Engine, redis_prefix: str
) -> None:
    settings = Settings(
        database_url=postgres_database,
        broker_url=REDIS_URL,
        broker_key_prefix=redis_prefix,
        seed=7,
        personas_dir=PERSONAS,
    )
    fleet = bootstrap(settings, pg_engine)
    now = datetime.now(UTC)
    for slug in fleet.personas.slugs():
        agents.create_agents(
            fleet.sessions,
            fleet.personas,
            agents.NewAgents(slug, 100, interval=INTERVAL),
            fleet_seed=7,
            now=now,
        )
    processes.start(
        "worker",
        "worker",
        "-Q",
        "ticks",
        "-P",
        "solo",
        "--loglevel",
        "INFO",
        "-n",
        f"ticks-{redis_prefix}@%h",
    )
    app = create_app(settings)
    wait_for(lambda: bool(app.control.ping(timeout=0.5)), 60, "the worker to answer a ping")
    beat = processes.start(
        "beat", "beat", "--schedule", str(processes.logs / "beat-schedule"), "--loglevel", "INFO"
    )

    start = datetime.now(UTC)
    started = agents.change_status(
        fleet.sessions, fleet.personas, "start", Selection(everyone=True), now=start
    )
    assert started.changed == 200
    with fleet.sessions() as session:
        initial = list(
            session.execute(select(Agent.id, Agent.persona, Agent.seed, Agent.next_tick_at))
        )
    cut = start.timestamp() + RUN_SECONDS
    predicted = {row.id: _predicted(fleet, row, cut) for row in initial}

    wait_for(
        lambda: time.time() > cut + 2.0, RUN_SECONDS + 10, "the run to last its time", every=0.5
    )
    processes.stop(beat)
    queue = redis.Redis.from_url(REDIS_URL)

    def decided() -> Counter[int]:
        with fleet.sessions() as session:
            rows = session.execute(
                select(AgentActivity.agent_id, func.count())
                .where(AgentActivity.due_at <= datetime.fromtimestamp(cut, UTC))
                .group_by(AgentActivity.agent_id)
            )
            return Counter({agent_id: count for agent_id, count in rows})

    wait_for(lambda: queue.llen(f"{redis_prefix}ticks") == 0, 60, "the ticks queue to drain")
    counted = decided()
    expected_total = sum(predicted.values())
    assert expected_total > 1000, "the run is long enough for every agent to tick several times"
    off = {
        agent_id: (counted[agent_id], want)
        for agent_id, want in predicted.items()
        if abs(counted[agent_id] - want) > 1
    }
    assert len(off) <= 4, f"agents whose count is off by more than 1 (got, predicted): {off}"
    assert abs(sum(counted.values()) - expected_total) <= 0.05 * expected_total
    by_persona = Counter()
    for row in initial:
        by_persona[row.persona] += counted[row.id]
    # The brisk persona runs at 2.5x the steady one's speed, and it shows.
    assert 2.0 < by_persona["brisk_ticker"] / by_persona["steady_ticker"] < 3.0
    # The dispatcher claims agents up to a second ahead; the worker holds their ticks
    # until due: no tick is decided before its due second.
    with fleet.sessions() as session:
        early = session.scalar(
            select(func.count())
            .select_from(AgentActivity)
            .where(AgentActivity.created_at < AgentActivity.due_at)
        )
    assert early == 0
