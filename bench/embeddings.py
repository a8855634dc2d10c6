"""Benchmark: what embeddings and memory cost one action, in CPU and latency.

On one process, with the bundled model (multilingual-e5-small, 4-bit) and a SQLite fleet
whose agents already keep ``--memories`` memories each:

- ``load``: the model's first use (once per process);
- ``embed_passage`` / ``embed_query``: one short text (a caption, a comment), wall and
  CPU milliseconds, median and p95;
- ``comment_action``: what memory adds to one comment or reply: the recall for the
  writer (one query embedding, the agent's memories read and ranked), the no-echo check
  of one draft (one embedding, the persona's published vectors read and compared) and
  the memory written (its vector re-used from the check);
- ``like_action``: what memory adds to a like (a row, no embedding).

    python -m bench.embeddings [--texts 60] [--memories 200] [--agents 20]

Measured on the shared 2-core machine (load 6) with OPENBLAS_NUM_THREADS=1: one text
23 ms CPU (34 ms wall), a comment's memory work 55 ms CPU; with numpy's default threads
the same text cost 120 ms CPU (threads spinning on busy cores).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fleet import activities, agents
from fleet.actions.remembering import Recall
from fleet.content.offline.writer import OfflineWriter
from fleet.content.port import Author, PostSeen
from fleet.core.memory import Memory, MemoryKind
from fleet.db import migrate
from fleet.db.engine import build_engine, session_factory
from fleet.embeddings.degrading import DegradingEmbedder
from fleet.embeddings.local import LocalEmbedder
from fleet.infra.persona_files import BUNDLED_DIR, PersonaCatalogue
from fleet.settings import MemorySettings

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
PERSONA = "indie_game_dev"


def _timed(run: Callable[[], object], times: int) -> dict[str, float]:
    walls, cpus = [], []
    for _ in range(times):
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    walls.sort()
    cpus.sort()
    p95 = max(0, round(0.95 * (times - 1)))
    return {
        "wall_ms_median": round(statistics.median(walls), 2),
        "wall_ms_p95": round(walls[p95], 2),
        "cpu_ms_median": round(statistics.median(cpus), 2),
    }


def _texts(count: int) -> list[str]:
    personas = PersonaCatalogue.from_directory(BUNDLED_DIR)
    persona = personas.get(PERSONA)
    writer = OfflineWriter()
    author = Author("bench_dev", "Bench Dev", 7)
    post = PostSeen("p1", "Slime boss, idle frames", "Four frames, 16 colours.", "ana", False)
    texts = []
    for nonce in range(count):
        if nonce % 2:
            texts.append(writer.write_comment(persona, author, post, nonce=nonce).text)
        else:
            draft = writer.write_post(persona, author, nonce=nonce)
            texts.append(f"{draft.title} {draft.description}")
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--texts", type=int, default=60)
    parser.add_argument("--memories", type=int, default=200)
    parser.add_argument("--agents", type=int, default=20)
    args = parser.parse_args()

    texts = _texts(args.texts)
    embedder = DegradingEmbedder(LocalEmbedder())
    wall, cpu = time.perf_counter(), time.process_time()
    embedder.vector("warm up")
    load = {
        "wall_ms": round((time.perf_counter() - wall) * 1000, 1),
        "cpu_ms": round((time.process_time() - cpu) * 1000, 1),
    }
    cycle = iter(texts * 50)
    passage = _timed(lambda: embedder.vector(next(cycle)), len(texts))
    query = _timed(lambda: embedder.vector(next(cycle), purpose="query"), len(texts))

    with tempfile.TemporaryDirectory() as directory:
        engine = build_engine(f"sqlite:///{Path(directory) / 'fleet.db'}")
        migrate.upgrade(engine)
        sessions = session_factory(engine)
        personas = PersonaCatalogue.from_directory(BUNDLED_DIR)
        made = agents.create_agents(
            sessions, personas, agents.NewAgents(PERSONA, args.agents), fleet_seed=1, now=NOW
        )
        ids = list(range(made.first_id, made.last_id + 1))
        vectors = embedder.vectors(texts)
        assert vectors is not None
        lease = timedelta(minutes=5)
        second = 0
        for agent_id in ids:
            rows = []
            for n in range(args.memories):
                second += 1
                key = f"{agent_id}:{second}:comment"
                activity = activities.create_activity(
                    sessions, agent_id, "comment", NOW, key, now=NOW, lease=lease
                )
                at = NOW - timedelta(hours=n)
                text = texts[n % len(texts)]
                memory = Memory(MemoryKind.SAID, text, at, "ana", vector=vectors[n % len(texts)])
                rows.append(agents.Remembered(agent_id, activity, memory, "p1", embedder.model))
            agents.remember(sessions, rows, keep=args.memories, now=NOW, half_life_days=7)
        recall = Recall(sessions, MemorySettings(max_per_agent=args.memories), embedder)
        post = PostSeen("p2", "Tileset for the swamp level", "Moss, mud, 8x8.", "ana", False)
        drafts = iter(f"{t} (again {i})" for i, t in enumerate(texts * 50))
        agent_of = iter(ids * 1000)

        def comment_action() -> None:
            agent_id = next(agent_of)
            recall.memories_for(agent_id, now=NOW, about=post)
            check = recall.echo_check(persona=PERSONA, now=NOW)
            assert check is not None
            check(next(drafts))

        comment = _timed(comment_action, len(texts))
        liked = iter(range(10**6))

        def like_action() -> None:
            agent_id = next(agent_of)
            n = next(liked)
            key = f"{agent_id}:{10**7 + n}:like"
            activity = activities.create_activity(
                sessions, agent_id, "like", NOW, key, now=NOW, lease=lease
            )
            memory = Memory(MemoryKind.LIKED, "Tileset for the swamp level", NOW, "ana")
            agents.remember(
                sessions,
                [agents.Remembered(agent_id, activity, memory, "p2")],
                keep=args.memories,
                now=NOW,
                half_life_days=7,
            )

        like = _timed(like_action, len(texts))
        engine.dispose()

    out: dict[str, Any] = {
        # numpy's BLAS threads: on a shared 2-core machine one thread costs far less CPU.
        "blas_threads": {
            name: os.environ.get(name) for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
        },
        "model": embedder.model,
        "dimensions": embedder.embedder.dimensions,
        "texts": len(texts),
        "memories_per_agent": args.memories,
        "published_vectors_scanned": min(args.agents * args.memories, MemorySettings().echo_scan),
        "load": load,
        "embed_passage": passage,
        "embed_query": query,
        "comment_action": comment,
        "like_action_sqlite_row_with_create": like,
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
