"""The live feed's hub: one Redis subscription for the whole console, fanned out to
every viewer's queue. Where Redis is out of reach it says so and retries every second."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from fleet.service import activity
from fleet.service.root import Fleet

RETRY_SECONDS = 1.0
BACKLOG = 1000  # events a slow viewer may fall behind before it is told it missed some
# The newest events a viewer sees as it opens the feed: a quiet minute is not an empty page.
RECENT = 20


@dataclass(eq=False)
class Viewer:
    """One browser on the feed: its queue and its loop."""

    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[tuple[str, Any]] = field(default_factory=lambda: asyncio.Queue(BACKLOG))


class Hub:
    """Follows ``fleet:activity`` on a thread and hands each event to every viewer."""

    def __init__(self, fleet: Fleet) -> None:
        self._fleet = fleet
        self._viewers: set[Viewer] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._recent: deque[dict[str, Any]] = deque(maxlen=RECENT)
        self.state: tuple[str, str] = ("connecting", "connecting to Redis")

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="console-feed", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                activity.feed_reachable(self._fleet)
                self._tell("status", ("up", "live"))
                for event in activity.follow(self._fleet, stop=self._stopping.is_set):
                    self._tell("event", event)
            except Exception as error:  # any failure of Redis: say so, retry
                reason = f"Redis unreachable ({type(error).__name__}): retrying every second"
                self._tell("status", ("down", reason))
                self._stopping.wait(RETRY_SECONDS)

    def push(self, event: dict[str, Any]) -> None:
        """An event from this process (the demo's in-process feed, without Redis)."""
        self._tell("status", ("up", "live: the demo's own feed"))
        self._tell("event", event)

    def _tell(self, kind: str, payload: Any) -> None:
        if kind == "status":
            if payload == self.state:
                return
            self.state = payload
        with self._lock:
            if kind == "event":
                self._recent.append(payload)
            viewers = list(self._viewers)
        for viewer in viewers:
            with contextlib.suppress(RuntimeError):  # its loop closed meanwhile
                viewer.loop.call_soon_threadsafe(_offer, viewer.queue, (kind, payload))

    async def watch(self) -> AsyncIterator[tuple[str, Any]]:
        """(kind, payload) for one viewer: first the feed's state and the newest events
        this console saw (oldest first), then what comes."""
        viewer = Viewer(asyncio.get_running_loop())
        with self._lock:
            self._viewers.add(viewer)
            recent = list(self._recent)
        try:
            yield "status", self.state
            for event in recent:
                yield "event", event
            while True:
                yield await viewer.queue.get()
        finally:
            with self._lock:
                self._viewers.discard(viewer)

    @property
    def viewers(self) -> int:
        return len(self._viewers)


def _offer(queue: asyncio.Queue[tuple[str, Any]], item: tuple[str, Any]) -> None:
    # A viewer this far behind has left in all but name.
    with contextlib.suppress(asyncio.QueueFull):
        queue.put_nowait(item)


def wait_for(predicate: Any, timeout: float = 5.0) -> bool:
    """Poll ``predicate`` until true or ``timeout`` (tests and the bench)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False
