"""Agents' accounts on the gallery: provisioned once, their platform user id kept."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from fleet import agents
from fleet.agents import Selection
from fleet.errors import FleetError
from fleet.gallery.port import Gallery


@dataclass(frozen=True)
class Provisioned:
    """How provisioning went: new accounts, existing ones, and failures with their reason."""

    created: int
    existing: int
    failed: dict[str, str]


def provision_accounts(
    sessions: sessionmaker[Session], gallery: Gallery, agent_ids: list[int]
) -> Provisioned:
    """Make sure each agent has its gallery account; agents that have one are left alone.

    The gallery call is outside any transaction; the id is stored afterwards. The invite
    is idempotent on the gallery, so a retry after a failure never makes a second user.
    """
    rows = agents.without_account(sessions, agent_ids)
    created = existing = 0
    failed: dict[str, str] = {}
    for agent_id, handle, name, persona in rows:
        try:
            user = gallery.provision_user(handle=handle, name=name, persona=persona)
        except FleetError as exc:
            failed[handle] = str(exc)
            continue
        agents.set_platform_user(sessions, agent_id, user.id)
        created += user.created
        existing += not user.created
    return Provisioned(created, existing + (len(agent_ids) - len(rows)), failed)


def without_account(sessions: sessionmaker[Session], selection: Selection) -> list[int]:
    """Active agents of the selection that have no gallery account yet."""
    return agents.active_without_account(sessions, selection)
