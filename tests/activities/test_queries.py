"""The ledger's reads that group by time, on Postgres and SQLite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fleet import activities, agents
from fleet.db.models import AgentActivity
from fleet.service.root import Fleet

NOW = datetime(2026, 11, 25, 16, 42, 7, 123456, tzinfo=UTC)


def test_activities_are_counted_by_persona_and_the_hour_they_began_in(fleet: Fleet) -> None:
    made = {
        persona: agents.create_agents(
            fleet.sessions, fleet.personas, agents.NewAgents(persona, 1), fleet_seed=7, now=NOW
        ).first_id
        for persona in ("ux_ui_designer", "indie_game_dev")
    }
    began = [
        ("ux_ui_designer", NOW),
        ("ux_ui_designer", NOW.replace(minute=0, second=0, microsecond=0)),
        ("ux_ui_designer", NOW + timedelta(hours=1)),
        ("indie_game_dev", NOW - timedelta(minutes=50)),
        ("indie_game_dev", NOW - timedelta(hours=5)),  # before ``since``: not counted
    ]
    with fleet.sessions.begin() as session:
        for i, (persona, at) in enumerate(began):
            session.add(
                AgentActivity(
                    agent_id=made[persona],
                    action="like",
                    idempotency_key=f"{made[persona]}:{i}:like",
                    due_at=at,
                    created_at=at,
                    updated_at=at,
                )
            )
    counted = activities.hourly_counts(fleet.sessions, NOW - timedelta(hours=2))
    hour = NOW.replace(minute=0, second=0, microsecond=0)
    assert sorted(counted) == [
        ("indie_game_dev", hour - timedelta(hours=1), 1),
        ("ux_ui_designer", hour, 2),
        ("ux_ui_designer", hour + timedelta(hours=1), 1),
    ]
    assert all(
        start.tzinfo is not None and start.utcoffset() == timedelta(0) for _, start, _ in counted
    )
