"""A check of the honesty audit: a function from what it reads (``Scope``) to one ``Finding``.

Each check returns one named ``Finding``: ``ok``, ``short`` (the fleet falls short) or
``unavailable`` (the check could not run: said, never counted as passing or failing).
The checks share the reads of their ``Scope``, each bounded (``MAX_ACTIONS`` ledger rows,
``MAX_READS`` gallery reads).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from fleet import activities
from fleet.activities import ActivityFilter, ActivityView
from fleet.core.statuses import ActivityStatus
from fleet.errors import FleetError
from fleet.gallery.consent import ConsentRead, ReadsConsent
from fleet.gallery.port import Gallery
from fleet.service.root import Fleet

Status = Literal["ok", "short", "unavailable"]

# The most ledger rows and gallery reads one audit makes (a bounded audit, said if cut).
MAX_ACTIONS = 200_000
MAX_READS = 5_000
PAGE = 1_000


@dataclass(frozen=True)
class Finding:
    """One check's answer: its name, a verdict and a line a person reads, with figures."""

    name: str
    status: Status
    summary: str
    figures: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "summary": self.summary,
            "figures": self.figures,
        }


@dataclass
class Scope:
    """What the checks read: the fleet, its gallery, the window, and reads they share."""

    fleet: Fleet
    gallery: Gallery
    since: datetime
    now: datetime
    _consent: ConsentRead | FleetError | None = None
    # What one check found for a later one (``labelled`` -> ``bot_flag``).
    notes: dict[str, Any] = field(default_factory=dict)

    def consent(self) -> ConsentRead:
        """The gallery's consent list, read once for every check (raises FleetError)."""
        if self._consent is None:
            if not isinstance(self.gallery, ReadsConsent):
                self._consent = FleetError("the gallery client cannot read people's consent")
            else:
                try:
                    self._consent = self.gallery.agent_consent()
                except FleetError as error:
                    self._consent = error
        if isinstance(self._consent, FleetError):
            raise self._consent
        return self._consent

    def actions(self, kinds: tuple[str, ...]) -> Iterator[ActivityView]:
        """Succeeded actions of these kinds in the window, newest first (bounded)."""
        seen = 0
        for kind in kinds:
            before: int | None = None
            while seen < MAX_ACTIONS:
                where = ActivityFilter(
                    None, kind, ActivityStatus.SUCCEEDED, self.since, PAGE, None, before
                )
                page = activities.list_activities(self.fleet.sessions, where)
                yield from page
                seen += len(page)
                if len(page) < PAGE:
                    break
                before = page[-1].id


Check = Callable[[Scope], Finding]
