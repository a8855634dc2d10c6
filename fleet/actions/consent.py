"""People's consent as a process knows it: read from the gallery, kept at most a bound old.

``ConsentBook.current()`` is the ``Consent`` (``fleet.core.consent``) target choice filters
by. It reads the gallery's consent list (``fleet.gallery.consent``) when its copy is older
than ``refresh_seconds``; a read that fails keeps the last good copy until it is
``MAX_STALE_SECONDS`` old, and then no person is engaged until a read succeeds (fail safe).
A gallery that offers no consent calls gives ``Consent(offered=False)``: people are then
engaged as ``FLEET_CONSENT__WHEN_UNOFFERED`` says.

``admit`` filters a target choice's candidates: agents' posts always pass; a person's
passes when ``allows`` says so. When nobody said anything it costs one comparison.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from fleet.core.consent import MAX_STALE_SECONDS, OPEN, Consent, closed_to, open_to_unnamed
from fleet.errors import FleetError
from fleet.gallery.consent import ConsentRead
from fleet.infra.logs import get_logger
from fleet.settings import ConsentSettings

log = get_logger(__name__)

__all__ = ["MAX_STALE_SECONDS", "ConsentBook"]

T = TypeVar("T")


class ConsentBook:
    """A process's copy of people's consent, read again every ``refresh_seconds``."""

    def __init__(
        self,
        read: Callable[[], ConsentRead],
        settings: ConsentSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read = read
        self._settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._consent: Consent | None = None
        self._read_at = -float("inf")
        self._good_at = -float("inf")
        self.problem: str | None = None
        # (consent, agent, action) -> the people closed to it: a batch asks many times.
        self._closed: dict[tuple[str, str], tuple[frozenset[str], bool]] = {}

    def current(self) -> Consent:
        """The consent to choose by now (read again when the copy is due)."""
        now = self._clock()
        consent = self._consent
        if consent is not None and now - self._read_at < self._settings.refresh_seconds:
            return consent
        with self._lock:
            if self._consent is not None and now - self._read_at < self._settings.refresh_seconds:
                return self._consent
            self._read_at = now
            try:
                got = self._read()
            except FleetError as error:
                self.problem = f"people's consent could not be read: {str(error)[:200]}"
                log.warning("consent unreadable", reason=str(error)[:200])
                if self._consent is None or now - self._good_at >= MAX_STALE_SECONDS:
                    self._consent = Consent(known=False, cool_fleet=self._settings.cool_fleet)
            else:
                self.problem = None
                self._good_at = now
                self._consent = Consent(
                    people=got.people,
                    unreadable=got.unreadable,
                    offered=got.offered,
                    unoffered=self._settings.when_unoffered,
                    cool_fleet=self._settings.cool_fleet,
                )
            self._closed = {}
            return self._consent

    def closed(self, agent: str, action: str) -> tuple[frozenset[str], bool]:
        """(the people ``agent`` must leave alone for ``action``, whether a person who said
        nothing is open to it)."""
        consent = self.current()
        found = self._closed.get((agent, action))
        if found is None:
            found = (closed_to(consent, agent, action), open_to_unnamed(consent, action))
            self._closed[(agent, action)] = found
        return found

    def admit(
        self,
        items: Sequence[T],
        agent: str,
        action: str,
        person_of: Callable[[T], str | None],
    ) -> Sequence[T]:
        """The items whose person (``person_of``: their handle, None for an agent's) the
        agent may do ``action`` toward."""
        consent = self.current()
        if consent is OPEN or (
            consent.known and consent.offered and not consent.people and not consent.unreadable
        ):
            return items
        closed, unnamed = self.closed(agent, action)
        admitted = []
        for item in items:
            person = person_of(item)
            if person is None or (person not in closed and (unnamed or person in consent.people)):
                admitted.append(item)
        return admitted
