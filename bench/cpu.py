"""CPU seconds spent by the processes of a benchmark, read from ``/proc`` (Linux).

A rate alone does not say where the time went; the CPU each party used during a phase
(the worker, the benchmark process with its in-process sandbox, Postgres, Redis) does.
"""

from __future__ import annotations

import os
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> tuple[str, int, float] | None:
    """(command name, parent pid, user+system CPU seconds) of one process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    return name, int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK


def _own_database(pid: int, database: str) -> bool:
    """Whether a Postgres process is a backend serving ``database`` (its title names it)."""
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
    return f" {database} " in title


def snapshot(parties: dict[str, int], database: str | None = None) -> dict[str, float]:
    """CPU seconds so far of each named party, plus Postgres and Redis.

    With ``database``, ``postgres`` counts only the backends serving that database (on a
    machine shared with other tests, the others' queries are not the benchmark's), and
    ``postgres_all`` every Postgres process.

    A party is a pid and its descendants, except those of another party (the benchmark
    process is the parent of the worker it measures). Ended descendants are not counted:
    take snapshots while the processes live.
    """
    stats: dict[int, tuple[str, int, float]] = {}
    if not Path("/proc").is_dir():
        return {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            stats[int(entry.name)] = stat

    others = set(parties.values())

    def family(root: int) -> set[int]:
        members = {root}
        grew = True
        while grew:
            grew = False
            for pid, (_, parent, _) in stats.items():
                if parent in members and pid not in members and pid not in others:
                    members.add(pid)
                    grew = True
        return members

    out = {
        name: sum(stats[p][2] for p in family(pid) if p in stats) for name, pid in parties.items()
    }
    postgres = {pid: cpu for pid, (name, _, cpu) in stats.items() if name.startswith("postgres")}
    if database is None:
        out["postgres"] = sum(postgres.values())
    else:
        out["postgres"] = sum(c for p, c in postgres.items() if _own_database(p, database))
        out["postgres_all"] = sum(postgres.values())
    out["redis"] = sum(cpu for name, _, cpu in stats.values() if name.startswith("redis-server"))
    return out


def per_item_ms(before: dict[str, float], after: dict[str, float], items: int) -> dict[str, float]:
    """Milliseconds of CPU per item spent by each party between two snapshots."""
    return {name: round((after[name] - before.get(name, 0.0)) * 1000 / items, 2) for name in after}


def machine() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, every core summed
    (``/proc/stat``): over a phase, busy / total is how loaded the cores were, whoever
    loaded them."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0, 0.0
    ticks = [int(v) for v in fields[:8]]  # user nice system idle iowait irq softirq steal
    idle = ticks[3] + ticks[4]
    return (sum(ticks) - idle) / _TICK, sum(ticks) / _TICK
