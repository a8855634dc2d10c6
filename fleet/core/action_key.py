"""The idempotency key of one action, ``{agent_id}:{when}:{action}``: built and read here.

``when`` is the tick's due time in whole UTC seconds for an action the heartbeat decided,
or ``manual-{UTC seconds}-{token}`` for one an admin asked for (``fleet agents act``), a
key space of its own. The key names the action's row in the ledger and its effect on the
gallery, so the same tick gives the same key on every delivery.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Literal, TypeGuard, TypeVar

from fleet.core.kinds import Action

A = TypeVar("A", bound=Action, covariant=True)


@dataclass(frozen=True, slots=True)
class ActionKey(Generic[A]):
    """One action's key: whose, when it was due, and which action (``ActionKey[Literal[
    Action.LIKE]]``, ``LikeKey``: a like's). Parsed from its string once, where a task
    takes it; the string is what the ledger, the gallery and the broker's messages hold."""

    agent_id: int
    when: str
    action: A

    @staticmethod
    def tick(agent_id: int, due_at: int, action: str) -> ActionKey[Action]:
        """The key of the action a tick due at ``due_at`` (UTC seconds) decided."""
        return ActionKey(agent_id, str(due_at), Action(action))

    @staticmethod
    def manual(agent_id: int, at: int, token: str, action: str) -> ActionKey[Action]:
        """The key of an act an admin asked for at ``at`` (UTC seconds), ``token`` making
        two acts in one second distinct."""
        return ActionKey(agent_id, f"manual-{at}-{token}", Action(action))

    @staticmethod
    def parse(key: str) -> ActionKey[Action]:
        """The parts of ``key``; ValueError naming the key when it is not one (its action
        one of the registry's, ``fleet.core.kinds``)."""
        head, _, rest = key.partition(":")
        when, _, action = rest.rpartition(":")
        if not head.isdigit() or not when or action not in _ACTIONS:
            raise ValueError(
                f"{key[:80]!r} is not an action key ({{agent_id}}:{{when}}:{{action}})"
            )
        return ActionKey(int(head), when, Action(action))

    @property
    def due_at(self) -> int | None:
        """The tick's due time in UTC seconds; None for an admin's act."""
        return int(self.when) if self.when.isdigit() else None

    def __str__(self) -> str:
        return f"{self.agent_id}:{self.when}:{self.action.value}"


_ACTIONS = frozenset(action.value for action in Action)

# A like's key: what a like's target choice takes.
LikeKey = ActionKey[Literal[Action.LIKE]]


def is_like(key: ActionKey[Action]) -> TypeGuard[LikeKey]:
    """Whether ``key`` is a like's (then typed as one)."""
    return key.action is Action.LIKE


def action_of(key: str) -> Action:
    """The action a key names (its last part)."""
    return ActionKey.parse(key).action
