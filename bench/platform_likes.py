"""Benchmark: likes on a real Takahē through ``MastodonGallery``, Fleet's CPU beside the server's.

Starts Takahē 0.11 from ``../shared/platforms/takahe`` as the conformance suite does
(``tests.platforms.servers``: its own database, a free port, its runner), makes
``--agents`` accounts with tokens and one post per agent, then each agent favourites the
others' posts, one call at a time (``--likes`` in all). A like here is the adapter's whole
call: the relationship read (``blocked_by``, kept 120 s per author) and the favourite.

Prints JSON: a like's send-to-answer p50 and p99 (ms), likes per second, and CPU seconds
per like of this process (Fleet's adapter) and of Takahē's processes (gunicorn with its
uvicorn worker, and its runner ``runstator``, read from /proc), over the same likes.
This is the adapter against the server, not the whole path of ``bench.actions`` (the
worker, its ledger and Redis limits are not in it).

    python -m bench.platform_likes [--agents 8] [--likes 400]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import time
from pathlib import Path

from PIL import Image
from pydantic import AnyUrl

from fleet.gallery.mastodon import MastodonGallery
from fleet.gallery.port import MadeImage
from fleet.settings import GallerySettings
from tests.platforms.servers import absent, running_takahe

TICKS = os.sysconf("SC_CLK_TCK")


class _Tokens:
    def __init__(self, tokens: dict[str, str]) -> None:
        self._tokens = tokens

    def token_for(self, agent: str) -> str:
        return self._tokens[agent]


class _Painted:
    def make(self, *, prompt: str, style: str, persona: str, idempotency_key: str) -> MadeImage:
        out = io.BytesIO()
        Image.new("RGB", (64, 64), (sum(idempotency_key.encode()) % 256, 90, 160)).save(out, "PNG")
        return MadeImage(out.getvalue(), "image/png")


def _cpu_seconds(pids: list[int]) -> float:
    """User and system CPU of the processes and their children that were waited for."""
    total = 0
    for pid in pids:
        for task in _tree(pid):
            try:
                fields = Path(f"/proc/{task}/stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            total += sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
    return total / TICKS


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (gunicorn's worker is its child)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        children = Path(f"/proc/{current}/task/{current}/children")
        with contextlib.suppress(OSError):
            todo.extend(int(c) for c in children.read_text().split())
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=8)
    parser.add_argument("--likes", type=int, default=400)
    args = parser.parse_args()
    why = absent("takahe")
    if why:
        raise SystemExit(why)
    handles = [f"bench_{i}" for i in range(args.agents)]
    with running_takahe() as server:
        tokens = server.accounts(handles)
        settings = GallerySettings(kind="mastodon", url=AnyUrl(server.url), timeout_seconds=30)
        gallery = MastodonGallery(settings, _Tokens(tokens), _Painted())
        posts = []
        for handle in handles:
            image = gallery.generate_image(
                agent=handle, prompt="p", style="s", persona="p", idempotency_key=f"{handle}:i"
            )
            posts.append(
                gallery.create_post(
                    agent=handle,
                    image_url=image,
                    title=f"Bench {handle}",
                    description="A bench post.",
                    idempotency_key=f"{handle}:p",
                ).id
            )
        pairs = [(h, p) for h in handles for i, p in enumerate(posts) if handles[i] != h]
        pids = [proc.pid for proc in server.procs]
        times: list[float] = []
        fleet_cpu, server_cpu = time.process_time(), _cpu_seconds(pids)
        started = time.perf_counter()
        for n in range(args.likes):
            handle, post = pairs[n % len(pairs)]
            t = time.perf_counter()
            gallery.like(agent=handle, post_id=post, idempotency_key=f"like-{n}")
            times.append(time.perf_counter() - t)
        wall = time.perf_counter() - started
        fleet_cpu, server_cpu = time.process_time() - fleet_cpu, _cpu_seconds(pids) - server_cpu
        gallery.close()
    ordered = sorted(times)
    print(
        json.dumps(
            {
                "bench": "platform_likes",
                "server": "takahe-0.11",
                "agents": args.agents,
                "likes": args.likes,
                "like_ms_p50": round(statistics.median(ordered) * 1000, 2),
                "like_ms_p99": round(ordered[int(0.99 * (len(ordered) - 1))] * 1000, 2),
                "likes_per_second": round(args.likes / wall, 1),
                "fleet_cpu_ms_per_like": round(fleet_cpu / args.likes * 1000, 3),
                "server_cpu_ms_per_like": round(server_cpu / args.likes * 1000, 3),
                "cores": os.cpu_count(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
