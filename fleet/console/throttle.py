"""Wrong passwords, counted per client and overall: each failure past the first few is
answered more slowly, and past a limit every attempt is refused (429) until the window
moves on. The login form and HTTP Basic share one count; a success clears the client's.

The per-client bucket comes first; the overall limit (a guesser spread over many
addresses) refuses only strangers: a client that logged in lately (``known``) or a
signed-in session passes it, so wrong passwords from anyone never lock the owner out."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

# Over this window, the failures of one client and of everyone are counted.
WINDOW_SECONDS = 15 * 60.0
# A client's failures answered at once; each one after waits twice as long as the last.
FREE = 3
FIRST_DELAY = 0.25
LONGEST_DELAY = 4.0
# Failures in the window after which every attempt is refused until the oldest ages out.
PER_CLIENT = 10
OVERALL = 100
# Clients remembered (the oldest forgotten first): memory stays bounded under a flood.
CLIENTS = 10_000
# A client that gave the right password is known for this long (the overall limit lets
# it try), and this many are remembered at most.
KNOWN_SECONDS = 30 * 86_400.0
KNOWN = 1000


class Throttle:
    """A sliding window of failed password attempts, per client and for everyone."""

    def __init__(
        self,
        *,
        window: float = WINDOW_SECONDS,
        per_client: int = PER_CLIENT,
        overall: int = OVERALL,
        free: int = FREE,
        first_delay: float = FIRST_DELAY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window, self.per_client, self.overall = window, per_client, overall
        self.free, self.first_delay = free, first_delay
        self._clock = clock
        self._lock = threading.Lock()
        self._clients: OrderedDict[str, deque[float]] = OrderedDict()
        self._everyone: deque[float] = deque(maxlen=overall)
        self._known: OrderedDict[str, float] = OrderedDict()

    def known(self, client: str) -> bool:
        """Whether ``client`` gave the right password within ``KNOWN_SECONDS``."""
        with self._lock:
            at = self._known.get(client)
            return at is not None and self._clock() - at <= KNOWN_SECONDS

    def refused(self, client: str, *, trusted: bool = False) -> float | None:
        """Seconds until ``client`` may try a password again; None: it may now. A
        ``trusted`` one (signed in already) or a known client is held by its own
        failures only, never by everyone's."""
        trusted = trusted or self.known(client)
        with self._lock:
            now = self._clock()
            self._prune_everyone(now)
            mine = self._clients.get(client) or deque()
            while mine and mine[0] <= now - self.window:
                mine.popleft()
            waits = []
            if len(mine) >= self.per_client:
                waits.append(mine[-self.per_client] + self.window - now)
            if len(self._everyone) >= self.overall and not trusted:
                waits.append(self._everyone[0] + self.window - now)
            return max(waits) if waits else None

    def failed(self, client: str) -> tuple[int, float]:
        """Count a wrong password from ``client``: its failures in the window, and how
        long to wait before answering."""
        with self._lock:
            now = self._clock()
            self._prune_everyone(now)
            mine = self._clients.setdefault(client, deque(maxlen=self.per_client))
            while mine and mine[0] <= now - self.window:
                mine.popleft()
            mine.append(now)
            self._clients.move_to_end(client)
            while len(self._clients) > CLIENTS:
                self._clients.popitem(last=False)
            self._everyone.append(now)
            count = len(mine)
            delay = 0.0
            if count > self.free:
                delay = min(self.first_delay * 2 ** (count - self.free - 1), LONGEST_DELAY)
            if len(self._everyone) >= self.overall // 2:
                # Many failing at once (a spread-out guesser): everyone's answer slows.
                delay = max(delay, min(4 * self.first_delay, LONGEST_DELAY))
            return count, delay

    def succeeded(self, client: str) -> None:
        """The right password: ``client``'s failures are forgiven (not everyone's)."""
        with self._lock:
            self._clients.pop(client, None)
            self._known[client] = self._clock()
            self._known.move_to_end(client)
            while len(self._known) > KNOWN:
                self._known.popitem(last=False)

    def _prune_everyone(self, now: float) -> None:
        while self._everyone and self._everyone[0] <= now - self.window:
            self._everyone.popleft()
