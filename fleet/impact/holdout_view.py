"""Whom agents leave alone, as a process's target choices read the holdout's arms."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from fleet import activities
from fleet.impact.holdout import Spared

# Whom agents leave alone (``fleet.impact.holdout.Spared``), as a process's target choices
# see it: the experiment's recorded arms, read at most every ``ttl_seconds`` and shared.
#
# Between two reads nothing is lost: a person not yet recorded is spared by the same hash
# that will record them, and a holdout's end is days away, not seconds.


class HoldoutView:
    """The experiment's ``Spared`` now, for target choice; ``opted_out``: the gallery user
    ids of people who opted out of agent engagement (the consent's reader, when there is
    one), spared whatever their arm."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        experiment: str,
        share: float,
        days: int,
        now: Callable[[], datetime],
        ttl_seconds: float = 30.0,
        opted_out: Callable[[], frozenset[str]] = frozenset,
    ) -> None:
        self._sessions = sessions
        self._experiment = experiment
        self._share = share
        self._days = days
        self._now = now
        self._ttl = ttl_seconds
        self._opted_out = opted_out
        self._spared: Spared | None = None
        self._taken = -1e18
        self._lock = threading.Lock()

    @property
    def recording(self) -> bool:
        """Whether an experiment runs (a share above 0): people's actions are kept."""
        return self._share > 0

    def spared(self) -> Spared:
        """Whom no agent may single out now (read afresh when the last read is old)."""
        with self._lock:
            if self._spared is not None and time.monotonic() - self._taken < self._ttl:
                return self._spared
        rows = activities.arms_of(self._sessions, self._experiment)
        since = self._now() - timedelta(days=self._days)
        spared = Spared(
            self._experiment,
            self._share,
            held=frozenset(u for u, arm, seen in rows if arm == "holdout" and seen > since),
            known=frozenset(u for u, _, _ in rows),
            opted_out=self._opted_out(),
        )
        with self._lock:
            self._spared, self._taken = spared, time.monotonic()
        return spared
