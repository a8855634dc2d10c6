"""What a batch's choice reads of the ledger (``activities.taken_by``) on Postgres: the rows
about the candidate posts, not each agent's history. Counted from the plan Postgres ran
(``EXPLAIN ANALYZE``: the rows each scan of ``agent_activities`` and ``engagements`` read,
kept or filtered out), so the figure is exact, not timed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text

from fleet.activities import kept_targets
from fleet.service.root import Fleet
from tests.conftest import active_agents

TABLES = {"agent_activities", "engagements"}
CANDIDATES = [f"feed-{n}" for n in range(60)]  # the feeds' pages: three sorts of 20
LIKED = CANDIDATES[:3]  # each agent liked three of the candidates already
HELD = CANDIDATES[5]  # and holds one with a like in flight


def _history(fleet: Fleet, agents: list[int], first: int, last: int) -> None:
    """Likes ``first`` to ``last`` of each agent, of posts long off the feed: a succeeded
    activity and its ledger row each, as a like leaves them."""
    with fleet.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO agent_activities (agent_id, action, idempotency_key, due_at,"
                " status, target_post_id, created_at, updated_at)"
                " SELECT a, 'like', a || ':history:' || n, now(), 'succeeded',"
                " 'old-' || a || '-' || n, now() - interval '30 days', now()"
                " FROM unnest(CAST(:agents AS bigint[])) AS a, generate_series(CAST(:first AS int), CAST(:last AS int)) n"
            ),
            {"agents": agents, "first": first, "last": last},
        )
        connection.execute(
            text(
                "INSERT INTO engagements (agent_id, target_kind, target_id, kind, activity_id,"
                " created_at)"
                " SELECT agent_id, 'post', target_post_id, 'like', id, created_at"
                " FROM agent_activities WHERE idempotency_key LIKE '%:history:%'"
                " ON CONFLICT (agent_id, target_id, kind) DO NOTHING"
            )
        )
        connection.execute(text("ANALYZE agent_activities"))
        connection.execute(text("ANALYZE engagements"))


def _liked_now(fleet: Fleet, agents: list[int]) -> None:
    with fleet.engine.begin() as connection:
        for agent in agents:
            connection.execute(
                text(
                    "INSERT INTO agent_activities (agent_id, action, idempotency_key,"
                    " due_at, status, target_post_id, created_at, updated_at)"
                    " VALUES (:a, 'like', :key, now(), 'pending', :p, now(), now())"
                ),
                {"a": agent, "key": f"{agent}:{HELD}:like", "p": HELD},
            )
            for post in LIKED:
                activity = connection.execute(
                    text(
                        "INSERT INTO agent_activities (agent_id, action, idempotency_key,"
                        " due_at, status, target_post_id, created_at, updated_at)"
                        " VALUES (:a, 'like', :key, now(), 'succeeded', :p, now(), now())"
                        " RETURNING id"
                    ),
                    {"a": agent, "key": f"{agent}:{post}:like", "p": post},
                ).scalar_one()
                connection.execute(
                    text(
                        "INSERT INTO engagements (agent_id, target_kind, target_id, kind,"
                        " activity_id, created_at) VALUES (:a, 'post', :p, 'like', :id, now())"
                    ),
                    {"a": agent, "p": post, "id": activity},
                )


def _rows_read(plan: dict[str, Any]) -> int:
    """Rows the plan's scans of the two tables read: those kept and those filtered out,
    over all their loops (a bitmap's heap scan counts, its index scan does not; Postgres
    rounds a loop's average, so a probe that mostly finds nothing counts low)."""
    read = 0
    if plan.get("Relation Name") in TABLES:
        per_loop = plan["Actual Rows"] + plan.get("Rows Removed by Filter", 0)
        per_loop += plan.get("Rows Removed by Index Recheck", 0)
        read += per_loop * plan["Actual Loops"]
    return read + sum(_rows_read(child) for child in plan.get("Plans", []))


def _read_by_taken_by(fleet: Fleet, agents: list[int], since: datetime) -> int:
    statement = kept_targets._TAKEN_BY["postgresql"]
    with fleet.engine.connect() as connection:
        compiled = statement.compile(dialect=connection.dialect)
        parameters = compiled.construct_params(
            kept_targets.taken_by_parameters(agents, "like", CANDIDATES, since=since)
        )
        (explained,) = connection.exec_driver_sql(
            f"EXPLAIN (ANALYZE, FORMAT JSON) {compiled}", parameters
        ).scalar_one()
    return _rows_read(explained["Plan"])


def test_rows_a_batch_s_choice_reads_do_not_grow_with_the_agents_history(
    pg_fleet: Fleet,
) -> None:
    now = datetime.now(UTC)
    fleet = active_agents(pg_fleet, 100, now=now)
    agents = fleet[::2]  # the batch: 50 likes, half the fleet
    since = now - timedelta(hours=1)
    _liked_now(pg_fleet, agents)
    _liked_now(pg_fleet, fleet[1:2])  # one agent outside the batch too
    _history(pg_fleet, fleet, 1, 100)
    short = _read_by_taken_by(pg_fleet, agents, since)
    _history(pg_fleet, fleet, 101, 1000)  # each agent's history ten times longer
    long = _read_by_taken_by(pg_fleet, agents, since)

    taken = kept_targets.taken_by(pg_fleet.sessions, agents, "like", CANDIDATES, since=since)
    assert taken.done == {agent: {*LIKED, HELD} for agent in agents}
    assert taken.recent == {post: len(agents) + 1 for post in LIKED}
    # What the choice needs: the candidates' ledger rows (the batch's and the other's),
    # and the batch's actions in flight; no more (a probe per candidate: Postgres rounds
    # each probe's rows up to a whole row, so one a candidate more at most).
    needed = (len(agents) + 1) * len(LIKED) + len(agents) + len(CANDIDATES)
    assert long == short, f"{short} rows read with 100 likes each, {long} with 1,000"
    assert long <= needed, f"{long} rows read for {needed} rows about the candidates"
