"""Benchmark: the whole pipeline (beat, dispatcher, ticks, actions, gallery), and its ceiling.

On the local Postgres and Redis and a sandbox gallery process: real Celery worker
processes and a real beat (the dispatcher every second). A burst of ``--agents`` agents
becomes due at one whole second; the run ends when each has decided and finished its
action. Measured from the activities in Postgres:

- actions per second, all and by kind: burst size / (last finish - the burst's due time);
- the outcomes, and the skipped actions by kind and reason (``skipped_by_reason``): the
  actions that end early (nothing to like, a draft the guard refused) make a burst faster,
  so two bursts' paces compare only beside these;
- dispatch lag, p50 and p99: due time -> the action decided (the activity row written);
- tick-to-effect latency, p50 and p99, all and by kind: due time -> the activity finished.

Workers run as ``docker-compose.yml`` runs them (``--layout queues``, the default): one
worker per queue group (ticks solo; content threads -c 8 at nice 9, as compose's
cpu_shares 128 weighs it; engage at ``--pool`` and
``--concurrency``, prefork -c 4 as compose). ``--layout single`` puts every queue on
``--workers`` workers of ``--pool`` (threads) at ``--concurrency``.

Default mode runs ``--phases``: ``burst`` (one burst), ``ceiling`` (the engage worker's
settings consuming no-op tasks of a Celery app of their own, ``bench/noop.py``, its own
key prefix, and the ratio) and ``memory`` (the workers' VmRSS after a burst, fresh
workers each time, with ``--registered`` and with 100,000 registered agents).
``--gallery-latency-ms 100`` instead runs the burst at ``--concurrency`` and at four
times it, to show throughput rising with concurrency while the gallery is slow;
``--scale`` runs one and then two engage workers (every queue's, in the single layout).

Agents tick once an hour otherwise; the burst's and the warm-up's agents have their
gallery accounts beforehand, as ``fleet agents start`` makes them (a burst of agents whose
first action creates its account costs a call and a statement more per action); the
gallery is seeded with posts to like and answer; the gallery rate limit and the per-post engagement cap are lifted (they would measure
themselves). Uses a database and a Redis key prefix of its own, removed at the end. JSON
on stdout, a short table on stderr.

    python -m bench.pipeline [--agents 300] [--layout queues] [--concurrency 4]
    python -m bench.pipeline --phases burst            # one burst only (the smoke test)
    python -m bench.pipeline --gallery-latency-ms 100
    python -m bench.pipeline --scale
    python -m bench.pipeline --batches [--batch-size 50]   # one message per action vs batches
    python -m bench.pipeline --content-layouts threads-1x8-p1,threads-1x8,threads-2x4 --rounds 2

``--content-layouts`` runs a burst on each layout of the content workers in turn (fresh
workers each), ``--rounds`` times: their pace, the content workers' CPU per second of the
burst (``content_cores_used``: above 1.0, more than one core), and every worker's RSS and
PSS after it (``memory_mib``), with the load average at the end of each.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

import httpx

from bench.pipeline_stack import Bench, ContentLayout
from bench.sandbox import TOKEN


def _table(out: dict[str, Any]) -> None:
    lines = []
    for run in out["runs"]:
        lines.append(
            f"{run['label']:<26} {run['actions_per_second']:>7.1f} actions/s  "
            f"lag p50/p99 {run['dispatch_lag_p50_s']:.2f}/{run['dispatch_lag_p99_s']:.2f} s  "
            f"effect p50/p99 {run['tick_to_effect_p50_s']:.2f}/{run['tick_to_effect_p99_s']:.2f} s"
        )
        total = run.get("memory_mib", {}).get("total", {})
        lines.append(
            f"{'':<26} content {run.get('content_layout')}: "
            f"{run.get('content_cores_used')} cores, workers RSS {total.get('rss')} MiB "
            f"PSS {total.get('pss')} MiB, load {run.get('load_average')}"
        )
        like = run.get("tick_to_effect_by_kind", {}).get("like")
        if like:
            lines.append(f"{'':<26} like effect p50/p99 {like['p50_s']:.2f}/{like['p99_s']:.2f} s")
    if "ceiling" in out:
        lines.append(
            f"{'no-op ceiling':<26} {out['ceiling']['tasks_per_second']:>7.1f} tasks/s    "
            f"pipeline/ceiling {out['ratio']}"
        )
    for registered, mib in out.get("worker_rss_mib", {}).items():
        lines.append(f"{'worker RSS, ' + registered + ' agents':<26} {mib:>7.1f} MiB")
    print("\n".join(lines), file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=300, help="agents in a burst")
    parser.add_argument(
        "--layout",
        default="queues",
        choices=["queues", "single"],
        help="a worker per queue group as docker-compose.yml (queues), or one for all",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="engage workers (every queue's, single layout)"
    )
    parser.add_argument(
        "--pool",
        choices=["threads", "prefork", "solo"],
        help="the engage worker's pool (default: compose's prefork; single layout: threads)",
    )
    parser.add_argument(
        "--content-pool",
        choices=["threads", "prefork"],
        default="threads",
        help="the content worker's pool, -c 8 (default: compose's threads)",
    )
    parser.add_argument(
        "--registered", type=int, default=1000, help="agents registered (at least --agents)"
    )
    parser.add_argument(
        "--tick-batch-size", type=int, default=100, help="ticks per message the dispatcher sends"
    )
    parser.add_argument(
        "--content-nice",
        type=int,
        default=9,
        help="niceness of the content worker (the LLM and image kinds' CPU yields to likes): "
        "9 weighs about what compose's cpu_shares 128 does against 1024",
    )
    parser.add_argument(
        "--no-warm-up",
        dest="warm_up",
        action="store_false",
        help="measure fresh workers' first burst (by default a burst of other agents warms them)",
    )
    parser.add_argument(
        "--phases",
        default="burst,ceiling,memory",
        help="default mode's phases: burst, ceiling, memory (a burst with 100,000 agents)",
    )
    parser.add_argument(
        "--content-layouts",
        help="content workers to compare, alternately, one burst each: a comma list of "
        "POOL-NxC[-pN] (threads-1x8: compose's; threads-2x4: two processes of 4 threads; "
        "prefork-1x4; -p1: the local model one call at a time in each process)",
    )
    parser.add_argument("--rounds", type=int, default=1, help="rounds of --content-layouts")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--gallery-latency-ms", type=float, default=0.0, dest="latency")
    parser.add_argument("--scale", action="store_true", help="one, then two worker processes")
    parser.add_argument(
        "--batch-size", type=int, default=50, help="keys per batch message of likes and browses"
    )
    parser.add_argument(
        "--batches",
        action="store_true",
        help="the burst one message per action, then in batches, then the ceiling",
    )
    args = parser.parse_args()
    if args.latency and args.pool == "solo":
        parser.error("--gallery-latency-ms compares concurrencies: use --pool threads or prefork")

    bench = Bench(args)
    layouts = [
        ContentLayout.parse(spec) for spec in (args.content_layouts or "").split(",") if spec
    ]
    if layouts:
        bench.content = layouts[0]  # the first run's workers start with the sandbox
    if args.batches:
        bench.batch_size = 1  # its first run's (the workers start with the sandbox)
    out: dict[str, Any] = {
        "benchmark": "pipeline",
        "machine_cores": os.cpu_count(),
        "agents_in_burst": args.agents,
        "layout": args.layout,
        "pool": args.pool,
        "gallery_latency_ms": args.latency,
        "runs": [],
    }
    with bench.running():
        bench.seed()
        bench.register(max(args.registered, 2 * args.agents))
        if args.latency:
            headers = {"Authorization": f"Bearer {TOKEN}"}
            httpx.put(
                f"{bench.gallery_url}/admin/faults",
                json={"latencyMs": args.latency},
                headers=headers,
                timeout=10,
            ).raise_for_status()
        beat = bench.spawn(
            "beat", "-A", "fleet.worker", "beat", "--schedule", str(bench.logs / "beat-schedule")
        )
        if args.latency:
            for concurrency in (args.concurrency, args.concurrency * 4):
                figures, _ = bench.pipeline(args.workers, concurrency)
                out["runs"].append({"label": f"c={concurrency}"} | figures)
        elif args.batches:
            for size in (1, args.batch_size):
                bench.batch_size = size
                figures, _ = bench.pipeline(args.workers, args.concurrency)
                out["runs"].append({"label": f"batch size {size}"} | figures)
            out["ceiling"] = bench.ceiling()
            out["ratio"] = {
                run["label"]: round(
                    run["actions_per_second"] / out["ceiling"]["tasks_per_second"], 3
                )
                for run in out["runs"]
            }
        elif layouts:
            for round_ in range(args.rounds):
                for layout in layouts:
                    bench.content = layout
                    figures, _ = bench.pipeline(args.workers, args.concurrency)
                    out["runs"].append({"label": f"{layout.label} #{round_ + 1}"} | figures)
        elif args.scale:
            for count in (1, 2):
                figures, _ = bench.pipeline(count, args.concurrency)
                out["runs"].append({"label": f"{count} worker process(es)"} | figures)
        else:
            phases = set(args.phases.split(","))
            figures, rss_small = bench.pipeline(args.workers, args.concurrency)
            out["runs"].append({"label": f"{bench.registered:,} registered"} | figures)
            if "ceiling" in phases:
                out["ceiling"] = bench.ceiling()
                out["ratio"] = round(
                    figures["actions_per_second"] / out["ceiling"]["tasks_per_second"], 3
                )
            if "memory" in phases:
                small = bench.registered
                bench.register(100_000)
                figures, rss_large = bench.pipeline(args.workers, args.concurrency)
                out["runs"].append({"label": f"{bench.registered:,} registered"} | figures)
                out["worker_rss_mib"] = {
                    f"{small:,}": round(rss_small / 1024, 1),
                    f"{bench.registered:,}": round(rss_large / 1024, 1),
                }
        bench.stop(beat)
    print(json.dumps(out, indent=2))
    _table(out)


if __name__ == "__main__":
    main()
