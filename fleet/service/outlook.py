"""When the fleet acts next, and why not now: the line a quiet fleet prints instead of
silence (``fleet run``, the dispatcher's once-a-minute note, ``fleet status``).

An agent is asleep when its persona's activity clock stands at zero at this instant in
its timezone (its dormant hours); an active agent that is awake but not due is between
sessions.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from fleet import agents
from fleet.service.root import Fleet


@dataclass(frozen=True)
class Outlook:
    """The active agents at ``at``: how many are due, asleep, and the next one due."""

    at: datetime
    active: int
    due: int
    asleep: int
    next_at: datetime | None = None
    next_handle: str | None = None
    next_persona: str | None = None
    next_local: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        for name in ("at", "next_at"):
            value = out[name]
            out[name] = None if value is None else value.isoformat()
        return out

    def line(self) -> str:
        """The outlook in one sentence a person reads."""
        if self.active == 0:
            return (
                "no active agent: nothing will act (fleet agents create --persona SLUG "
                "--start, or fleet agents start --all)"
            )
        asleep = f"{self.asleep} of {self.active} active agents asleep in their timezones"
        if self.due:
            return f"{self.due} agent(s) due now; {asleep}"
        assert self.next_at is not None
        wait = max(0.0, (self.next_at - self.at).total_seconds())
        within = f"{wait:.0f} s" if wait < 120 else f"{wait / 60:.0f} min"
        if wait >= 7200:
            within = f"{wait / 3600:.1f} h"
        return (
            f"next agent due at {self.next_at:%H:%M} UTC (in {within}): @{self.next_handle} "
            f"({self.next_persona}, {self.next_local} local); {asleep}"
        )


def outlook(fleet: Fleet, now: datetime | None = None) -> Outlook:
    """Read every active agent's next tick (one indexed read) and each persona's clock."""
    now = now or fleet.clock.now()
    rows = agents.active_next_ticks(fleet.sessions)
    awake: dict[str, bool] = {}
    asleep = due = 0
    for persona, _handle, _at in rows:
        if persona not in awake:
            try:
                awake[persona] = fleet.personas.clock(persona).multiplier(now) > 0
            except Exception:  # a persona file removed since: not counted as asleep
                awake[persona] = True
        asleep += not awake[persona]
    due = sum(1 for _p, _h, at in rows if _aware(at) <= now)
    if not rows:
        return Outlook(now, 0, 0, 0)
    persona, handle, at = rows[0]
    try:
        local = f"{_aware(at).astimezone(fleet.personas.zone(persona)):%H:%M}"
    except Exception:
        local = "?"
    return Outlook(now, len(rows), due, asleep, _aware(at), handle, persona, local)


def _aware(at: datetime) -> datetime:
    # SQLite hands back naive datetimes; every time the fleet stores is UTC.
    from datetime import UTC

    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
