"""The sped-up clock ``bench.week`` runs the production stack on.

Every process of the run (the bench, its workers, beat) reads the same wall clock, so one
formula gives them one simulated time: ``start + (wall - t0) x speed`` (``start`` before
``t0``). The bench hands it to its worker processes in ``BENCH_WEEK_CLOCK``. It starts the
clock once its workers answer (``begin``: ``t0`` written to the clock's file, which every
process reads until it is there), so that a slow start takes no simulated time.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

VARIABLE = "BENCH_WEEK_CLOCK"


class ScaledClock:
    """Simulated time running ``speed`` times as fast as the wall clock from ``t0``."""

    def __init__(
        self,
        start: datetime,
        speed: float,
        t0: float | None = None,
        started_by: Path | None = None,
    ) -> None:
        if start.tzinfo is None:
            raise ValueError("a scaled clock starts at an aware datetime")
        if speed <= 0:
            raise ValueError(f"a scaled clock's speed must be positive, not {speed}")
        self.start = start.astimezone(UTC)
        self.speed = speed
        self.t0 = t0  # None: not started, time stands at ``start``
        self.started_by = started_by  # the file ``begin`` writes ``t0`` to

    def now(self) -> datetime:
        if self.t0 is None and self.started_by is not None:
            self.t0 = _t0_in(self.started_by)
        if self.t0 is None:
            return self.start
        elapsed = max(0.0, time.time() - self.t0) * self.speed
        return self.start + timedelta(seconds=elapsed)

    def begin(self, t0: float) -> None:
        """Start the clock at wall second ``t0``, for every process that reads its file."""
        if self.started_by is not None:
            written = self.started_by.with_suffix(".tmp")
            written.write_text(repr(t0))
            written.replace(self.started_by)  # whole or not there: never half a number
        self.t0 = t0

    def wall_at(self, when: datetime) -> float:
        """The wall-clock second at which simulated time reaches ``when``."""
        assert self.t0 is not None
        return self.t0 + (when - self.start).total_seconds() / self.speed

    def encode(self) -> str:
        t0 = "" if self.t0 is None else repr(self.t0)
        started_by = "" if self.started_by is None else str(self.started_by)
        return f"{self.start.isoformat()},{self.speed!r},{t0},{started_by}"

    @classmethod
    def from_env(cls) -> ScaledClock:
        text = os.environ.get(VARIABLE)
        if not text:
            raise RuntimeError(f"{VARIABLE} is not set: run the workers through bench.week")
        start, speed, t0, started_by = text.split(",", 3)
        return cls(
            datetime.fromisoformat(start),
            float(speed),
            float(t0) if t0 else None,
            Path(started_by) if started_by else None,
        )


def _t0_in(path: Path) -> float | None:
    """The wall second the clock started at, once ``begin`` wrote it."""
    try:
        return float(path.read_text())
    except FileNotFoundError:
        return None
