"""Benchmark: what each pool process keeps for taste and the no-echo check, per row.

Every content process keeps its own echo windows (``actions.remembering.PublishedWindow``:
the fleet's published texts of the window, with their vectors) and every acting process
its own posts' vectors (``actions.interests.Interests``), so over a long run their rows
are what grows in each child. This fills both as a worker's children fill them, with
``--rows`` texts and posts of ``--dimensions`` (the bundled model's 384) and texts of
``--chars`` characters, and prints the bytes Python allocated per row (``tracemalloc``),
and what a full window of ``--scan`` texts (``FLEET_MEMORY__ECHO_SCAN``) and a full post
cache come to per process.

    python -m bench.kept_memory [--rows 5000] [--dimensions 384] [--chars 160]
"""

from __future__ import annotations

import argparse
import json
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np

from fleet.actions.interests import KEPT_POSTS, Interests
from fleet.actions.remembering import PublishedWindow
from fleet.agents import Published
from fleet.core.memory import text_digest
from fleet.core.vectors import unit


def _allocated(fill: Callable[[], None]) -> int:
    """Bytes Python allocated (and kept) while ``fill()`` ran."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        fill()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--dimensions", type=int, default=384)
    parser.add_argument("--chars", type=int, default=160)
    parser.add_argument("--scan", type=int, default=20_000)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    now = datetime.now(UTC)
    vectors = [unit(rng.normal(size=args.dimensions)) for _ in range(args.rows)]
    words = "the light here is lovely and the colours sing in the quiet morning air "

    def text(n: int) -> str:
        # A new string per row, as each row read from the database is.
        return f"{n} {words * (args.chars // len(words) + 1)}"[: args.chars]

    window = PublishedWindow(args.scan)

    def fill_window() -> None:
        # The rows as a read hands them over, let go once the window kept its part.
        rows = [Published(n + 1, now, text(n), v) for n, v in enumerate(vectors)]
        window.refresh(lambda _after, _known: rows, since=now - timedelta(days=7))

    window_row = _allocated(fill_window) / args.rows
    interests = Interests(None, max_posts=args.rows)

    def fill_posts() -> None:
        interests._keep_here(
            {f"post-{n:08d}": (text_digest(text(n)), unit(v.copy())) for n, v in enumerate(vectors)}
        )

    per_post = _allocated(fill_posts) / args.rows
    print(
        json.dumps(
            {
                "benchmark": "kept_memory",
                "rows": args.rows,
                "dimensions": args.dimensions,
                "text_chars": args.chars,
                "echo_window_bytes_per_text": round(window_row),
                "echo_window_full_mib": round(window_row * args.scan / 2**20, 1),
                "posts_bytes_per_post": round(per_post),
                "posts_kept": KEPT_POSTS,
                "posts_full_mib": round(per_post * KEPT_POSTS / 2**20, 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
