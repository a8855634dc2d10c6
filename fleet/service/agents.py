"""Use cases on agents: create, start, pause, resume, stop, delete, tick now, act now.

Every face (the CLI, the console, the demo) calls these with a Fleet and plain inputs;
the time is the Fleet's clock, the gallery and the broker are the Fleet's.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from fleet import activities, agents
from fleet.agents import (
    AGENT_STATUSES,
    AgentFilter,
    AgentView,
    Created,
    NewAgents,
    RecordedDecision,
    Selection,
    Transition,
)
from fleet.core.kinds import Action, ActionKey, ActionKind, kind_of
from fleet.core.review import ReviewMode
from fleet.core.tick_notes import TickNotes
from fleet.errors import ConflictError, InputError
from fleet.honesty.use_cases import operator_link
from fleet.infra.link_check import LinkAnswer
from fleet.service.accounts import Provisioned, provision_accounts, without_account
from fleet.service.root import Fleet

if TYPE_CHECKING:
    from fleet.infra.queue import Sender

STATUS_COMMANDS = ("start", "pause", "resume", "stop")

__all__ = [
    "AGENT_STATUSES",
    "STATUS_COMMANDS",
    "Acted",
    "AgentFilter",
    "AgentView",
    "Created",
    "NewAgents",
    "RecordedDecision",
    "ReviewMode",
    "Selection",
    "Started",
    "Transition",
    "act_here",
    "change_status",
    "counts",
    "create",
    "create_and_start",
    "delete",
    "describe",
    "find",
    "get",
    "send_now",
    "start",
    "start_without_accounts",
    "tick_now",
]


def create(fleet: Fleet, new: NewAgents) -> Created:
    """Create the ``new`` agents (under review mode when it says so)."""
    fleet.personas.get(new.persona)
    weights = dict(new.weights) if new.weights is not None else None
    return agents.create_agents(
        fleet.sessions,
        fleet.personas,
        replace(new, weights=weights),
        fleet_seed=fleet.settings.seed,
        now=fleet.clock.now(),
    )


def create_and_start(fleet: Fleet, new: NewAgents) -> tuple[Created, int]:
    """Create the ``new`` agents, then start them. (created, started)"""
    created = create(fleet, new)
    made = Selection(id_range=(created.first_id, created.last_id))
    return created, change_status(fleet, "start", made).changed


def change_status(fleet: Fleet, command: str, selection: Selection) -> Transition:
    """Start, pause, resume or stop the selected agents."""
    if command not in STATUS_COMMANDS:
        raise InputError(f"unknown command {command!r}: one of {', '.join(STATUS_COMMANDS)}")
    return agents.change_status(
        fleet.sessions, fleet.personas, command, selection, now=fleet.clock.now()
    )


@dataclass(frozen=True)
class Started:
    """Agents started, and (when asked) their gallery accounts provisioned."""

    transition: Transition
    accounts: Provisioned | None
    # Whether the operator's link the accounts show opens (None: not checked).
    operator_link: LinkAnswer | None = None


def start(fleet: Fleet, selection: Selection) -> Started:
    """Start agents (each gets its first tick from its clock) and create their gallery
    accounts now."""
    transition = change_status(fleet, "start", selection)
    gallery = fleet.open_gallery()
    try:
        accounts = provision_accounts(
            fleet.sessions, gallery, without_account(fleet.sessions, selection)
        )
    finally:
        if fleet.gallery is None:
            gallery.close()
    # The accounts show the operator's link: does it open? A warning, never a refusal.
    return Started(transition, accounts, operator_link(fleet))


def start_without_accounts(fleet: Fleet, selection: Selection) -> Started:
    """Start agents; each gets its gallery account at its first action."""
    return Started(change_status(fleet, "start", selection), None)


def delete(fleet: Fleet, selection: Selection) -> Transition:
    """Soft-delete the selected agents: they stop for good; history and handles stay."""
    return agents.delete_agents(fleet.sessions, fleet.personas, selection, now=fleet.clock.now())


def find(fleet: Fleet, where: AgentFilter) -> list[AgentView]:
    """A page of agents."""
    return agents.list_agents(fleet.sessions, where)


def get(fleet: Fleet, ref: str) -> AgentView:
    """One agent by id or handle."""
    return agents.get_agent(fleet.sessions, ref)


def describe(fleet: Fleet, agent: AgentView) -> dict[str, Any]:
    """What ``fleet agents show`` adds to an agent: its activity level and rhythm."""
    return agents.activity_of(fleet.personas, agent)


def counts(fleet: Fleet) -> dict[str, dict[str, int]]:
    """Live agents by persona, then status."""
    return agents.agent_counts(fleet.sessions)


def _active(fleet: Fleet, ref: str) -> AgentView:
    agent = agents.get_agent(fleet.sessions, ref)
    if agent.status != "active":
        raise ConflictError(f"agent {agent.handle} is {agent.status}, not active: start it first")
    return agent


def tick_now(fleet: Fleet, ref: str) -> RecordedDecision:
    """Decide the agent's action now, as a tick would, and record it (not sent)."""
    agent = _active(fleet, ref)
    now = fleet.clock.now()
    decisions = agents.decide_ticks(
        fleet.sessions,
        fleet.personas,
        [(agent.id, int(now.timestamp()))],
        now=now,
        lease=timedelta(seconds=fleet.settings.tasks.lease_seconds),
    )
    if not decisions:
        raise ConflictError(f"agent {agent.handle} is no longer active")
    return decisions[0]


@dataclass(frozen=True)
class Acted:
    """An action an admin asked for and how it went: ``sent`` to the workers; run here
    and ended (succeeded, skipped, dead with its dead letter); or, failed here and asked
    for, ``handed-to-workers`` with its next attempt after ``retry_in`` seconds."""

    handle: str
    activity_id: int
    key: ActionKey[Action]
    status: str
    detail: dict[str, Any] | None = None
    reason: str | None = None
    dead_letter_id: int | None = None
    attempts: int = 0
    max_attempts: int = 0
    retry_in: float = 0.0


def _decided_now(
    fleet: Fleet, ref: str, action: str
) -> tuple[ActionKind, ActionKey[Action], partial[Acted]]:
    """The activity of ``action`` for the agent ``ref``, now, under a key of its own (an
    admin's act, ``ActionKey.manual``): the kind, the key, and its ``Acted`` to complete."""
    kind = kind_of(action)
    agent = _active(fleet, ref)
    now = fleet.clock.now()
    due = int(now.timestamp())
    # A key space of its own: two acts in one second do not collide, and a tick due in
    # that second is not taken for one.
    key = ActionKey.manual(agent.id, due, secrets.token_hex(4), kind.action.value)
    activity_id = activities.create_activity(
        fleet.sessions,
        agent.id,
        kind.action.value,
        datetime.fromtimestamp(due, UTC),
        key.text,  # the ledger's column
        now=now,
        lease=timedelta(seconds=fleet.settings.tasks.lease_seconds),
        # No tick asked the LLM budget about it: its handler asks.
        content=TickNotes(budgeted=False).content(),
    )
    return kind, key, partial(Acted, agent.handle, activity_id, key)


def send_now(fleet: Fleet, ref: str, action: str, send: Sender) -> Acted:
    """Make an agent do ``action`` now, sent to the workers through ``send``."""
    _, key, acted = _decided_now(fleet, ref, action)
    send(key)
    return acted("sent")


def act_here(fleet: Fleet, ref: str, action: str, *, retry_on: Sender | None = None) -> Acted:
    """Make an agent do ``action`` now, carried out in this process, where it ends
    whatever happens (a failure is settled as a worker's is: skipped, or dead with a dead
    letter), unless ``retry_on`` is given: then a failure worth retrying is handed to the
    workers through it with the attempts it has left."""
    from fleet.actions import perform
    from fleet.actions.failures import settle
    from fleet.activities.outcomes import AlreadyFinished, Dead, Retry, Skipped

    kind, key, acted = _decided_now(fleet, ref, action)
    kit = fleet.action_kit
    try:
        outcome = perform(kit, key)
    except Exception as error:
        settled = settle(
            kit,
            key,
            kind.task,
            error,
            deferrals=0,
            secrets=fleet.secrets,
            retry=retry_on is not None,
        )
    else:
        return acted(outcome.status, outcome.detail)
    match settled:
        case Retry(countdown=countdown, reason=reason, attempts=attempts):
            assert retry_on is not None  # settle retries only when asked to (retry=True)
            retry_on(key, countdown)
            return acted(
                "handed-to-workers",
                reason=reason,
                attempts=attempts,
                max_attempts=kit.limits.max_attempts,
                retry_in=countdown,
            )
        case Dead(dead_letter_id=letter, reason=reason):
            return acted(settled.status, reason=reason, dead_letter_id=letter)
        case Skipped(reason=reason):
            return acted(settled.status, reason=reason)
        case AlreadyFinished():
            return acted(settled.status, reason="")
