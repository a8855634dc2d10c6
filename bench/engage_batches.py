"""What the one-process benchmarks of batched actions share (``bench.like_cpu``,
``bench.browse_cpu``): the gallery's feed seeded with posts, and batches of one kind's
actions made due (their activities decided, one a tick second) and carried out through
``fleet.engage_batch`` in this process (``Task.apply``), as the tick sends them."""

from __future__ import annotations

import cProfile
import importlib
import pstats
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from fleet import activities
from fleet.core.kinds import ActionKey
from fleet.gallery.client import HttpGallery
from fleet.service.root import Fleet


def seed_posts(setup: HttpGallery, gallery_url: str, authors: Sequence[str], count: int) -> None:
    """``count`` posts on the gallery, by ``authors`` in turn."""
    for i in range(count):
        setup.create_post(
            agent=authors[i % len(authors)],
            image_url=f"{gallery_url}/images/placeholder.png",
            title=f"Seed post {i}",
            description="A post that was there before the benchmark.",
            idempotency_key=f"bench-seed-{i}",
        )


class Batches:
    """Batches of ``action`` by ``agent_ids`` (one action each), a tick second apart."""

    def __init__(
        self, fleet: Fleet, task: Any, agent_ids: Sequence[int], action: str, now: datetime
    ) -> None:
        self.fleet, self.task, self.agent_ids, self.action = fleet, task, agent_ids, action
        self.now = now
        self.second = int(now.timestamp())

    def make(self) -> list[str]:
        """One batch's keys, their activities decided."""
        self.second += 1
        keys = []
        for agent_id in self.agent_ids:
            key = str(ActionKey.tick(agent_id, self.second, self.action))
            activities.create_activity(
                self.fleet.sessions,
                agent_id,
                self.action,
                datetime.fromtimestamp(self.second, UTC),
                key,
                now=self.now,
                lease=timedelta(minutes=10),
            )
            keys.append(key)
        return keys

    def run(self, batches: int, around: Callable[[Callable[[], None]], None]) -> list[str]:
        """Make ``batches`` batches, then carry them out inside ``around`` (which calls the
        work it is given: plainly, timed, or profiled); their keys."""
        made = [self.make() for _ in range(batches)]

        def work() -> None:
            for keys in made:
                self.task.apply(args=(keys,)).get()

        around(work)
        return [key for keys in made for key in keys]

    def profiled(self, batches: int) -> pstats.Stats:
        """Carry out ``batches`` batches profiled, in this thread and in the batch's pool
        threads (made anew, each with a profiler of its own; CPU time by thread): their
        profile, added up."""
        profilers: list[cProfile.Profile] = []

        def thread_profiler(*_: object) -> None:
            profiler = cProfile.Profile(time.thread_time)
            profilers.append(profiler)
            profiler.enable()

        def profiled(work: Callable[[], None]) -> None:
            end_batch_threads()
            threading.setprofile(thread_profiler)
            main = cProfile.Profile(time.thread_time)
            profilers.append(main)
            main.enable()
            try:
                work()
            finally:
                main.disable()
                threading.setprofile(None)
                end_batch_threads()

        self.run(batches, profiled)
        stats = pstats.Stats(profilers[0])
        for profiler in profilers[1:]:
            stats.add(profiler)
        return stats


def end_batch_threads() -> None:
    """End this process's batch threads (``fleet.actions.perform``'s pool): the next batch
    starts threads of its own."""
    importlib.import_module("fleet.actions.perform").end_batch_threads()
