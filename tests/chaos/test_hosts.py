"""A worker host cut off from Redis and Postgres for 60 s, then healed (issue 52).

Two worker hosts, each a network namespace of the test's own (``tests.netns``), reach the
test's own Redis, Postgres and sandbox at the servers' address only; beat and the
operator's ``fleet status`` run on this host. Mid-run host 1's link goes down: no packet
crosses (no reset, no refusal; its connections wait in TCP's retransmissions, a new one
finds no route after a few seconds) for 60 s, then it comes back up. Host 2 carries the
fleet meanwhile: the lease sweeper re-sends host 1's claimed actions after their lease,
and Redis hands back what host 1 took after its visibility timeout. ``fleet status``
during the cut names host 2's worker and not host 1's. After the heal host 1's worker is
the same process (it did not exit), answers pings and runs actions again; the books
balance (``conftest.check``) with no action dead.

Skipped, with the reason, where the test may not make namespaces (not root, no veth).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from fleet_sandbox.config import SandboxConfig
from fleet_sandbox.server import BackgroundSandbox
from tests.chaos.conftest import TOKEN, Rig, _now, _tolerant, logs_of
from tests.netns import Hosts, NoNamespaces

pytestmark = [
    pytest.mark.slow,
    pytest.mark.faults,
    pytest.mark.netns,
    pytest.mark.private_redis,
    pytest.mark.private_postgres,
    pytest.mark.timeout(1200),
]

CUT_SECONDS = 60
DEADLINE = 180


@pytest.fixture(scope="module")
def hosts() -> Iterator[Hosts]:
    try:
        with Hosts(2) as made:
            yield made
    except NoNamespaces as reason:
        pytest.skip(f"no network namespaces of the test's own: {reason}")


@pytest.fixture(scope="module")
def sandbox_server(hosts: Hosts) -> Iterator[BackgroundSandbox]:
    """The sandbox on the servers' address, where both hosts reach it."""
    config = SandboxConfig(service_token=SecretStr(TOKEN), seed=13)
    with BackgroundSandbox(config, host=hosts.server) as server:
        yield server


def test_a_worker_host_cut_off_for_a_minute_resumes_once_healed(rig: Rig, hosts: Hosts) -> None:
    rig.admin.faults(latencyMs=150)  # calls take a while: the cut finds actions in flight
    first = rig.start_worker("host1", wrap=hosts.wrap(1))
    rig.start_worker("host2", wrap=hosts.wrap(2))
    rig.start_agents_and_beat()
    rig.until(6)
    rig.wait(lambda: rig.pending() >= 3, 60, "actions in flight to cut off")
    one, two = rig.node_name("host1"), rig.node_name("host2")
    rig.fault()
    hosts.cut(1)
    print(f"cut host 1 at second {time.monotonic() - rig.started:.0f}", flush=True)
    cut_at = time.monotonic()
    statuses: list[dict[str, Any]] = []

    def status_names_host2_alone() -> bool:
        statuses.append(rig.status())
        output = statuses[-1]["output"]
        return f"workers: {two}" in output and one not in output

    rig.wait(status_names_host2_alone, CUT_SECONDS - 5, "status to name host 2 alone")
    rig.evidence["status_during"] = statuses[-1]
    rig.until(cut_at - rig.started + CUT_SECONDS)
    hosts.heal(1)
    print(f"healed host 1 at second {time.monotonic() - rig.started:.0f}", flush=True)
    rig.evidence["cut_seconds"] = round(time.monotonic() - cut_at, 1)
    healed, mark = _now(), len(logs_of(rig.processes, "host1"))
    rig.wait(
        lambda: _tolerant(lambda: bool(rig.app.control.ping(destination=[one], timeout=1.0))),
        DEADLINE,
        "host 1's worker to answer again",
    )
    rig.wait(
        lambda: "succeeded in" in logs_of(rig.processes, "host1")[mark:],
        DEADLINE,
        "host 1's worker to run a task again",
    )
    rig.evidence["seconds_to_host1_back"] = round((_now() - healed).total_seconds(), 1)
    print(f"host 1 back after {rig.evidence['seconds_to_host1_back']} s", flush=True)
    rig.wait(lambda: rig.succeeded_since(healed) > 0, DEADLINE, "an action after the heal")
    rig.evidence["host1_exit_code"] = first.poll()
    assert rig.beat is not None
    rig.evidence["beat_exit_code"] = rig.beat.poll()
    log = logs_of(rig.processes, "host1")
    rig.evidence["host1_broker_losses"] = log.count("Connection to broker lost")
    books = rig.record("host_cut_off")
    assert "worker_exits" not in books["evidence"], books["evidence"]
    assert books["evidence"]["host1_exit_code"] is None
    assert books["evidence"]["beat_exit_code"] is None
    assert books["dead"] == 0, books["dead_errors"]
