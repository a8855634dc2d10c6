"""The daily quotas: what an agent may still do on its persona's local day."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fleet.core.kinds import FALLBACK_ORDER
from fleet.core.persona import Action, Quotas

# Local days whose counts an agent keeps: a tick decided late, after midnight has passed
# for a later one, still counts against its own day.
KEPT_DAYS = 3


def kept_days(stored: Mapping[str, Any] | None) -> dict[str, dict[str, int]]:
    """What an agent's row keeps, read once: each local day's (``YYYY-MM-DD``) counts by
    kind, numbers only, in fresh dicts a decision may count into."""
    days: dict[str, dict[str, int]] = {}
    for day, counts in (stored or {}).items():
        if isinstance(counts, dict):
            days[day] = {k: int(n) for k, n in counts.items() if isinstance(n, int | float)}
    return days


def within_quota(
    action: Action, counts: Mapping[str, int], quotas: Quotas
) -> tuple[Action | None, str | None]:
    """The action the agent may still do today: the chosen one, or the next kind in
    ``FALLBACK_ORDER`` that is under its quota; None when every kind from it is spent.
    The reason says which quota turned it."""
    limit = quotas.by_action[action]
    if limit is None or counts.get(action.value, 0) < limit:
        return action, None
    reason = f"daily quota: {limit} {action.value}(s) already today"
    for candidate in FALLBACK_ORDER[FALLBACK_ORDER.index(action) + 1 :]:
        cap = quotas.by_action[candidate]
        if cap is None or counts.get(candidate.value, 0) < cap:
            return candidate, reason
    return None, reason


def local_day(zone: ZoneInfo, epoch: float) -> str:
    """The persona's local date of an instant, ``YYYY-MM-DD``: the day quotas count in."""
    return datetime.fromtimestamp(epoch, zone).date().isoformat()


# The share of the daily reply quota kept for people's comments (``DayQuotaBook.decide``).
PEOPLE_REPLIES_KEPT = 0.3


@dataclass
class DayQuotaBook:
    """Counts of decided actions per local day, kept as the agents table keeps them."""

    quotas: Quotas
    zone: ZoneInfo
    stored: dict[str, Any] = field(default_factory=dict)

    def decide(
        self, epoch: float, chosen: Action, *, for_people: bool = False, owed: bool = False
    ) -> tuple[Action | None, str | None]:
        """The action the quotas let the agent do, and why another if so. A reply of its
        own accord (not ``for_people``: no person's comment called it) may take the reply
        quota less ``PEOPLE_REPLIES_KEPT`` of it (7 of 10): the rest is kept for the people
        who write to it (why: docs/tuning.md).

        ``owed``: a truthful answer a person asked for (what the agent is, who runs it):
        counted, never refused, whatever the quotas say (issue 48)."""
        day = local_day(self.zone, epoch)
        # The row's days read once: today's counts checked, then counted into (one pass).
        days = kept_days(self.stored)
        counts = days.get(day, {})
        action: Action | None = chosen
        reason = None
        if not owed:
            own = None
            limit = None
            if chosen is Action.REPLY and not for_people:  # the reply quota's share of its own
                limit = self.quotas.by_action[Action.REPLY]
            if limit is not None:
                kept = math.ceil(PEOPLE_REPLIES_KEPT * limit)
                if kept and counts.get(Action.REPLY.value, 0) >= limit - kept:
                    # Its own share is spent: the reply falls as one past the quota does.
                    own = f"daily quota: {limit - kept} reply(s) of its own, {kept} kept for people"
                    counts = {**counts, Action.REPLY.value: limit}
            action, reason = within_quota(chosen, counts, self.quotas)
            reason = own or reason
        if action is not None:
            today = days.setdefault(day, {})
            today[action.value] = today.get(action.value, 0) + 1
            # The newest days only: a tick decided late still counts on its own day.
            self.stored = dict(sorted(days.items())[-KEPT_DAYS:])
        return action, reason
