"""Review mode's statistics (the Drafts page, the overview, ``fleet status``): exact, and
read from the drafts' index alone, never every draft nor their activities
(``bench/drafts.py`` measures them at 200,000 drafts)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, event, insert, text

from fleet.activities.drafts import draft_stats, hold_for_review
from fleet.db.models import AgentActivity, Draft
from fleet.service import agents
from fleet.service.root import Fleet

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _drafts(fleet: Fleet) -> None:
    """Agent 1's drafts: two pending, three approved, two rejected (0.25 $ and 0.5 $),
    one expired; one approved long before the window."""
    agents.create(fleet, agents.NewAgents("ux_ui_designer", 1, review=agents.ReviewMode.ON))
    rows = [
        ("pending", None, 0.1),
        ("pending", None, None),
        ("approved", 60, 0.1),
        ("approved", 120, 0.1),
        ("approved", 600, None),
        ("rejected", 300, 0.25),
        ("rejected", 900, 0.5),
        ("expired", 3600, 0.1),
    ]
    with fleet.sessions.begin() as session:
        for n, (status, after, cost) in enumerate(rows, 1):
            made = NOW - timedelta(hours=n)
            session.execute(
                insert(AgentActivity).values(
                    id=n,
                    agent_id=1,
                    action="comment",
                    idempotency_key=f"t:{n}",
                    due_at=made,
                    status="awaiting_review" if status == "pending" else "skipped",
                    created_at=made,
                    updated_at=made,
                )
            )
            session.execute(
                insert(Draft).values(
                    activity_id=n,
                    agent_id=1,
                    status=status,
                    created_at=made,
                    expires_at=made + timedelta(hours=48),
                    decided_at=None if after is None else made + timedelta(seconds=after),
                    cost_usd=cost,
                )
            )
        old = NOW - timedelta(days=30)
        session.execute(
            insert(AgentActivity).values(
                id=99,
                agent_id=1,
                action="post",
                idempotency_key="t:99",
                due_at=old,
                status="skipped",
                created_at=old,
                updated_at=old,
            )
        )
        session.execute(
            insert(Draft).values(
                activity_id=99,
                agent_id=1,
                status="approved",
                created_at=old,
                expires_at=old,
                decided_at=old + timedelta(seconds=5),
                cost_usd=9.0,
            )
        )


@contextmanager
def _statements(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_the_statistics_are_exact_and_read_the_drafts_index_alone(
    fleet: Fleet, engine: Engine
) -> None:
    _drafts(fleet)
    with _statements(engine) as seen:
        stats = draft_stats(fleet.sessions, since=NOW - timedelta(days=7))
    assert (stats.waiting, stats.approved, stats.rejected, stats.expired) == (2, 3, 2, 1)
    assert stats.rejected_cost_usd == 0.75, "the window's rejected drafts only"
    assert stats.median_decision_seconds == 300, "of 60, 120, 600, 300 and 900 s"
    reads = [statement for statement, _ in seen if statement.lstrip().upper().startswith("SELECT")]
    assert reads and not any("agent_activities" in read for read in reads), reads
    # Each read is answered from an index (no scan of the whole drafts table).
    with engine.connect() as connection:
        postgres = engine.dialect.name == "postgresql"
        if postgres:
            # A handful of rows: without this the planner rightly prefers a table scan.
            connection.execute(text("SET enable_seqscan = off"))
        for statement, parameters in seen:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            explain = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
            plan = " ".join(
                str(row[-1]) for row in connection.exec_driver_sql(explain + statement, parameters)
            )
            # A range of an index: never a scan of the table, nor of a whole index.
            assert "Seq Scan" not in plan and "SCAN" not in plan, plan
            assert "ix_drafts_status_decided_at" in plan or "ix_drafts_status_expires_at" in plan, (
                plan
            )


def test_a_draft_keeps_what_writing_it_cost(fleet: Fleet) -> None:
    agents.create(fleet, agents.NewAgents("ux_ui_designer", 1, review=agents.ReviewMode.ON))
    with fleet.sessions.begin() as session:
        session.execute(
            insert(AgentActivity).values(
                id=1,
                agent_id=1,
                action="post",
                idempotency_key="t:1",
                due_at=NOW,
                status="pending",
                created_at=NOW,
                updated_at=NOW,
                usage={"input_tokens": 900, "output_tokens": 80, "cost_usd": 0.0013},
            )
        )
    draft_id = hold_for_review(fleet.sessions, 1, now=NOW, expires_at=NOW + timedelta(hours=48))
    with fleet.sessions() as session:
        draft = session.get(Draft, draft_id)
        assert draft is not None and draft.cost_usd == 0.0013
