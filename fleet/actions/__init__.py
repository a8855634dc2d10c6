"""Carrying out decided actions, one handler per kind of the registry (``fleet.core.kinds``)."""

from fleet.actions.kit import ActionKit, Event, NoBudget, Spending
from fleet.actions.perform import HANDLERS, Ended, Outcome, announce, perform

__all__ = [
    "HANDLERS",
    "ActionKit",
    "Ended",
    "Event",
    "NoBudget",
    "Outcome",
    "Spending",
    "announce",
    "perform",
]
