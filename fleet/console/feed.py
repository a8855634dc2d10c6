"""The live feed's hub: one Redis subscription for the whole console, fanned out to
every viewer's queue. Where Redis is out of reach it says so and retries every second.

What a viewer may hold is bounded: each event's strings are clipped (``MAX_TEXT``), and a
viewer that falls ``BACKLOG`` events or ``BACKLOG_BYTES`` behind (a stalled browser, a
reader that stopped reading) is dropped: its backlog is freed at once and its stream
ends (a browser's EventSource opens a new one, from the newest events).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fleet.service import activity
from fleet.service.root import Fleet

if TYPE_CHECKING:
    from starlette.requests import Request

RETRY_SECONDS = 1.0
BACKLOG = 256  # events a viewer may fall behind before it is dropped
BACKLOG_BYTES = 1_000_000  # and bytes of events (as JSON), whichever comes first
# The longest string of an event a viewer is handed (a comment is at most 2,000
# characters on the gallery; the ledger's own texts are shorter).
MAX_TEXT = 2_000
MAX_DEPTH = 4  # an event's nesting shown; deeper is summarised
# The newest events a viewer sees as it opens the feed: a quiet minute is not an empty page.
RECENT = 20
DROPPED = ("down", "this page fell too far behind the live feed: reload to follow it again")


def bounded(value: Any, depth: int = 0) -> Any:
    """An event with every string clipped to ``MAX_TEXT`` and its nesting to ``MAX_DEPTH``."""
    if isinstance(value, str):
        return value if len(value) <= MAX_TEXT else value[: MAX_TEXT - 1] + "…"
    if isinstance(value, dict):
        if depth >= MAX_DEPTH:
            return "…"
        return {bounded(k, depth + 1): bounded(v, depth + 1) for k, v in list(value.items())[:100]}
    if isinstance(value, list | tuple):
        if depth >= MAX_DEPTH:
            return "…"
        return [bounded(v, depth + 1) for v in list(value)[:100]]
    return value


def _size(payload: Any) -> int:
    try:
        return len(json.dumps(payload, default=str))
    except (TypeError, ValueError):
        return MAX_TEXT


@dataclass(eq=False)
class Viewer:
    """One browser on the feed: its queue, its loop, and how far behind it is."""

    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[tuple[str, Any, int]] = field(default_factory=asyncio.Queue)
    behind_bytes: int = 0
    dropped: bool = False


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
        else:
            payload = bounded(payload)
        size = _size(payload)  # measured once, for every viewer
        with self._lock:
            if kind == "event":
                self._recent.append(payload)
            viewers = list(self._viewers)
        for viewer in viewers:
            if viewer.dropped:
                continue
            with contextlib.suppress(RuntimeError):  # its loop closed meanwhile
                viewer.loop.call_soon_threadsafe(_offer, viewer, (kind, payload, size))

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
                kind, payload, size = await viewer.queue.get()
                viewer.behind_bytes -= size
                yield kind, payload
                if payload is DROPPED:
                    return  # the stream ends: the browser reconnects
        finally:
            with self._lock:
                self._viewers.discard(viewer)

    @property
    def viewers(self) -> int:
        return len(self._viewers)


def hub_of(request: Request) -> Hub:
    """The live feed's hub of the app serving ``request`` (put on its state by ``build_app``)."""
    found: Hub = request.app.state.hub
    return found


def _offer(viewer: Viewer, item: tuple[str, Any, int]) -> None:
    """Queue ``item`` for ``viewer``, or drop a viewer this far behind: it has left in all
    but name, and its backlog is freed now rather than when its connection times out."""
    if viewer.dropped:
        return
    queue = viewer.queue
    if queue.qsize() >= BACKLOG or viewer.behind_bytes + item[2] > BACKLOG_BYTES:
        viewer.dropped = True
        while not queue.empty():
            queue.get_nowait()
        viewer.behind_bytes = 0
        queue.put_nowait(("status", DROPPED, 0))  # wakes a reader waiting on the queue
        return
    viewer.behind_bytes += item[2]
    queue.put_nowait(item)


def wait_for(predicate: Any, timeout: float = 5.0) -> bool:
    """Poll ``predicate`` until true or ``timeout`` (tests and the bench)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False
