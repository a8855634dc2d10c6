"""Fault scenarios an operator meets (issue 52): the broker, the database or a beat going
away under a live fleet, on servers of the test's own. Long (a minute or more each), so
under the ``faults`` marker: ``make test-faults`` runs them, ``make test`` does not
(docs/testing.md).

Each runs the chaos rig (``conftest.Rig``: real Celery workers and beat, 24 agents every
2-4 s, the sandbox), breaks one thing mid-run, asks ``fleet status`` while it is broken
(as an operator would, from outside the fleet's processes) and checks what it said, then
lifts the fault, drains and checks the books (``conftest.check``): 0 duplicated, 0
missing, 0 stuck, reconcile clean. On top: no worker or beat exits because of the fault
(a worker that exits is restarted by the rig and counted in ``worker_exits``), and no
action ends dead (the gallery here fails nothing: a dead letter could only be the
fault's). The Postgres and beat scenarios run on Redis and on RabbitMQ as the broker
(a rabbitmq-server of the test's own: its node, port and epmd port, never the machine's).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import redis

from tests.chaos.conftest import RUN_SECONDS, Rig, Servers, _now, logs_of
from tests.e2e.conftest import REDIS_URL, wait_for
from tests.servers import Blackhole

# A scenario lasts one to three minutes on two busy cores; the suite's 300 s is too short.
pytestmark = [pytest.mark.slow, pytest.mark.faults, pytest.mark.timeout(900)]

OUTAGE_SECONDS = 3.0
# A deadline, not a pause: work in flight shows within a second or two on a quiet machine,
# and on two cores shared with a loaded suite a few times that.
IN_FLIGHT_SECONDS = 60

BROKERS = [
    pytest.param("redis", id="redis"),
    pytest.param("rabbitmq", id="rabbitmq", marks=pytest.mark.private_rabbitmq),
]


def says_redis_is_gone(status: dict[str, Any]) -> bool:
    """``fleet status`` said Redis was out of reach (in its report, or as its error)."""
    return any(
        words in status["output"] for words in ("redis unreachable", "Redis error", "broker error")
    )


def no_fault_casualty(books: dict[str, Any]) -> None:
    """No worker exited, and no action is dead: nothing here fails an action but the fault."""
    assert "worker_exits" not in books["evidence"], books["evidence"]
    assert books["dead"] == 0, books["dead_errors"]


@pytest.mark.private_redis
def test_redis_restarted_with_everything_it_held_lost_leaves_the_books_balanced(
    rig: Rig, servers: Servers
) -> None:
    """Redis stops (``shutdown nosave``), stays down 3 s, and comes back empty: queued and
    unacknowledged messages, limits and breakers are gone. Recovery comes from Postgres:
    the dispatcher re-derives ticks from ``agents.next_tick_at`` and the lease sweeper
    re-sends pending activities. The Redis is the test's own (a free port, a temporary
    directory), never the machine's. The worker lives through it: kombu 5.7's own Redis
    transport let it die at the reconnect (``AttributeError: 'NoneType' object has no
    attribute 'hostname'`` from ``Channel.close`` -> ``restore_unacked``), Fleet's
    (``fleet.infra.broker``) does not. The rig would restart a worker that exits, as the
    stack's ``restart: unless-stopped`` does, and the books' evidence would say so
    (``worker_exits``): none may."""
    server = servers.redis
    assert server is not None
    began = _now()
    rig.start()
    rig.until(7)
    # The fleet works before the fault (a deadline, on a busy machine).
    rig.wait(lambda: rig.succeeded_since(began) > 0, IN_FLIGHT_SECONDS, "an action before it")
    sentinel = f"{rig.prefix}chaos:sentinel"
    client = redis.Redis.from_url(server.url)
    held = len(list(client.scan_iter(match=f"{rig.prefix}*", count=1000)))
    client.set(sentinel, "kept?")
    client.close()
    rig.fault()
    stopped = time.monotonic()
    server.stop()
    wait_for(lambda: not server.up(), 30, "Redis to stop")
    during = rig.status()
    rig.until(time.monotonic() - rig.started + OUTAGE_SECONDS)  # the fleet keeps trying
    server.start()
    back = _now()
    rig.evidence["status_during"] = during
    client = redis.Redis.from_url(server.url)
    rig.evidence["keys_before"] = held
    rig.evidence["sentinel_after_restart"] = client.get(sentinel)
    client.close()
    rig.evidence["redis_down_seconds"] = round(time.monotonic() - stopped, 1)
    rig.until(RUN_SECONDS)
    # Resumed: actions decided after the restart succeed while beat still runs.
    rig.wait(lambda: rig.succeeded_since(back) > 0, IN_FLIGHT_SECONDS, "an action after it")
    rig.evidence["worker_log_broker_losses"] = logs_of(rig.processes, "worker").count(
        "Connection to broker lost"
    )
    assert held > 0 and rig.evidence["sentinel_after_restart"] is None, "Redis lost what it held"
    assert _machine_redis_answers(), "the machine's Redis was left alone"
    books = rig.record("redis_restart")
    no_fault_casualty(books)
    assert says_redis_is_gone(during), during


@pytest.mark.private_redis
def test_redis_sigkilled_twice_and_restarted_empty_stops_no_worker_nor_beat(
    rig: Rig, servers: Servers
) -> None:
    """Redis (the test's own) is SIGKILLed twice mid-run, as when its container dies, each
    time while the workers (compose's: content on threads, the rest prefork) are connected and holds unacknowledged messages, and comes back
    empty after a 3 s outage. Neither the worker nor beat may exit (measured from outside on
    kombu 5.7's own transport, the worker died at 5 of 6 kills: ``'NoneType' object has no
    attribute 'hostname'`` in ``Channel.close``; ``tests/infra/test_broker.py`` reproduces that
    close and fails without ``fleet.infra.broker``), and the fleet resumes: actions decided
    after the second restart succeed before the drain, and the books balance."""
    server = servers.redis
    assert server is not None
    rig.start_as_compose()
    rig.until(5)
    rig.fault()

    def connected() -> int:
        return logs_of(rig.processes, "worker").count('"event": "Connected to ')

    def held() -> int:
        # Messages the worker took and has not acknowledged (kombu's unacked index).
        client = redis.Redis.from_url(server.url, socket_connect_timeout=0.5)
        try:
            return int(client.hlen(f"{rig.prefix}unacked"))
        except redis.ConnectionError:
            return 0
        finally:
            client.close()

    def ready(kill: int) -> Callable[[], bool]:
        # The kill strikes a worker connected to Redis (not one still waiting to reconnect)
        # and holding messages it has not acknowledged: the close that failed needs both.
        return lambda: connected() >= kill and held() > 0

    unacked: list[int] = []
    for kill in (1, 2):
        rig.wait(ready(kill), IN_FLIGHT_SECONDS, f"the worker connected and holding ({kill})")
        unacked.append(held())
        server.kill()
        killed = time.monotonic()
        if kill == 1:
            rig.evidence["status_during"] = rig.status()
        rig.until(killed - rig.started + OUTAGE_SECONDS)
        server.start()
    back = _now()
    rig.wait(lambda: connected() >= 3, IN_FLIGHT_SECONDS, "the worker connected again")
    # Resumed: actions decided after the second restart succeed while beat still runs.
    rig.wait(lambda: rig.succeeded_since(back) > 0, IN_FLIGHT_SECONDS, "an action after it")
    rig.evidence["succeeded_after_second_restart"] = rig.succeeded_since(back)
    rig.evidence["unacked_at_kills"] = unacked
    rig.evidence["worker_log_broker_losses"] = logs_of(rig.processes, "worker").count(
        "Connection to broker lost"
    )
    assert rig.beat is not None
    rig.evidence["beat_exit_code"] = rig.beat.poll()
    assert _machine_redis_answers(), "the machine's Redis was left alone"
    books = rig.record("redis_sigkill_twice")
    no_fault_casualty(books)
    during = books["evidence"]["status_during"]
    assert says_redis_is_gone(during), during
    assert books["evidence"]["worker_log_broker_losses"] == 2, books["evidence"]
    assert books["evidence"]["beat_exit_code"] is None, "beat exited at a Redis kill"


@pytest.mark.private_redis
def test_a_host_cut_off_from_redis_without_a_reset_resumes_once_healed(
    rig: Rig, servers: Servers
) -> None:
    """The workers (compose's: content on threads, the rest prefork) and beat reach Redis
    (the test's own) through a link that goes silent
    for 20 s (``Blackhole``: no reset, no refusal, every byte dropped; connections made
    before or during the cut stay dead), then heals. Redis keeps what it held. Neither
    process may exit, and actions decided after the heal succeed before the drain."""
    server = servers.redis
    assert server is not None
    link = Blackhole(server.port)
    try:
        rig.processes.env["FLEET_BROKER_URL"] = link.url()
        rig.processes.env["FLEET_REDIS_URL"] = link.url()
        rig.start_as_compose()
        rig.until(6)
        rig.fault()
        link.cut()
        # An operator's status reaches Redis directly (another host): the workers behind
        # the cut link answer no ping.
        direct = {"FLEET_BROKER_URL": server.url, "FLEET_REDIS_URL": server.url}
        rig.wait(
            lambda: rig.fault_at is not None and (_now() - rig.fault_at).total_seconds() > 3,
            30,
            "the cut to last",
        )
        rig.evidence["status_during"] = rig.status(direct)
        rig.until(6 + 20)
        link.heal()
        healed = _now()
        rig.wait(
            lambda: rig.succeeded_since(healed) > 0, 2 * IN_FLIGHT_SECONDS, "an action after it"
        )
        rig.evidence["succeeded_after_heal"] = rig.succeeded_since(healed)
        rig.evidence["seconds_to_first_success_after_heal"] = round(
            (_now() - healed).total_seconds(), 1
        )
        assert rig.beat is not None
        rig.evidence["beat_exit_code"] = rig.beat.poll()
        books = rig.record("redis_link_cut")
    finally:
        link.close()
    no_fault_casualty(books)
    during = books["evidence"]["status_during"]
    assert "workers: none answering" in during["output"], during
    assert books["evidence"]["beat_exit_code"] is None, books["evidence"]


@pytest.mark.parametrize("broker", BROKERS)
def test_two_beats_at_once_then_one_killed_leave_no_duplicate_and_no_gap(
    rig: Rig, broker: str
) -> None:
    """A failover that overlaps: a second beat (its own schedule file, as on another host)
    runs beside the first from the start, so every dispatch and sweep is sent twice; at
    second 9 the first is SIGKILLed and the second carries on alone. The dispatcher's
    claims (``FOR UPDATE SKIP LOCKED``, the clock advanced in the same transaction) give
    each tick to one of them: the books must show no duplicate key, no duplicate effect on
    the gallery and no agent left without a next tick. ``fleet status`` names both beats
    while both publish (its beats line, from their heartbeats in Redis), then the survivor
    alone."""
    rig.start()
    first = rig.beat
    assert first is not None
    second = rig.processes.start(
        "beat-2",
        "beat",
        "--schedule",
        str(rig.processes.logs / "beat-2-schedule"),
        "--loglevel",
        "INFO",
    )
    # Each beat's scheduler touches ``<schedule>.pulse`` when the broker took a message.
    pulses = {name: rig.processes.logs / f"{name}-schedule.pulse" for name in ("beat", "beat-2")}

    def pulse(name: str) -> float:
        path = pulses[name]
        return path.stat().st_mtime if path.exists() else 0.0

    wait_for(
        lambda: pulse("beat") > 0 and pulse("beat-2") > 0,
        IN_FLIGHT_SECONDS,
        "both beats to publish",
    )
    rig.fault()
    statuses: list[dict[str, Any]] = []

    def says(words: str) -> Callable[[], bool]:
        def said() -> bool:
            statuses.append(rig.status())
            return words in statuses[-1]["output"]

        return said

    rig.wait(says("beats publishing: 2 at once"), IN_FLIGHT_SECONDS, "status to name two beats")
    rig.evidence["status_two_beats"] = statuses[-1]
    rig.until(9)
    rig.processes.kill(first)
    rig.beat = second  # the drain stops the survivor
    killed_at = time.time()
    back = _now()
    rig.until(RUN_SECONDS)
    rig.wait(lambda: rig.succeeded_since(back) > 0, IN_FLIGHT_SECONDS, "an action after the kill")
    rig.wait(lambda: pulse("beat-2") > killed_at, IN_FLIGHT_SECONDS, "the survivor to publish")
    # The killed beat's heartbeat expires (15 s): status names the survivor alone.
    rig.wait(says("beats publishing: 1 ("), IN_FLIGHT_SECONDS, "status to name one beat")
    rig.evidence["status_after_kill"] = statuses[-1]
    rig.evidence["first_beat_exit_code"] = first.returncode
    rig.evidence["survivor_published_after_kill"] = pulse("beat-2") > killed_at
    rig.evidence["survivor_exit_code"] = second.poll()
    books = rig.record(f"two_beats_{broker}")
    assert books["evidence"]["survivor_exit_code"] is None, books["evidence"]
    no_fault_casualty(books)
    assert f":{second.pid}" in books["evidence"]["status_after_kill"]["output"]


@pytest.mark.private_postgres
@pytest.mark.parametrize("broker", BROKERS)
@pytest.mark.parametrize("how", ["fast_shutdown", "sigkill"])
def test_postgres_restarted_or_killed_mid_run_leaves_the_books_balanced(
    rig: Rig, servers: Servers, broker: str, how: str
) -> None:
    """Postgres (the test's own cluster, never the machine's) goes away mid-run, with a
    fast shutdown (connections cut, a checkpoint) or SIGKILLed with every server process
    (as when its host dies: the restart recovers from the WAL), stays down at least 3 s
    and comes back. ``fleet status`` asked meanwhile says the database is out of reach."""
    server = servers.postgres
    assert server is not None
    rig.start()
    rig.until(7)
    wait_for(lambda: rig.pending() >= 1, IN_FLIGHT_SECONDS, "actions in flight")
    rig.fault()
    stopped = time.monotonic()
    if how == "sigkill":
        server.kill()
    else:
        server.stop()
    during = rig.status()
    rig.until(stopped - rig.started + OUTAGE_SECONDS)  # the fleet keeps trying meanwhile
    server.start()
    rig.evidence["postgres_down_seconds"] = round(time.monotonic() - stopped, 1)
    rig.evidence["status_during"] = during
    back = _now()
    rig.until(max(RUN_SECONDS, time.monotonic() - rig.started + 5))
    rig.wait(lambda: rig.succeeded_since(back) > 0, IN_FLIGHT_SECONDS, "an action after it")
    log = logs_of(rig.processes, "worker")
    rig.evidence["worker_log_database_errors"] = log.count("OperationalError")
    assert rig.beat is not None
    rig.evidence["beat_exit_code"] = rig.beat.poll()
    books = rig.record(f"postgres_{how}_{broker}")
    no_fault_casualty(books)
    assert books["evidence"]["beat_exit_code"] is None, "beat exited"
    assert during["exit_code"] == 1 and "database error" in during["output"], during


def _machine_redis_answers() -> bool:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5)
    try:
        return bool(client.ping())
    finally:
        client.close()
