"""bench.community.cli: the command line (``python -m bench.community``) and the runs it
makes: one seed (with the ramp's baseline), or several seeds in processes of their own.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from bench import taking_up
from bench.community.gallery import run
from bench.community.measures import examples, measure, step_back
from bench.community.targets import DIAGNOSTICS, TARGETS, summarise, verdicts
from fleet.embeddings.local import LocalEmbedder


def _seed_run(
    seed: int, agents: int, days: float, newcomer_every: float, people_like: str
) -> dict[str, Any]:
    """One seed's run and figures, in a process of its own (``--seeds`` with ``--jobs``)."""
    gallery, wall = run(
        agents=agents,
        seed=seed,
        days=days,
        newcomer_every=newcomer_every,
        ramp_to=None,
        people_like=people_like,
    )
    figures = measure(gallery, LocalEmbedder(), random.Random(seed))
    return {"figures": figures, "run_seconds": round(wall, 1), "examples": examples(gallery)}


def _seeds(text: str) -> list[int]:
    try:
        seeds = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--seeds takes whole numbers, e.g. 3,4,5: {text[:40]!r}"
        ) from None
    if not seeds or len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"--seeds takes distinct seeds, e.g. 3,4,5: {text[:40]!r}")
    return seeds


def main(argv: list[str] | None = None) -> int:
    from bench import community  # the package, for its docstring

    parser = argparse.ArgumentParser(description=(community.__doc__ or "").split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=72)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument(
        "--seeds",
        type=_seeds,
        help="several seeds, e.g. 3,4,5,6: each target's mean, lowest and highest",
    )
    parser.add_argument("--jobs", type=int, default=1, help="seeds run at once (--seeds)")
    parser.add_argument(
        "--people-like",
        choices=("random", "feeds"),
        default="random",
        help="people's likes: any post of the last day alike, or what the first page of "
        "recent or popular shows",
    )
    parser.add_argument("--days", type=float, default=2.0)
    parser.add_argument("--newcomer-every", type=float, default=60.0, help="simulated minutes")
    parser.add_argument("--ramp", action="store_true", help="people's activity grows 0 -> 5x")
    parser.add_argument("--ramp-to", type=float, default=5.0)
    parser.add_argument(
        "--ramp-baseline",
        choices=("none", "plain"),
        default="none",
        help="the run the ramp is compared with: people not engaging, or at plain rates",
    )
    parser.add_argument("--smoke", action="store_true", help="a few simulated hours, 12 agents")
    parser.add_argument(
        "--examples",
        action="store_true",
        help="also quote newcomer posts' comments, a thread, replies to people (each seed's)",
    )
    parser.add_argument(
        "--writer",
        choices=("offline", "fake-llm"),
        default="offline",
        help="the offline writer, or the Anthropic writer on a fake LLM (bench.fake_llm)",
    )
    parser.add_argument(
        "--plans",
        choices=("on", "off"),
        default="on",
        help="with --writer fake-llm: a speaking session's words in one call, or a call each",
    )
    args = parser.parse_args(argv)
    if args.writer != "fake-llm" and args.plans == "off":
        parser.error("--plans off is for --writer fake-llm (the offline writer makes no plans)")
    if args.writer != "offline" and (args.seeds is not None or args.ramp):
        parser.error("--writer fake-llm runs one plain run: no --seeds or --ramp with it")
    if args.smoke:
        args.agents, args.days = 12, 0.25
    if args.seeds is not None:
        if args.ramp:
            parser.error("--seeds measures the plain run: no --ramp with it")
        if args.jobs < 1:
            parser.error(f"--jobs is at least 1, not {args.jobs}")
        json.dump(several(args), sys.stdout, indent=2, default=str)
        print()
        return 0
    stepping_back = None
    if args.ramp:
        # The same fleet, seed and newcomers with people not engaging (or at their plain
        # rates): the fleet's last day there against its last day as people grow to
        # ``--ramp-to`` times its activity.
        baseline, _ = run(
            agents=args.agents,
            seed=args.seed,
            days=args.days,
            newcomer_every=args.newcomer_every,
            ramp_to=0.0 if args.ramp_baseline == "none" else None,
            people_like=args.people_like,
        )
    calls: dict[str, int] = {}
    gallery, wall = run(
        agents=args.agents,
        seed=args.seed,
        days=args.days,
        newcomer_every=args.newcomer_every,
        ramp_to=args.ramp_to if args.ramp else None,
        people_like=args.people_like,
        writer=args.writer,
        plans=args.plans == "on",
        calls=calls,
    )
    if args.ramp:
        stepping_back = step_back(baseline, gallery, kind=args.ramp_baseline)
    began = time.monotonic()
    figures = measure(gallery, LocalEmbedder(), random.Random(args.seed))
    figures.update(
        taking_up.figures(gallery.posts, gallery.comments, gallery.newcomer_posts, gallery.users)
    )
    report = {
        "bench": "community",
        "agents": args.agents,
        "seed": args.seed,
        "days": args.days,
        "people_like": args.people_like,
        "ramp": args.ramp_to if args.ramp else None,
        "writer": args.writer if args.writer == "offline" else f"{args.writer}, plans {args.plans}",
        "llm_calls_by_task": calls or None,
        "run_seconds": round(wall, 1),
        "measure_seconds": round(time.monotonic() - began, 1),
        "figures": figures,
        "targets": verdicts(figures),
    }
    if stepping_back is not None:
        report["stepping_back"] = stepping_back
    if args.examples:
        report["examples"] = examples(gallery)
    json.dump(report, sys.stdout, indent=2, default=str)
    print()
    return 0


def several(args: argparse.Namespace) -> dict[str, Any]:
    """``--seeds``: one run a seed (``--jobs`` at once, each in a process of its own)."""
    began = time.monotonic()
    # Spawned, not forked: a process with threads (a test session's servers and pools)
    # forked children that hung on locks those threads held.
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=args.jobs, mp_context=spawn) as pool:
        done = {
            seed: pool.submit(
                _seed_run, seed, args.agents, args.days, args.newcomer_every, args.people_like
            )
            for seed in args.seeds
        }
        runs = {seed: future.result() for seed, future in done.items()}
    figures = {seed: r["figures"] for seed, r in runs.items()}
    return {
        "bench": "community",
        "agents": args.agents,
        "seeds": args.seeds,
        "days": args.days,
        "people_like": args.people_like,
        "wall_seconds": round(time.monotonic() - began, 1),
        "targets": summarise(figures),
        "per_seed": {
            seed: {
                "run_seconds": runs[seed]["run_seconds"],
                **{name: f.get(name) for name in (*TARGETS, *DIAGNOSTICS)},
            }
            for seed, f in figures.items()
        },
        **(
            {"examples": {seed: r["examples"] for seed, r in runs.items()}} if args.examples else {}
        ),
    }
