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


def test_the_recent_texts_are_the_published_posts_and_what_was_said_newest_first(
    fleet: Fleet,
) -> None:
    """A post is its caption and description, a comment or a reply its text (not the
    caption kept beside it); only what succeeded, of the kinds that write, of the agent
    asked for or of everyone; a field missing or not a string reads as it would print."""
    from fleet.core.memory import post_text
    from fleet.core.statuses import ActivityStatus

    made = agents.create_agents(
        fleet.sessions, fleet.personas, agents.NewAgents("ux_ui_designer", 2), fleet_seed=7, now=NOW
    ).first_id
    rows = [
        (made, "post", ActivityStatus.SUCCEEDED, {"title": "Night Grid", "description": "Ink."}),
        (made, "comment", ActivityStatus.SUCCEEDED, {"text": "Lovely light.", "title": "Dawn"}),
        (made, "comment", ActivityStatus.DEAD, {"text": "never sent"}),
        (made, "like", ActivityStatus.SUCCEEDED, {"text": "not written"}),
        (made + 1, "reply", ActivityStatus.SUCCEEDED, {"text": "@maya thanks!", "to": "maya"}),
        (made + 1, "post", ActivityStatus.SUCCEEDED, {"title": 1984}),
        (made + 1, "comment", ActivityStatus.SUCCEEDED, {"title": "no text of its own"}),
    ]
    with fleet.sessions.begin() as session:
        for i, (agent_id, action, status, content) in enumerate(rows):
            session.add(
                AgentActivity(
                    agent_id=agent_id,
                    action=action,
                    idempotency_key=f"{agent_id}:{i}:{action}",
                    status=status,
                    content=content,
                    due_at=NOW,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
    everyone = activities.recent_texts_of(fleet.sessions, limit=10)
    assert everyone == [
        post_text("1984", ""),
        "@maya thanks!",
        "Lovely light.",
        post_text("Night Grid", "Ink."),
    ]
    # The limit counts the rows read: the newest, a comment without a text, says nothing.
    assert activities.recent_texts_of(fleet.sessions, limit=3) == everyone[:2]
    own = activities.recent_texts_of(fleet.sessions, agent_id=made, limit=10)
    assert own == ["Lovely light.", post_text("Night Grid", "Ink.")]
