"""Where a capacity burst's CPU went (``bench.capacity_live.burst_cpu``) and the machine's
busy time (``bench.cpu.machine``)."""

from __future__ import annotations

import os
from typing import Any

from bench import cpu
from bench.capacity_live import burst_cpu


def _burst(**spent: float) -> dict[str, Any]:
    return {"actions": 100, "cpu_s_by_party": spent}


def test_the_measuring_process_is_no_part_of_an_actions_cost() -> None:
    cores = os.cpu_count() or 1
    figures = burst_cpu(
        _burst(**{"worker 0": 4.0, "sandbox": 0.5, "bench": 9.0, "postgres": 0.5}),
        busy=12.0 * cores,  # 12 cores' worth of busy seconds over a 10 s window
        total=10.0 * cores,
    )
    assert figures["worker_cpu_ms_per_action"] == 40.0
    assert figures["rest_cpu_ms_per_action"] == 10.0  # sandbox and Postgres, not bench
    assert figures["cpu_ms_per_action"] == 50.0
    assert figures["fleet_cores_busy"] == 0.5
    assert figures["machine_busy_share"] == 1.2
    # What neither the run nor the measuring took: 120 - 5 - 9 busy seconds over 10 s.
    assert figures["others_cores_busy"] == round((12.0 * cores - 14.0) / 10.0, 2)


def test_postgres_all_is_not_counted_twice() -> None:
    figures = burst_cpu(
        _burst(**{"worker 0": 1.0, "postgres": 1.0, "postgres_all": 5.0}), busy=1.0, total=10.0
    )
    assert figures["cpu_ms_per_action"] == 20.0
    assert "postgres_all" not in figures["cpu_s_by_party"]


def test_a_machine_without_proc_stat_gives_no_share() -> None:
    assert burst_cpu(_burst(**{"worker 0": 1.0}), busy=0.0, total=0.0)["machine_busy_share"] is None


def test_the_machine_is_busy_no_more_than_it_runs() -> None:
    busy, total = cpu.machine()
    assert 0.0 <= busy <= total
