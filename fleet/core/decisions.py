"""What a tick decided, as one value (``Decision``): the action's key, which names the
agent, the due second and the action, and the notes the tick tells the action
(``TickNotes``). Made once by the tick's planning (``fleet.agents.deciding.plan_ticks``);
its key leaves as text only for the ledger and the broker's message (``ActionKey.text``)."""

from __future__ import annotations

from dataclasses import dataclass

from fleet.core.kinds import Action, ActionKey
from fleet.core.tick_notes import TickNotes

__all__ = ["Decision"]


@dataclass(frozen=True, slots=True)
class Decision:
    """One tick's decision: the key of the action it decided, and its notes."""

    key: ActionKey[Action]
    notes: TickNotes
