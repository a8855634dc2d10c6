"""Every outbound client against a hostile upstream: memory, wall time, path taken.

For each client (the gallery, the Anthropic and OpenAI writers, the embeddings endpoint)
and each mode of ``tests.hostile.HostileServer`` (an endless body, a gzip bomb of 1 GiB,
a trickle, a stall mid-body, JSON 100,000 deep, garbage or HTML with a 200, 10^12 tokens
claimed), one call is made in a fresh process (``--one``), after the client is built:

- ``rss_growth_mb``: the process's peak resident memory after the call less before it
  (target: under 300 MB);
- ``seconds`` against ``deadline_seconds`` (target: within the deadline plus 1 s);
- ``path``: ``fallback`` (the next writer wrote the comment), ``degraded`` (no vectors),
  ``refused`` (the gallery's error) or ``ok`` (the answer was used: for the tokens mode,
  with its usage clamped: ``input_tokens``, ``output_tokens``, ``cost_usd``).

    python -m bench.hostile [--deadline 3] [--clients gallery,openai] [--modes endless]

prints one JSON document: the cells and whether every one met its targets.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from dataclasses import asdict

from tests.hostile import CLIENTS, MODES, HostileServer, gzip_bomb, prepare

MAX_RSS_GROWTH_MB = 300.0
SLACK_SECONDS = 1.0


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def one(client: str, mode: str, deadline: float) -> dict[str, object]:
    """One call of ``client`` against a server in ``mode``, measured in this process."""
    if mode == "gzip_bomb":
        gzip_bomb()  # built before the clock starts (the server's work, not the client's)
    with HostileServer(mode) as server:
        call, close = prepare(client, server.url, deadline)
        try:
            before = _peak_mb()
            started = time.monotonic()
            outcome = call()
            seconds = time.monotonic() - started
            growth = _peak_mb() - before
        finally:
            close()
    return {
        "client": client,
        "mode": mode,
        "deadline_seconds": deadline,
        "seconds": round(seconds, 2),
        "rss_growth_mb": round(growth, 1),
        **asdict(outcome),
        "within_deadline": seconds <= deadline + SLACK_SECONDS,
        "within_memory": growth < MAX_RSS_GROWTH_MB,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--deadline", type=float, default=3.0)
    parser.add_argument("--clients", default=",".join(CLIENTS))
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--one", nargs=2, metavar=("CLIENT", "MODE"))
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(*args.one, args.deadline)))
        return
    cells = []
    for client in args.clients.split(","):
        for mode in args.modes.split(","):
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "bench.hostile",
                    "--one",
                    client,
                    mode,
                    "--deadline",
                    str(args.deadline),
                ],
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            if done.returncode != 0:
                cells.append({"client": client, "mode": mode, "error": done.stderr[-400:]})
                continue
            cells.append(json.loads(done.stdout.strip().splitlines()[-1]))
    unavailable = {"gallery": "refused", "embeddings": "degraded"}
    for cell in cells:
        expected = "ok" if cell["mode"] == "tokens" else unavailable.get(cell["client"], "fallback")
        cell["expected_path"] = cell.get("path") == expected
    print(
        json.dumps(
            {
                "deadline_seconds": args.deadline,
                "max_rss_growth_mb": MAX_RSS_GROWTH_MB,
                "all_met": all(
                    c.get("within_deadline") and c.get("within_memory") and c["expected_path"]
                    for c in cells
                ),
                "cells": cells,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
