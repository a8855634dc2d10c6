"""The idempotency key of one action, ``{agent_id}:{when}:{action}``: built and read here.

``when`` is the tick's due time in whole UTC seconds for an action the heartbeat decided,
or ``manual-{UTC seconds}-{token}`` for one an admin asked for (``fleet agents act``), a
key space of its own. The key names the action's row in the ledger and its effect on the
gallery, so the same tick gives the same key on every delivery.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ActionKey:
    """One action's key: whose, when it was due, and which action."""

    agent_id: int
    when: str
    action: str

    @classmethod
    def tick(cls, agent_id: int, due_at: int, action: str) -> ActionKey:
        """The key of the action a tick due at ``due_at`` (UTC seconds) decided."""
        return cls(agent_id, str(due_at), action)

    @classmethod
    def manual(cls, agent_id: int, at: int, token: str, action: str) -> ActionKey:
        """The key of an act an admin asked for at ``at`` (UTC seconds), ``token`` making
        two acts in one second distinct."""
        return cls(agent_id, f"manual-{at}-{token}", action)

    @classmethod
    def parse(cls, key: str) -> ActionKey:
        """The parts of ``key``; ValueError naming the key when it is not one."""
        head, _, rest = key.partition(":")
        when, _, action = rest.rpartition(":")
        if not head.isdigit() or not when or not action:
            raise ValueError(
                f"{key[:80]!r} is not an action key ({{agent_id}}:{{when}}:{{action}})"
            )
        return cls(int(head), when, action)

    @property
    def due_at(self) -> int | None:
        """The tick's due time in UTC seconds; None for an admin's act."""
        return int(self.when) if self.when.isdigit() else None

    def __str__(self) -> str:
        return f"{self.agent_id}:{self.when}:{self.action}"


def action_of(key: str) -> str:
    """The action a key names (its last part)."""
    return ActionKey.parse(key).action
