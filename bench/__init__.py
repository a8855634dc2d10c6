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


def forget_keys(url: str, prefix: str) -> None:
    """Delete every Redis key a benchmark wrote under its own ``prefix`` (queues, the
    fleet's counters, the writer's daily spend): a run leaves nothing behind."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        stale = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if stale:
            client.delete(*stale)
    finally:
        client.close()
