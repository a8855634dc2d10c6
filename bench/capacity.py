"""Benchmark: the largest fleet this machine keeps up with, and how many worker cores a
fleet of N agents needs.

Live (the default): the persona's rhythm gives the busiest hour's actions a second per
agent (demand, below); ``bench.capacity_live`` measures on the real stack (private Postgres
and Redis, the sandbox gallery, the offline writer, beat, real Celery workers) the actions
a second one and two worker processes carry, pinned one to a core, then one and two worker
hosts made as network namespaces (``bench.capacity_hosts``), each pinned to a core of its
own, and the queue latency p95 at a steady ``--steady-share`` of that rate. The largest
fleet that keeps up is the steady rate over one agent's busiest-hour rate when that p95 is
under ``--latency-target`` seconds; per worker core, over the configuration's cores; the
scale is two hosts' actions a second over one host's (target 1.7). Without permission to
make namespaces the host configurations are skipped with the reason. Each burst also says
where its CPU went (``burst_cpu``: per process, the machine's busy share, other work's
cores), and two ceilings bound the scale from it: with the cores other work left
(``scale_two_hosts_cpu_ceiling``), and with the machine's cores all the run's
(``scale_two_hosts_idle_ceiling``: the workers share them with the servers).

    python -m bench.capacity [--agents 300] [--window 60] [--concurrency 4]
                             [--configurations workers,hosts]

``--model`` instead sizes from CPU per action (below), as before.

Supply (``--model``): ``bench.actions`` (a real Celery worker, the offline writer, the sandbox gallery in
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

    python -m bench.capacity --model [--runs 2] [--count 60] [--fleets 100,1000,10000,100000]
        [--agents-per-persona 20] [--days 7] [--utilisation 0.7]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.realism import DEFAULT_START, agent_seed
from fleet.core.kinds import KINDS, Action
from fleet.core.rhythm import PersonaCadence
from fleet.core.timeline import expected_actions
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
            PersonaCadence.of(persona, clock).rhythm(agent_seed(persona.slug, index))
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


def live(args: argparse.Namespace) -> dict[str, Any]:
    """The live measurement (the module's docstring)."""
    from sqlalchemy import select

    from bench.capacity_hosts import Hosts, unavailable
    from bench.capacity_live import LiveBench, configuration
    from bench.pipeline_util import _wait
    from fleet.db.models import Agent

    began = time.perf_counter()
    demand = measure_demand(args)
    peak_per_agent = max(sum(hour.values()) for hour in demand["hours"]) / 3600
    mean_per_agent = sum(demand["per_agent_day"].values()) / 86_400
    args.batch_size, args.tick_batch_size, args.layout, args.pool = 50, 100, "queues", None
    args.content_nice, args.warm_up, args.workers = 0, True, 1
    bench = LiveBench(args)
    why_not = unavailable()
    runs: list[dict[str, Any]] = []
    loads = [round(os.getloadavg()[0], 2)]
    with bench.running():
        bench.seed()
        bench.register(2 * args.agents + args.steady_agents)
        with bench.fleet.sessions() as session:
            steady_ids = list(
                session.scalars(
                    select(Agent.id)
                    .order_by(Agent.id)
                    .offset(2 * args.agents)
                    .limit(args.steady_agents)
                )
            )
        bench.provision(steady_ids)
        ticks = bench.spawn(
            "ticks",
            *("-A", "fleet.worker", "worker", "-Q", "ticks,dead_letter", "-P", "solo"),
            *("-n", "capacity-ticks@%h", "--without-mingle", "--without-gossip"),
        )
        node = f"capacity-ticks@{os.uname().nodename}"
        _wait(lambda: bool(bench.app.control.ping(destination=[node], timeout=1.0)), 240, node)
        beat = bench.spawn(
            "beat", "-A", "fleet.worker", "beat", "--schedule", str(bench.logs / "beat-schedule")
        )
        bench.shared = {"ticks worker": ticks.pid, "beat": beat.pid}
        # Rounds interleave the configurations: the machine's load drifts between them, and
        # an action's CPU grows as the gallery fills (a burst leaves posts and comments the
        # next one reads): every other round runs two before one, lest two always come last.
        for round_ in range(args.rounds):
            counts = (1, 2) if round_ % 2 == 0 else (2, 1)
            for count in counts if "workers" in args.configurations else ():
                print(f"capacity: round {round_ + 1}, {count} worker(s)", file=sys.stderr)
                runs.append(configuration(bench, None, count, steady_ids) | {"round": round_})
                loads.append(runs[-1]["load_average_after"][0])
            if why_not is None and bench.address != "127.0.0.1" and "hosts" in args.configurations:
                for count in counts:
                    print(f"capacity: round {round_ + 1}, {count} host(s)", file=sys.stderr)
                    with Hosts(count) as hosts:
                        runs.append(
                            configuration(bench, hosts, count, steady_ids) | {"round": round_}
                        )
                    loads.append(runs[-1]["load_average_after"][0])
        bench.stop(beat)
        if why_not is None and bench.address == "127.0.0.1":
            why_not = "no interface could be made for the servers' address"
    for run in runs:
        steady = run["steady"]
        keeps_up = steady["latency_p95_s"] < args.latency_target
        agents = math.floor(steady["rate_per_s"] / peak_per_agent) if keeps_up else None
        run["keeps_up"] = keeps_up
        run["agents_kept_up_at_peak"] = agents
        run["agents_per_worker_core"] = None if agents is None else agents // run["workers"]
        run["peak_actions_per_s"] = run["burst"]["actions_per_second"]

    def ratio(namespaced: bool) -> list[float] | None:
        """Two's peak actions/s over one's, per round: [lowest, highest]."""
        ratios = []
        for round_ in range(args.rounds):
            pair = sorted(
                (r for r in runs if r["namespaced_hosts"] is namespaced and r["round"] == round_),
                key=lambda r: r["workers"],
            )
            if len(pair) == 2 and pair[0]["peak_actions_per_s"]:
                ratios.append(pair[1]["peak_actions_per_s"] / pair[0]["peak_actions_per_s"])
        return [round(min(ratios), 2), round(max(ratios), 2)] if ratios else None

    def ceiling() -> list[float] | None:
        """Per round, the most two hosts could carry over what one did, were the cores
        theirs: the machine's cores, less what other work took during the two-host burst,
        over the CPU one action cost the whole run (workers, beat and ticks, the sandbox,
        Postgres, Redis) in that burst, divided by one host's measured actions/s."""
        found = []
        for round_ in range(args.rounds):
            pair = sorted(
                (r for r in runs if r["namespaced_hosts"] and r["round"] == round_),
                key=lambda r: r["workers"],
            )
            if len(pair) != 2 or not pair[0]["peak_actions_per_s"]:
                continue
            two = pair[1]["burst_cpu"]
            free = (os.cpu_count() or 1) - (two["others_cores_busy"] or 0.0)
            found.append(free * 1000 / two["cpu_ms_per_action"] / pair[0]["peak_actions_per_s"])
        return [round(min(found), 2), round(max(found), 2)] if found else None

    def idle_ceiling() -> list[float] | None:
        """The most two hosts could carry over one on this machine's cores were nothing
        else running, from what one action cost in each namespaced run: W, its worker's
        CPU (on the host's pinned core), S, the rest of the run's (beat and the ticks'
        worker, the sandbox, Postgres, Redis: unpinned, on any core). One host carries at
        most min(1/W, cores/(W+S)) actions a second, two min(2/W, cores/(W+S)): on two
        cores the ratio is 2W/(W+S), under 1.7 once S is over 0.18 W."""
        cores = os.cpu_count() or 1
        found = []
        for run in runs:
            if not run["namespaced_hosts"]:
                continue
            w = run["burst_cpu"]["worker_cpu_ms_per_action"]
            rest = run["burst_cpu"]["rest_cpu_ms_per_action"]
            if w <= 0:
                continue
            one, two = min(1 / w, cores / (w + rest)), min(2 / w, cores / (w + rest))
            found.append(two / one)
        return [round(min(found), 2), round(max(found), 2)] if found else None

    return {
        "benchmark": "capacity",
        "mode": "live",
        "machine_cores": os.cpu_count(),
        "latency_target_s": args.latency_target,
        "peak_actions_per_s_per_agent": round(peak_per_agent, 6),
        "mean_actions_per_s_per_agent": round(mean_per_agent, 6),
        "actions_per_agent_day": {k: round(v, 2) for k, v in demand["per_agent_day"].items()},
        "burst_agents": args.agents,
        "steady_share": args.steady_share,
        "concurrency": args.concurrency,
        "runs": runs,
        "scale_two_workers_over_one": ratio(False),
        "scale_two_hosts_over_one": ratio(True),
        "scale_target": 1.7,
        "scale_two_hosts_cpu_ceiling": ceiling(),
        "scale_two_hosts_idle_ceiling": idle_ceiling(),
        "namespaces": "made" if why_not is None else f"skipped: {why_not}",
        "load_average_1min": {"min": min(loads), "max": max(loads)},
        "seconds": round(time.perf_counter() - began, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--model", action="store_true", help="size from CPU per action")
    parser.add_argument("--agents", type=int, default=300, help="live: agents in a burst")
    parser.add_argument("--steady-agents", type=int, default=1500, help="live: the steady pool")
    parser.add_argument("--steady-share", type=float, default=0.8, help="live: of the burst rate")
    parser.add_argument("--window", type=float, default=60.0, help="live: steady seconds")
    parser.add_argument("--latency-target", type=float, default=60.0)
    parser.add_argument("--rounds", type=int, default=2, help="live: each configuration's runs")
    parser.add_argument("--concurrency", type=int, default=4, help="live: each worker's pool")
    parser.add_argument(
        "--configurations",
        default="workers,hosts",
        help="live: workers (one network), hosts (namespaces), or both",
    )
    parser.add_argument("--drain-seconds", type=float, default=180.0)
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
    if not args.model:
        print(json.dumps(live(args), indent=2))
        return
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
