"""Small helpers of ``bench.pipeline``: waiting, percentiles, process memory, ports."""

from __future__ import annotations

import math
import re
import socket
import statistics
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"bench: timed out waiting for {what}")
        time.sleep(0.2)  # the figures come from the rows: polling less leaves the CPU to them


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def _rss_kib(pid: int) -> int:
    """VmRSS of one process, in KiB (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _memory_kib(pid: int) -> dict[str, int]:
    """RSS, PSS and USS of one process, in KiB (``/proc/<pid>/smaps_rollup``; zeros if it is
    gone). RSS counts every page the process maps, so pages a prefork pool's children share
    with their parent (copy-on-write) count once per child; PSS divides each shared page
    among its sharers (the sum over processes is the memory they really take); USS is the
    process's private pages only (what ending it would free)."""
    fields = {"Rss:": 0, "Pss:": 0, "Private_Clean:": 0, "Private_Dirty:": 0}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            name, *rest = line.split()
            if name in fields and rest:
                fields[name] = int(rest[0])
    except OSError:
        pass
    return {
        "rss": fields["Rss:"],
        "pss": fields["Pss:"],
        "uss": fields["Private_Clean:"] + fields["Private_Dirty:"],
    }


def _children(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(child) for child in found]


def _by_kind(rows: Any, wait: Callable[[Any], timedelta]) -> dict[str, dict[str, float]]:
    """p50 and p99 of ``wait`` (seconds) over the rows of each kind."""
    out = {}
    for kind in sorted({row.action for row in rows}):
        waits = [wait(row).total_seconds() for row in rows if row.action == kind]
        out[kind] = {
            "p50_s": round(statistics.median(waits), 3),
            "p99_s": round(_percentile(waits, 0.99), 3),
        }
    return out


def _skip_reasons(rows: Any) -> dict[str, int]:
    """The skipped rows (``action``, ``status``, ``error``: the reason) by kind and reason,
    most first: the reason's first clause, its numbers and quoted words made alike
    (``like: nothing to like``, ``post: degraded``)."""
    reasons = Counter(
        f"{row.action}: {_reason_head(row.error or '')}" for row in rows if row.status == "skipped"
    )
    return dict(reasons.most_common())


def _reason_head(reason: str) -> str:
    quoted = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", reason)
    return re.sub(r"\d+(\.\d+)?", "N", quoted).split(":")[0][:60]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
