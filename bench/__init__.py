"""Benchmarks: each prints its figures as JSON (see each module's docstring)."""

from __future__ import annotations

import os
import uuid


def scratch_database() -> str:
    """The name of a benchmark's own database, dropped at its end.

    ``fleet_bench_``, then ``FLEET_BENCH_TAG`` if set (the suite's smoke test sets it, so
    it tells its own databases from those of a benchmark someone runs beside it), then a
    random part."""
    return f"fleet_bench_{os.environ.get('FLEET_BENCH_TAG', '')}{uuid.uuid4().hex[:8]}"
