"""A like (or comment) choosing a post while another action of the agent on that post
commits its success: the race behind the chaos suite's rare ``ledger_matches: false``.

The first choice is kept by one ``UPDATE ... WHERE <the post is open to the agent>``
(``fleet.activities.kept_targets``). When the agent's other action holds the post (pending,
so the unique index of pending targets refuses a second), the statement waits on that
action's transaction, and when it commits (succeeded, its ledger row written) the update
goes on with the ledger read before the wait: the post is kept a second time. The second
action then engages the post again (a second like toggles the first off; a second comment
is made), and its ledger row is dropped by the ledger's unique constraint.

Fixed: the open check reads the agent's other actions on the post locked for share, so it
waits for that action's end and sees it ended (``kept_targets.open_to``). Each way a post
is kept is raced: the choice after the claim, the claim of one action with its first
choice, and the batch's claim.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import text

from fleet import activities
from fleet.core.kinds import Action, ActionKey
from fleet.service.root import Fleet
from tests.activities.test_activities import LEASE, NOW, _activity, _keep, _second_like
from tests.e2e.conftest import wait_for

pytestmark = pytest.mark.postgres


def _first_open(done: set[str], recent: dict[str, int]) -> str | None:
    return next((p for p in ("p1", "p2", "p3") if p not in done), None)


def _choice_after_the_claim(fleet: Fleet, agent_id: int, second: int) -> str | None:
    # A choice of p1 whatever the read says: as one made from a read before the first
    # like's pending row was there.
    return _keep(fleet, second, agent_id, lambda done, recent: "p1").post_id


# A first choice of the post the first like holds, by a person ("ann").
P1 = activities.FirstChoice("p1", "ann", "like", 10, since=NOW - timedelta(hours=1))


def _claim_of_one(fleet: Fleet, agent_id: int, second: int) -> str | None:
    claim = activities.claim(
        fleet.sessions, _key_of(fleet, second), now=NOW, lease=LEASE, first_choice=P1
    )
    assert isinstance(claim, activities.Claim)
    return claim.target_post_id


def _batch_claim(fleet: Fleet, agent_id: int, second: int) -> str | None:
    key = _key_of(fleet, second)
    [claim], _ = activities.claim_many(
        fleet.sessions, [key], now=NOW, lease=LEASE, first_choices={key: P1}
    )
    return claim.target_post_id


def _key_of(fleet: Fleet, activity_id: int) -> ActionKey[Action]:
    with fleet.engine.connect() as connection:
        return ActionKey.parse(
            connection.scalar(
                text("SELECT idempotency_key FROM agent_activities WHERE id = :id"),
                {"id": activity_id},
            )
        )


@pytest.mark.parametrize("keeping", [_choice_after_the_claim, _claim_of_one, _batch_claim])
def test_a_post_engaged_while_the_choice_waited_is_not_kept(
    pg_fleet: Fleet, keeping: Callable[[Fleet, int, int], str | None]
) -> None:
    fleet = pg_fleet
    agent_id, first, _ = _activity(fleet)
    second = _second_like(fleet, agent_id)
    assert _keep(fleet, first, agent_id, _first_open).post_id == "p1"
    # The first like's success, as ``activities.finish`` writes it, left uncommitted.
    holder = fleet.engine.connect()
    transaction = holder.begin()
    holder.execute(
        text("UPDATE agent_activities SET status = 'succeeded' WHERE id = :id"), {"id": first}
    )
    holder.execute(
        text(
            "INSERT INTO engagements"
            " (agent_id, target_kind, target_id, kind, activity_id, created_at) "
            "VALUES (:agent, 'post', 'p1', 'like', :id, :at)"
        ),
        {"agent": agent_id, "id": first, "at": NOW},
    )
    kept: list[str | None] = []
    choosing = threading.Thread(target=lambda: kept.append(keeping(fleet, agent_id, second)))
    choosing.start()

    def waiting() -> bool:
        # The second like's statement waits on the first's transaction.
        with fleet.engine.connect() as probe:
            return bool(
                probe.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND datname = current_database()"
                    )
                )
            )

    try:
        wait_for(waiting, 30, "the second like's choice to wait on the first")
    finally:
        transaction.commit()
        holder.close()
        choosing.join(timeout=30)
    assert kept and kept[0] != "p1", kept
