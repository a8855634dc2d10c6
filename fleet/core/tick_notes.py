"""What a tick tells the action it decided, read by attribute (``TickNotes``).

The tick writes its notes on the activity it records (the ``content`` column, beside
what the action later keeps there: its text, its image, its answer), in the shape
``content`` gives; the claim reads them back once with ``of``. The stored shape is the
one the activities always held: only the notes that say something, by these names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from types import MappingProxyType
from typing import Any

from fleet.core.kinds import Action

__all__ = ["NOTE_NAMES", "NO_NOTES", "TickNotes"]

NOTE_NAMES = (
    "notifications",
    "identity",
    "degraded_from",
    "degraded",
    "quota",
    "thinks",
    "budgeted",
    "session",
    "says",
)


_NOTHING: dict[str, int] = {}


@dataclass(frozen=True, slots=True)
class TickNotes:
    """What the tick decided beside its action, for the action's handler to read.

    ``notifications``: the session's look at its notifications (people first);
    ``identity``: a person asked what the agent is, and this reply answers truthfully;
    ``degraded_from``: the action first drawn, when the budget or a quota turned it;
    ``degraded``: why the budget turned it; ``quota``: which daily quota turned it;
    ``thinks``: whether a look asks the writer for a thought (only a speaking
    session's opening look does); ``session``: the opening second of the session the
    action belongs to; ``says``: what a speaking session holds as drawn, by kind, at
    its opening (its plan is written for them); ``budgeted``: whether the tick asked the
    LLM budget about this action and the budget let it be (the handler need not ask
    again, ``fleet.actions.common.refuse_if_over_budget``). Like ``thinks`` it is kept
    only when False: a tick whose action calls the LLM unasked (an owed truthful
    answer) and an admin's act, which no tick decided (``fleet.service.agents``), say
    so, and their handler asks."""

    notifications: bool = False
    identity: bool = False
    degraded_from: Action | None = None
    degraded: str | None = None
    quota: str | None = None
    thinks: bool = True
    budgeted: bool = True
    session: int | None = None
    # Every note that says nothing shares one read-only empty mapping.
    says: Mapping[str, int] = field(default_factory=partial(MappingProxyType, _NOTHING))

    def content(self) -> dict[str, Any]:
        """The notes as the activity's ``content`` holds them: only those that say
        something (``of`` reads them back)."""
        out: dict[str, Any] = {}
        if self.notifications:
            out["notifications"] = True
        if self.identity:
            out["identity"] = True
        if self.degraded_from is not None:
            out["degraded_from"] = self.degraded_from.value
        if self.degraded is not None:
            out["degraded"] = self.degraded
        if self.quota is not None:
            out["quota"] = self.quota
        if not self.thinks:
            out["thinks"] = False
        if not self.budgeted:
            out["budgeted"] = False
        if self.session is not None:
            out["session"] = self.session
        if self.says:
            out["says"] = dict(self.says)
        return out

    @staticmethod
    def of(content: Mapping[str, Any]) -> TickNotes:
        """The notes in an activity's ``content`` (its other keys are the action's own);
        a ValueError naming the note and what it holds when one is not what a tick
        writes."""
        notifications = content.get("notifications", False)
        if not isinstance(notifications, bool):
            raise _wrong("notifications", notifications, "a boolean")
        # A truthful reply keeps its answer under the same name once written (a mapping).
        identity = content.get("identity")
        if identity is not None and not isinstance(identity, bool | dict):
            raise _wrong("identity", identity, "true, or the answer written")
        drawn = content.get("degraded_from")
        if drawn is not None and drawn not in Action._value2member_map_:
            raise _wrong("degraded_from", drawn, "an action of the registry")
        thinks = content.get("thinks", True)
        if not isinstance(thinks, bool):
            raise _wrong("thinks", thinks, "a boolean")
        budgeted = content.get("budgeted", True)
        if not isinstance(budgeted, bool):
            raise _wrong("budgeted", budgeted, "a boolean")
        session = content.get("session")
        if session is not None and (isinstance(session, bool) or not isinstance(session, int)):
            raise _wrong("session", session, "the session's opening second (an integer)")
        degraded, quota = content.get("degraded"), content.get("quota")
        for name, text in (("degraded", degraded), ("quota", quota)):
            if text is not None and not isinstance(text, str):
                raise _wrong(name, text, "a text")
        says = content.get("says") or {}
        if not isinstance(says, dict):
            raise _wrong("says", says, "counts of actions by kind")
        counts: dict[str, int] = {}
        for kind, count in says.items():
            if not isinstance(kind, str) or not isinstance(count, int) or isinstance(count, bool):
                raise _wrong("says", says, "counts of actions by kind")
            if count > 0:
                counts[kind] = count
        return TickNotes(
            notifications=notifications,
            identity=bool(identity),
            degraded_from=None if drawn is None else Action(drawn),
            degraded=degraded,
            quota=quota,
            thinks=thinks,
            budgeted=budgeted,
            session=session,
            says=MappingProxyType(counts),
        )


def _wrong(name: str, value: object, wanted: str) -> ValueError:
    return ValueError(f"tick note {name!r} holds {value!r:.80}, not {wanted}")


# The notes of a tick that decided nothing beside its action (every like's, most
# actions'): one shared value. Its ``content`` is empty, so the tick writes no content
# for it and the claim reads none back (``TickNotes.of`` of an empty content gives it).
NO_NOTES = TickNotes()
