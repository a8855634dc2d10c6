"""Carrying out decided actions, one handler per kind of the registry (``fleet.core.kinds``)."""

from fleet.actions.common import NoBudget, Spending
from fleet.actions.handlers import HANDLERS
from fleet.actions.kit import ActionKit, Event
from fleet.actions.perform import FeedSubject, announce, perform
from fleet.activities.outcomes import Outcome

__all__ = [
    "HANDLERS",
    "ActionKit",
    "Event",
    "FeedSubject",
    "NoBudget",
    "Outcome",
    "Spending",
    "announce",
    "perform",
]
