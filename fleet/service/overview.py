"""What the fleet looks like at a glance: agents and ticks per persona, actions per kind
and status, dead letters (the demo's live view, the console's overview)."""

from __future__ import annotations

from dataclasses import dataclass

from fleet import activities, agents
from fleet.service.root import Fleet


@dataclass(frozen=True)
class Overview:
    """Per persona (agents, ticks); per persona, kind and status, activities; dead letters."""

    personas: dict[str, tuple[int, int]]
    outcomes: dict[str, dict[str, dict[str, int]]]
    dead_letters: int

    def by_kind(self) -> dict[str, dict[str, int]]:
        """Activities per kind, then status, over all personas."""
        out: dict[str, dict[str, int]] = {}
        for kinds in self.outcomes.values():
            for kind, statuses in kinds.items():
                for status, count in statuses.items():
                    row = out.setdefault(kind, {})
                    row[status] = row.get(status, 0) + count
        return out


def overview(fleet: Fleet) -> Overview:
    """The fleet now, in three reads."""
    return Overview(
        agents.persona_totals(fleet.sessions),
        activities.outcome_totals(fleet.sessions),
        activities.dead_letter_count(fleet.sessions),
    )
