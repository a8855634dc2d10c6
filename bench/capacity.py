"""Benchmark: how many worker cores a fleet of N agents needs, from two measurements.

Supply: ``bench.actions`` (a real Celery worker, the offline writer, the sandbox gallery in
a process of its own, the local Postgres and Redis) is run ``--runs`` times; each run gives
the CPU milliseconds one action of each kind costs the worker, and Postgres and Redis
beside it (read from ``/proc``, so that a machine loaded by others slows the run but
hardly changes the figure; the gallery's own CPU is left out: in production it is not
ours). Likes and browses are measured as the ticks send them, in batch messages; posts
and comments one message each; a reply is counted at a comment's cost (not measured).

Demand: the bundled personas' agents (``--agents-per-persona`` of each, the same seeds as
``bench.realism``) over ``--days`` days from ``--start``, through the same rhythm,
sessions and daily quotas the dispatcher uses (``fleet.core.timeline.expected_actions``):
actions per agent-day by kind, and the fleet's busiest UTC hour (a mix of equal numbers
of each persona).

Sizing: at the busiest hour, one agent keeps ``sum(actions/s x CPU s per action)`` cores
busy; that for N agents, over ``--utilisation`` (the share of a core a worker may use and
still keep queues short), is the cores to provision. Printed per queue (``engage``,
``content``), for the worker alone and with Postgres and Redis, lowest and highest over
the runs.

    python -m bench.capacity [--runs 2] [--count 60] [--fleets 100,1000,10000,100000]
        [--agents-per-persona 20] [--days 7] [--utilisation 0.7]
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.realism import DEFAULT_START, agent_seed
from fleet.core.kinds import KINDS, Action
from fleet.core.timeline import Rhythm, expected_actions
from fleet.infra.persona_files import BUNDLED_DIR, PersonaCatalogue

ROOT = Path(__file__).resolve().parents[1]
# The measurement each kind is costed by: batch messages where the ticks send batches.
MEASURED_AS = {
    "post": "post",
    "comment": "comment",
    "reply": "comment",
    "like": "like_batch",
    "browse": "browse_batch",
}
PARTIES = ("worker", "postgres", "redis")


def measure_supply(args: argparse.Namespace) -> list[dict[str, dict[str, float]]]:
    """Per run, per kind: CPU ms per action of the worker and of Postgres and Redis."""
    runs = []
    for run in range(args.runs):
        print(f"capacity: bench.actions run {run + 1}/{args.runs}", file=sys.stderr, flush=True)
        command = [
            *(sys.executable, "-m", "bench.actions", "--count", str(args.count)),
            *("--warmup", str(args.warmup), "--kinds", "post,comment,like,browse"),
            *("--noop-runs", "1", "--noops", str(args.noops), "--burst", "0"),
            *args.actions_args,
        ]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"capacity: bench.actions failed:\n{done.stderr[-2000:]}")
        measured = json.loads(done.stdout)
        cpu = measured["cpu_ms_per_task"]
        runs.append(
            {
                kind: {party: float(cpu[key][party]) for party in PARTIES}
                for kind, key in MEASURED_AS.items()
                if key in cpu
            }
        )
    return runs


def measure_demand(args: argparse.Namespace) -> dict[str, Any]:
    """Per agent: actions per day by kind, and the busiest hour's actions by kind."""
    catalogue = PersonaCatalogue.from_directory(args.personas_dir)
    start = datetime.fromisoformat(args.start).timestamp()
    end = start + args.days * 86_400
    hours: list[dict[str, float]] = [defaultdict(float) for _ in range(math.ceil(args.days * 24))]
    personas = list(catalogue)
    for persona in personas:
        clock = catalogue.clock(persona.slug)
        rhythms = [
            Rhythm.of(persona, clock, agent_seed(persona.slug, index))
            for index in range(args.agents_per_persona)
        ]
        for hour, kinds in enumerate(expected_actions(persona, rhythms, start, end)):
            for kind, count in kinds.items():
                hours[hour][kind] += count / len(personas)
    per_day: dict[str, float] = defaultdict(float)
    for kinds in hours:
        for kind, count in kinds.items():
            per_day[kind] += count
    return {
        "personas": [p.slug for p in personas],
        "per_agent_day": {kind: count / args.days for kind, count in per_day.items()},
        "hours": hours,
    }


def cores_per_agent(
    hours: list[dict[str, float]],
    cost: dict[str, dict[str, float]],
    queue: str,
    parties: tuple[str, ...],
) -> tuple[float, float, float]:
    """(busiest hour's cores per agent, the mean hour's, the busiest hour's actions/s per
    agent) for the kinds of ``queue``, counting the CPU of ``parties``."""

    def kinds(hour: dict[str, float]) -> dict[str, float]:
        return {k: n for k, n in hour.items() if KINDS[Action(k)].queue == queue and k in cost}

    def load(hour: dict[str, float]) -> float:
        return sum(
            n / 3600 * sum(cost[k][p] for p in parties) / 1000 for k, n in kinds(hour).items()
        )

    loads = [load(hour) for hour in hours]
    busiest = max(range(len(hours)), key=loads.__getitem__)
    return (
        max(loads),
        sum(loads) / len(loads),
        sum(kinds(hours[busiest]).values()) / 3600,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=2, help="bench.actions runs (the spread)")
    parser.add_argument("--count", type=int, default=60, help="actions per kind per run")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--noops", type=int, default=500)
    parser.add_argument("--fleets", default="100,1000,10000,100000", help="fleet sizes to size for")
    parser.add_argument("--agents-per-persona", type=int, default=20)
    parser.add_argument("--days", type=float, default=7.0)
    parser.add_argument("--start", default=DEFAULT_START)
    parser.add_argument("--personas-dir", type=Path, default=BUNDLED_DIR)
    parser.add_argument(
        "--utilisation", type=float, default=0.7, help="share of a core a worker may use"
    )
    parser.add_argument(
        "--actions-args", nargs=argparse.REMAINDER, default=[], help="passed to bench.actions"
    )
    args = parser.parse_args()
    if not 0 < args.utilisation <= 1:
        raise SystemExit(f"capacity: --utilisation must be in (0, 1], not {args.utilisation}")
    fleets = [int(n) for n in args.fleets.split(",") if n.strip()]
    began = time.perf_counter()
    demand = measure_demand(args)
    supply = measure_supply(args)
    queues: dict[str, Any] = {}
    for queue in ("engage", "content"):
        figures: list[dict[str, Any]] = []
        for cost in supply:
            worker = cores_per_agent(demand["hours"], cost, queue, ("worker",))
            stack = cores_per_agent(demand["hours"], cost, queue, PARTIES)
            kinds = [k for k in cost if KINDS[Action(k)].queue == queue]
            # One worker core's actions/s in the busiest hour's mix of this queue's kinds.
            per_core = worker[2] / worker[0] if worker[0] else 0.0
            figures.append(
                {
                    "worker_cpu_ms": {k: cost[k]["worker"] for k in kinds},
                    "actions_per_s_per_worker_core": per_core,
                    "peak_worker_cores_per_agent": worker[0],
                    "mean_worker_cores_per_agent": worker[1],
                    "peak_stack_cores_per_agent": stack[0],
                    "peak_actions_per_s_per_agent": worker[2],
                }
            )

        def spread(name: str, figures: list[dict[str, Any]] = figures) -> list[float]:
            values = [float(f[name]) for f in figures]
            return [min(values), max(values)]

        rates = spread("actions_per_s_per_worker_core")
        peaks = spread("peak_worker_cores_per_agent")
        stacks = spread("peak_stack_cores_per_agent")
        peak_rate = float(figures[0]["peak_actions_per_s_per_agent"])
        mean_cores = max(float(f["mean_worker_cores_per_agent"]) for f in figures)
        queues[queue] = {
            "worker_cpu_ms_per_action": [f["worker_cpu_ms"] for f in figures],
            "actions_per_s_per_worker_core": [round(v, 1) for v in rates],
            "agents_per_worker_core_at_peak": [
                round(args.utilisation / v) if v else None for v in reversed(peaks)
            ],
            "peak_actions_per_s_per_agent": round(peak_rate, 6),
            "sizing": {
                str(n): {
                    "peak_actions_per_s": round(n * peak_rate, 2),
                    "worker_cores": [math.ceil(n * v / args.utilisation * 10) / 10 for v in peaks],
                    "worker_postgres_redis_cores": [
                        math.ceil(n * v / args.utilisation * 10) / 10 for v in stacks
                    ],
                    "mean_hour_worker_cores": round(n * mean_cores, 3),
                }
                for n in fleets
            },
        }
    out = {
        "benchmark": "capacity",
        "runs": args.runs,
        "count_per_kind": args.count,
        "utilisation": args.utilisation,
        "personas": demand["personas"],
        "agents_per_persona": args.agents_per_persona,
        "days": args.days,
        "actions_per_agent_day": {k: round(v, 2) for k, v in demand["per_agent_day"].items()},
        "actions_per_agent_day_total": round(sum(demand["per_agent_day"].values()), 2),
        "queues": queues,
        "seconds": round(time.perf_counter() - began, 1),
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
