"""bench.week's sped-up clock: it stands at its start until the bench begins it, in every
process that reads its file, and runs ``speed`` times as fast from then on."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench.week_clock import VARIABLE, ScaledClock

START = datetime(2026, 3, 2, tzinfo=UTC)


def test_a_worker_s_clock_stands_at_the_start_until_the_bench_begins_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bench = ScaledClock(START, 600.0, started_by=tmp_path / "clock-t0")
    monkeypatch.setenv(VARIABLE, bench.encode())
    worker = ScaledClock.from_env()  # as a worker process reads it, before the start

    assert worker.now() == START
    bench.begin(time.time() - 10)  # ten wall seconds ago

    assert worker.now() - START >= timedelta(seconds=6000)
    assert abs((worker.now() - bench.now()).total_seconds()) < 600  # within a wall second


def test_a_clock_started_before_the_workers_passes_its_start_to_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(VARIABLE, ScaledClock(START, 2.0, t0=time.time() - 5).encode())

    assert ScaledClock.from_env().now() >= START + timedelta(seconds=10)
