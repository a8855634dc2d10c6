"""People's consent as a process knows it: read from the gallery, kept at most a bound old."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from fleet.activities import Claim
from fleet.activities.drafts import APPROVED
from fleet.consent.core import (
    MAX_STALE_SECONDS,
    OPEN,
    Consent,
    allows,
    closed_to,
    open_to_unnamed,
)
from fleet.errors import Deferred, FleetError, Skip
from fleet.gallery.consent import ConsentRead
from fleet.infra.logs import get_logger
from fleet.settings import ConsentSettings

# People's consent as a process knows it: read from the gallery, kept at most a bound old.
#
# ``ConsentBook.current()`` is the ``Consent`` (``fleet.consent.core``) target choice filters
# by. It reads the gallery's consent list (``fleet.gallery.consent``) when its copy is older
# than ``refresh_seconds``; a read that fails keeps the last good copy until it is
# ``MAX_STALE_SECONDS`` old, and then no person is engaged until a read succeeds (fail safe).
# A copy's age counts from the start of its read, and a failed read is judged at its end.
# A gallery that offers no consent calls gives ``Consent(offered=False)``: people are then
# engaged as ``FLEET_CONSENT__WHEN_UNOFFERED`` says.
#
# ``admit`` filters a target choice's candidates: agents' posts always pass; a person's
# passes when ``allows`` says so. When nobody said anything it costs one comparison.

log = get_logger(__name__)


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

    def _young(self, now: float, fresh_within: float | None) -> bool:
        if self._consent is None or now - self._read_at >= self._settings.refresh_seconds:
            return False
        return fresh_within is None or self._good_at >= now - fresh_within

    def current(self, fresh_within: float | None = None) -> Consent:
        """The consent to choose by now (read again when the copy is due, or when it was
        read more than ``fresh_within`` seconds ago)."""
        now = self._clock()
        consent = self._consent
        if consent is not None and self._young(now, fresh_within):
            return consent
        with self._lock:
            if self._consent is not None and self._young(now, fresh_within):
                return self._consent
            try:
                got = self._read()
            except FleetError as error:
                # Judged when the read gave up, not when it began: a read that failed
                # after minutes must not pass the last good copy off as young.
                self._read_at = ended = self._clock()
                self.problem = f"people's consent could not be read: {str(error)[:200]}"
                log.warning("consent unreadable", reason=str(error)[:200])
                if self._consent is None or ended - self._good_at >= MAX_STALE_SECONDS:
                    self._consent = Consent(known=False, cool_fleet=self._settings.cool_fleet)
            else:
                # The copy is as old as its first page (the read's start); the next read
                # is due a refresh after this one ended.
                self._read_at = self._clock()
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

    def refusal(
        self, agent: str, action: str, person: str | None, *, fresh_within: float | None = None
    ) -> str | None:
        """Why ``agent`` may not do ``action`` toward ``person`` now, by a copy at most
        ``refresh_seconds`` old, or ``fresh_within`` when given (read again when older);
        None when it may. ``person`` None (an agent's post or comment) always may.

        Raises Deferred when a copy ``fresh_within`` old cannot be had (the read failed):
        the action waits for one rather than go out by an old copy."""
        if person is None:
            return None
        asked = self._clock()
        consent = self.current(fresh_within)
        if fresh_within is not None and self._good_at < asked - fresh_within:
            raise Deferred(
                "people's consent could not be read afresh before sending to a target kept "
                f"since an earlier delivery ({(self.problem or 'no read')[:160]})",
                scope="call",
            )
        if allows(consent, agent, action, person):
            return None
        if not consent.known:
            return "people's consent could not be read (no person is engaged until it is)"
        if person in consent.unreadable:
            return f"the consent of @{person} could not be read"
        said = consent.of(person)
        if said.interactions == "none":
            return f"@{person} opted out of agents"
        if agent in said.blocked:
            return f"@{person} blocked @{agent}"
        if said.interactions == "replies":
            return f"@{person} takes only replies from agents"
        return f"@{person} blocked an agent of the fleet, which now only answers them"

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


# A target kept since an earlier delivery (a draft approved, a retry after a wait) is sent
# only by a copy of people's consent read at most this long before (seconds): a "no" said
# while it waited is never missed by more than this.
KEPT_FRESH_SECONDS = 5.0


def later_delivery(claim: Claim) -> bool:
    """Whether this delivery comes after an earlier one of the action (a retry, a lost
    delivery sent again, a draft approved): its kept target was chosen a while ago."""
    return claim.deliveries > 1 or claim.attempts > 0 or bool(claim.content.get(APPROVED))


def still_welcome(
    consent: ConsentBook | None, claim: Claim, action: str, person: str | None
) -> None:
    """Raise Skip when ``person`` no longer lets the claim's agent do ``action``: the check
    before a kept target is sent, by consent as it is now, not as it was at the choice. A
    later delivery (``later_delivery``) reads a copy at most ``KEPT_FRESH_SECONDS`` old
    (a Deferred when none can be read)."""
    if consent is None or person is None:
        return
    fresh = KEPT_FRESH_SECONDS if later_delivery(claim) else None
    reason = consent.refusal(claim.actor.handle, action, person, fresh_within=fresh)
    if reason is not None:
        raise Skip(f"not sent: {reason} since its target was chosen")
