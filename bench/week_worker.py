"""The Celery app of ``bench.week``'s workers and beat: ``fleet.worker``'s, unchanged, with
the Fleet each process builds reading the bench's sped-up clock (``bench.week_clock``)
instead of the system's. Nothing else differs from production.

    celery -A bench.week_worker worker ...   (bench.week starts them)
"""

from __future__ import annotations

from typing import Any

import fleet.service.root as _root
from bench.week_clock import ScaledClock

# ``bootstrap`` builds ``SystemClock()`` when given no clock: the worker's Fleet is built
# that way (fleet.worker.tasks), so this is where the sped-up clock goes in.
_clock = ScaledClock.from_env()


def _scaled() -> Any:
    return _clock


_root.SystemClock = _scaled  # type: ignore[attr-defined,assignment]

from fleet.worker.app import app  # noqa: E402

__all__ = ["app"]
