"""Agents' accounts on the gallery: provisioned once, their platform user id kept."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from fleet.agents.selection import Selection
from fleet.db.models import Agent
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
    with sessions() as session:
        rows = list(
            session.execute(
                select(Agent.id, Agent.handle, Agent.display_name, Agent.persona).where(
                    Agent.id.in_(agent_ids), Agent.platform_user_id.is_(None)
                )
            )
        )
    created = existing = 0
    failed: dict[str, str] = {}
    for row in rows:
        try:
            user = gallery.provision_user(
                handle=row.handle, name=row.display_name, persona=row.persona
            )
        except FleetError as exc:
            failed[row.handle] = str(exc)
            continue
        with sessions.begin() as session:
            session.execute(
                update(Agent).where(Agent.id == row.id).values(platform_user_id=user.id)
            )
        created += user.created
        existing += not user.created
    return Provisioned(created, existing + (len(agent_ids) - len(rows)), failed)


def without_account(sessions: sessionmaker[Session], selection: Selection) -> list[int]:
    """Active agents of the selection that have no gallery account yet."""
    statement = (
        selection.statement()
        .with_only_columns(Agent.id)
        .where(Agent.status == "active", Agent.platform_user_id.is_(None))
    )
    with sessions() as session:
        return list(session.scalars(statement))
