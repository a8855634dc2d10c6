"""Chaos: a running fleet (real worker and beat processes, 24 agents ticking every 2-4 s, the
real dispatcher every second) is broken for a while, then drained, and its books checked.

Each scenario runs about 18 s of activity. The books (see ``conftest.check``): every
decided action ends in exactly one terminal state (no activity pending after the
drain; one row per key, by constraint), the gallery's posts, likes and comments per
agent equal the succeeded activities (no duplicate, none missing), the agents' counters
equal the ledger, reconciliation finds nothing, and every active agent has a next tick.
"""

from __future__ import annotations

import signal

import pytest
from sqlalchemy import select

from fleet import agents
from fleet.agents import Selection
from fleet.db.models import Agent
from tests.chaos.conftest import LEASE, RUN_SECONDS, Rig, _now, logs_of
from tests.e2e.conftest import wait_for

# A fault scenario: make test-faults runs it, make test leaves it out (docs/testing.md).
pytestmark = [pytest.mark.slow, pytest.mark.faults]

OUTAGE_SECONDS = 3.0
# A deadline, not a pause: work in flight shows within a second or two on a quiet machine,
# and on two cores shared with a loaded suite a few times that.
IN_FLIGHT_SECONDS = 60


def test_a_worker_killed_with_sigkill_mid_run_and_restarted_leaves_the_books_balanced(
    rig: Rig,
) -> None:
    rig.start()
    rig.admin.faults(latencyMs=150)  # calls take a while: the kill finds actions in flight
    rig.until(7)
    wait_for(lambda: rig.pending() >= 3, IN_FLIGHT_SECONDS, "actions in flight to kill")
    rig.evidence["pending_when_killed"] = rig.pending()
    rig.fault()
    rig.evidence["exit_code"] = rig.kill_worker()
    assert rig.evidence["exit_code"] == -signal.SIGKILL
    rig.start_worker("heir")
    rig.until(RUN_SECONDS)
    rig.record("worker_sigkill")


def test_a_worker_killed_with_sigkill_in_the_middle_of_a_batch_leaves_the_books_balanced(
    rig: Rig,
) -> None:
    """Likes and browses go in batches (``fleet.engage_batch``): the worker is killed while
    one delivery holds several actions claimed and unfinished. Its actions are re-sent by
    the lease sweeper, one by one or in batches, and each ends once."""
    rig.start()
    rig.admin.faults(latencyMs=400)  # each gallery call takes a while: a batch lasts
    rig.until(5)
    wait_for(
        lambda: rig.batch_in_flight() >= 2,
        IN_FLIGHT_SECONDS,
        "a batch of actions in flight to kill",
    )
    rig.evidence["batch_in_flight_when_killed"] = rig.batch_in_flight()
    rig.fault()
    rig.evidence["exit_code"] = rig.kill_worker()
    assert rig.evidence["exit_code"] == -signal.SIGKILL
    rig.admin.faults(latencyMs=0)
    rig.start_worker("heir")
    rig.until(RUN_SECONDS)
    batches = logs_of(rig.processes, "heir").count("fleet.engage_batch")
    rig.evidence["heir_batch_log_lines"] = batches
    assert batches > 0, "the heir ran no batch"
    rig.record("worker_sigkill_mid_batch")


def test_a_gallery_failing_losing_answers_and_slow_leaves_the_books_balanced(rig: Rig) -> None:
    rig.admin.faults(
        errorRates={"*": 0.3},
        errorStatus=503,
        loseAnswerRates={"execute": 0.1, "create_post": 0.1, "like": 0.1, "create_comment": 0.1},
        latencyMs=60,
    )
    rig.start()
    rig.until(RUN_SECONDS)
    books = rig.record("gallery_faults")
    assert books["succeeded"] > 0


def test_every_message_delivered_twice_leaves_the_books_balanced(rig: Rig) -> None:
    """Every message reaches a worker twice: ``tests/chaos/twice.py``, loaded into the worker,
    publishes each message it starts once more through Redis (see its docstring)."""
    rig.start("-I", "tests.chaos.twice")
    rig.until(RUN_SECONDS)
    copies = logs_of(rig.processes, "worker").count("-copy]")
    rig.evidence["copies_received_in_run"] = copies
    assert copies > 0, "the worker received no copies"
    batch_copies = logs_of(rig.processes, "worker").count("fleet.engage_batch[")
    rig.evidence["batch_deliveries_in_run"] = batch_copies
    assert batch_copies > 0, "no batch message reached the worker"
    rig.record("delivered_twice")


def test_a_backlog_older_than_the_lease_and_a_pause_in_a_lossy_run_leave_the_books_balanced(
    rig: Rig,
) -> None:
    """The gallery keeps no idempotency keys, loses answers and fails calls. The actions
    queue with no worker to take them for longer than the lease, and than the unclaimed
    window (the sweeper re-sends the oldest: two copies of each in the queues); then a
    worker takes them; mid-run half the agents are paused and resumed. Exclusive claims
    keep one effect per action (no duplicate without the gallery's keys), and no action
    ends skipped or dead with an effect the books or reconcile do not account for."""
    rig.admin.idempotency(False)
    rig.admin.faults(
        errorRates={"*": 0.1},
        errorStatus=503,
        loseAnswerRates={"create_post": 0.15, "like": 0.15, "create_comment": 0.15},
        latencyMs=30,
    )
    rig.start_worker("ticks", "-Q", "ticks,dead_letter")
    rig.start_agents_and_beat()
    rig.fault()
    rig.until(LEASE * 2 + 2)  # past the lease and the unclaimed window: re-sent copies
    rig.evidence["queued_before_worker"] = {
        name: rig.queued(name) for name in ("content", "engage")
    }
    rig.start_worker("worker")
    rig.until(LEASE * 2 + 5)
    with rig.fleet.sessions() as session:
        ids = sorted(session.scalars(select(Agent.id)))
    half = Selection(id_range=(ids[0], ids[len(ids) // 2 - 1]))
    paused = agents.change_status(rig.fleet.sessions, rig.fleet.personas, "pause", half, now=_now())
    rig.evidence["paused"] = paused.changed
    rig.until(LEASE * 2 + 8)
    agents.change_status(rig.fleet.sessions, rig.fleet.personas, "resume", half, now=_now())
    rig.until(RUN_SECONDS + 4)
    books = rig.record("backlog_pause_lossy")
    assert sum(rig.evidence["queued_before_worker"].values()) > 0, "a backlog built up"
    assert books["succeeded"] > 0


# The gallery's shared limit well below what the fleet asks: 24 agents every 2-4 s make
# about 8 actions a second, each one to three gallery calls.
OVERLOADED_REQUESTS_PER_SECOND = 10


def test_plain_overload_with_a_worker_killed_and_answers_lost_yields_no_dead_letter(
    rig: Rig,
) -> None:
    """The fleet asks far more of the gallery than its shared rate limit gives; a worker
    is SIGKILLed mid-run and answers are lost, so many actions may have reached the
    gallery before they are deferred by the limiter. Such an action waits for the limiter
    (it re-checks within its lease) instead of being dead-lettered after a count of
    deferrals; the decider decides fewer actions while the limiter refuses. Overload is
    no failure: no dead letter, and the books balance."""
    rig.processes.env["FLEET_ACTIONS__GALLERY_REQUESTS_PER_SECOND"] = str(
        OVERLOADED_REQUESTS_PER_SECOND
    )
    # Waiters spread over up to 2 s (the suite's 0.5 s would have them stampede the limit).
    rig.processes.env["FLEET_ACTIONS__BACKOFF_MAX_SECONDS"] = "2"
    rig.admin.faults(
        loseAnswerRates={"execute": 0.1, "create_post": 0.1, "like": 0.1, "create_comment": 0.1},
        latencyMs=100,
    )
    rig.start()
    rig.until(6)
    wait_for(lambda: rig.pending() >= 3, IN_FLIGHT_SECONDS, "actions in flight to kill")
    rig.fault()
    rig.evidence["exit_code"] = rig.kill_worker()
    rig.start_worker("heir")
    rig.until(RUN_SECONDS)
    pressure = rig.fleet.back_pressure()
    rig.evidence["back_pressure_at_end"] = {
        "refused_share": pressure.refused_share,
        "decide_share": pressure.decide_share,
    }
    books = rig.record("plain_overload")
    assert books["succeeded"] > 0
    assert books["dead"] == 0, books["dead_errors"]
