"""One agent's simulated day (``fleet schedule preview --agent``, the console's agent
page): its sessions, actions and gaps over a local day, from its clock and seed alone.
Pure computation on the persona catalogue; reads only the agent."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fleet.agents import AgentView
from fleet.core.persona import Action
from fleet.core.timeline import simulate
from fleet.errors import InputError
from fleet.service import agents as agent_use
from fleet.service.root import Fleet

# Days a preview may start on: the clock works in epoch seconds, and a preview of four
# weeks from the last of them still fits a datetime.
FIRST_DAY, LAST_DAY = date(1971, 1, 1), date(9000, 12, 31)


def first_day(zone: ZoneInfo, start: str | None, *, field: str = "--start") -> date:
    """The local day ``start`` (YYYY-MM-DD) names; by default today, in ``zone``."""
    if start is None:
        return datetime.now(zone).date()
    return _named_day(start, field)


def first_monday(zone: ZoneInfo, start: str | None, *, field: str = "--start") -> date:
    """The local day ``start`` (YYYY-MM-DD) names; by default this week's Monday, in
    ``zone``."""
    if start is None:
        today = datetime.now(zone).date()
        return today - timedelta(days=today.weekday())
    return _named_day(start, field)


def _named_day(start: str, field: str) -> date:
    """The day ``start`` names, checked; InputError naming ``field`` when it is none."""
    try:
        day = date.fromisoformat(start)
    except ValueError:
        raise InputError(f"{field} {start!r}: expected a date YYYY-MM-DD") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InputError(f"{field} {start!r}: pick a day from {FIRST_DAY} to {LAST_DAY}")
    return day


def day_bounds(zone: ZoneInfo, day: date) -> tuple[float, float]:
    """The epoch seconds a local day starts and ends at."""
    lo = datetime(day.year, day.month, day.day, tzinfo=zone)
    nxt = day + timedelta(days=1)
    hi = datetime(nxt.year, nxt.month, nxt.day, tzinfo=zone)
    return lo.timestamp(), hi.timestamp()


@dataclass(frozen=True)
class AgentDay:
    """An agent's simulated local day: each tick (``ticks``: local time, UTC, session,
    index in it, action or None when quotas are spent, chosen, reason, gap in seconds,
    whether it opens a session), the sizes of its sessions, its actions by kind."""

    agent: AgentView
    timezone: str
    local_date: date
    activity_level: float
    in_sessions: bool
    ticks: list[dict[str, Any]]
    session_sizes: dict[int, int]
    actions: dict[str, int]

    def summary(self) -> dict[str, Any]:
        return {
            "agent": self.agent.id,
            "handle": self.agent.handle,
            "persona": self.agent.persona,
            "timezone": self.timezone,
            "local_date": self.local_date.isoformat(),
            "activity_level": round(self.activity_level, 3),
            "sessions": len(self.session_sizes),
            "actions": self.actions,
        }


def agent_day(
    fleet: Fleet, ref: str, start: str | None = None, *, field: str = "--start"
) -> AgentDay:
    """The simulated day ``start`` (default today, in the agent's zone) of agent ``ref``
    (``field``: what the face calls ``start``, for its errors)."""
    agent = agent_use.get(fleet, ref)
    catalogue = fleet.personas
    persona = catalogue.get(agent.persona)
    zone = ZoneInfo(persona.schedule.timezone)
    day = first_day(zone, start, field=field)
    lo, hi = day_bounds(zone, day)
    rhythm = catalogue.cadences[agent.persona].rhythm(
        agent.seed, interval=agent.interval, activity=agent.activity
    )
    events: list[dict[str, Any]] = []
    previous: float | None = None
    sessions: Counter[int] = Counter()
    for tick in simulate(persona, rhythm, lo, hi):
        sessions[tick.opened] += 1
        events.append(
            {
                "local_time": datetime.fromtimestamp(tick.due, zone).strftime("%H:%M:%S"),
                "utc": datetime.fromtimestamp(tick.due, ZoneInfo("UTC")).isoformat(),
                "session": len(sessions),
                "index": tick.index,
                "action": tick.action.value if tick.action else None,
                "chosen": tick.chosen.value,
                "reason": tick.reason,
                "gap_seconds": None if previous is None else tick.due - previous,
                "opens": rhythm.in_sessions and tick.index == 0,
                "opened": tick.opened,
            }
        )
        previous = tick.due
    kinds = Counter(e["action"] for e in events if e["action"])
    return AgentDay(
        agent=agent,
        timezone=persona.schedule.timezone,
        local_date=day,
        activity_level=rhythm.level,
        in_sessions=rhythm.in_sessions,
        ticks=events,
        session_sizes=dict(sessions),
        actions={a.value: kinds.get(a.value, 0) for a in Action},
    )
