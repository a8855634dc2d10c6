"""The sped-up clock ``bench.week`` runs the production stack on.

Every process of the run (the bench, its workers, beat) reads the same wall clock, so one
formula gives them one simulated time: ``start + (wall - t0) x speed`` (``start`` before
``t0``). The bench hands it to its worker processes in ``BENCH_WEEK_CLOCK``.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

VARIABLE = "BENCH_WEEK_CLOCK"


class ScaledClock:
    """Simulated time running ``speed`` times as fast as the wall clock from ``t0``."""

    def __init__(self, start: datetime, speed: float, t0: float | None = None) -> None:
        if start.tzinfo is None:
            raise ValueError("a scaled clock starts at an aware datetime")
        if speed <= 0:
            raise ValueError(f"a scaled clock's speed must be positive, not {speed}")
        self.start = start.astimezone(UTC)
        self.speed = speed
        self.t0 = t0  # None: not started, time stands at ``start``

    def now(self) -> datetime:
        if self.t0 is None:
            return self.start
        elapsed = max(0.0, time.time() - self.t0) * self.speed
        return self.start + timedelta(seconds=elapsed)

    def wall_at(self, when: datetime) -> float:
        """The wall-clock second at which simulated time reaches ``when``."""
        assert self.t0 is not None
        return self.t0 + (when - self.start).total_seconds() / self.speed

    def encode(self) -> str:
        assert self.t0 is not None
        return f"{self.start.isoformat()},{self.speed!r},{self.t0!r}"

    @classmethod
    def from_env(cls) -> ScaledClock:
        text = os.environ.get(VARIABLE)
        if not text:
            raise RuntimeError(f"{VARIABLE} is not set: run the workers through bench.week")
        start, speed, t0 = text.split(",")
        return cls(datetime.fromisoformat(start), float(speed), float(t0))
