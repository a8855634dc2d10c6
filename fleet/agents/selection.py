"""Which agents a command applies to, and parsing a person's reference to one agent."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, or_, select

from fleet.db.models import Agent
from fleet.errors import InputError

_HANDLE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")


def parse_ref(ref: str) -> int | str:
    """An agent id (digits) or handle, or InputError saying why it is neither."""
    text = ref.strip()
    if text.isdigit():
        value = int(text)
        if value < 1 or value >= 2**63:
            raise InputError(f"agent id {ref!r} is out of range")
        return value
    if _HANDLE.match(text):
        return text
    raise InputError(
        f"malformed agent reference {ref!r}: expected a positive id or a handle "
        "(lower-case letters, digits and _)"
    )


@dataclass(frozen=True)
class Selection:
    """Agents named by id or handle, all agents of a persona, or every agent."""

    refs: tuple[str, ...] = ()
    persona: str | None = None
    everyone: bool = False
    id_range: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        chosen = sum(
            [bool(self.refs), self.persona is not None, self.everyone, self.id_range is not None]
        )
        if chosen != 1:
            raise InputError("name agents by id or handle, or give --persona SLUG, or --all")
        for ref in self.refs:
            parse_ref(ref)

    def statement(self) -> Select[Agent]:
        """Live (not deleted) agents of this selection."""
        query = select(Agent).where(Agent.deleted_at.is_(None))
        if self.persona is not None:
            return query.where(Agent.persona == self.persona)
        if self.id_range is not None:
            return query.where(Agent.id.between(*self.id_range))
        if self.refs:
            refs = [parse_ref(ref) for ref in self.refs]
            ids = [ref for ref in refs if isinstance(ref, int)]
            handles = [ref for ref in refs if isinstance(ref, str)]
            return query.where(or_(Agent.id.in_(ids), Agent.handle.in_(handles)))
        return query

    def missing(self, found: Sequence[Any]) -> list[str]:
        """The refs that matched no live agent."""
        ids = {agent.id for agent in found}
        handles = {agent.handle for agent in found}
        out = []
        for ref in self.refs:
            parsed = parse_ref(ref)
            if parsed not in (ids if isinstance(parsed, int) else handles):
                out.append(ref)
        return out
