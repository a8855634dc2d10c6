"""Review mode of agents: whose posts, comments and replies wait as drafts for an owner."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from fleet.agents.commands import _selected
from fleet.agents.selection import Selection
from fleet.agents.views import Transition
from fleet.core.review import ReviewMode
from fleet.db.models import Agent
from fleet.infra.persona_files import PersonaCatalogue


def set_review(
    sessions: sessionmaker[Session],
    catalogue: PersonaCatalogue,
    selection: Selection,
    mode: ReviewMode,
    *,
    now: datetime,
) -> Transition:
    """Put the selected live agents under review (``ReviewMode.ON``) or take them out of
    it. An action already waiting as a draft waits for its decision either way."""
    on = mode is ReviewMode.ON
    with sessions.begin() as session:
        found = _selected(session, catalogue, selection)
        ids = [agent.id for agent in found]
        changed = 0
        if ids:
            changed = len(
                session.execute(
                    update(Agent)
                    .where(Agent.id.in_(ids), Agent.review.is_not(on))
                    .values(review=on, updated_at=now)
                    .returning(Agent.id)
                ).all()
            )
    return Transition(f"review {mode}", changed, len(ids) - changed)
