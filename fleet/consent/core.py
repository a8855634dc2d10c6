"""A person's say over the fleet's engagement: pure values and the one rule that reads them.

A person of the gallery chooses how agents may engage with them (``agentInteractions``,
docs/gallery-api.md) and may block single agents:

- ``all``: agents may like, comment, reply and mention them (the default);
- ``replies``: agents answer them when they speak to an agent (a reply to their comment),
  and start nothing themselves: no like, no comment on their posts, no mention;
- ``none``: no agent engages with them at all.

A person who blocked an agent is never engaged by that agent; with ``cool_fleet`` the
rest of the fleet treats them as ``replies`` (it answers them, starts nothing). A person
whose consent could not be read (``unreadable``), or everyone when the whole read failed
on a gallery that offers the calls (``known is False``), is not engaged at all: fail safe.
A gallery that offers no consent calls treats every person as ``unoffered`` says.

``allows(consent, agent, action, person)`` is the rule; ``closed_to`` gives, for one agent
and one action, the set of people it must leave alone (what a target choice filters by);
``said_no(consent, person)`` tells whether a person turned agents away in any way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Interactions = Literal["all", "replies", "none"]
INTERACTIONS: tuple[Interactions, ...] = ("all", "replies", "none")

# The oldest a copy of people's consent may be when an action is chosen by it (seconds):
# the bound the audit counts an action against a person's say after.
MAX_STALE_SECONDS = 600.0

# The actions that answer a person who spoke to the agent; every other action (a like, a
# comment or welcome on their post, a mention) starts an engagement.
ANSWERS = frozenset({"reply"})


@dataclass(frozen=True, slots=True)
class PersonConsent:
    """One person's choice: how agents may engage, and the agents they blocked (handles)."""

    interactions: Interactions = "all"
    blocked: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Consent:
    """What the fleet knows of people's consent at one time.

    ``people``: those who said something (everyone else: ``all``, or ``unoffered`` when the
    gallery offers no consent calls); ``unreadable``: people whose answer could not be read;
    ``known``: False when the read failed as a whole (then no person is engaged);
    ``offered``: whether the gallery offers the calls at all.
    """

    people: Mapping[str, PersonConsent] = field(default_factory=dict)
    unreadable: frozenset[str] = frozenset()
    known: bool = True
    offered: bool = True
    unoffered: Interactions = "replies"
    cool_fleet: bool = True

    def of(self, person: str) -> PersonConsent:
        """The consent of ``person`` (a gallery handle) as the rule reads it."""
        said = self.people.get(person)
        if said is not None:
            return said
        if not self.offered:
            return PersonConsent(self.unoffered)
        return PersonConsent()


# The empty consent: a gallery whose people said nothing.
OPEN = Consent()


def allows(consent: Consent, agent: str, action: str, person: str) -> bool:
    """Whether ``agent`` (its handle) may do ``action`` (like, comment, welcome, mention:
    starting; reply: answering) toward ``person`` (a person's handle)."""
    if not consent.known or person in consent.unreadable:
        return False
    said = consent.of(person)
    if said.interactions == "none":
        return False
    if agent and agent in said.blocked:
        return False
    if said.interactions == "replies" and action not in ANSWERS:
        return False
    if said.blocked and not agent:
        return False  # an agent not known yet may be the blocked one
    # Cooled: a person who blocked one agent is only answered by the rest of the fleet.
    return not (said.blocked and consent.cool_fleet and action not in ANSWERS)


def said_no(consent: Consent, person: str) -> bool:
    """Whether ``person`` turned agents away in any way (opted out of all or of all but
    replies, blocked an agent, or could not be read): such a person is never part of an
    experiment's treated group, and is counted apart."""
    if not consent.known or person in consent.unreadable:
        return True
    said = consent.of(person)
    return said.interactions != "all" or bool(said.blocked)


def closed_to(consent: Consent, agent: str, action: str) -> frozenset[str]:
    """The people (handles) ``agent`` must leave alone for ``action``, among those who said
    something or could not be read. Everyone else is open unless ``consent.known`` is
    False or the gallery offers no calls (then ``open_to_unnamed`` says)."""
    closed = set(consent.unreadable)
    for person in consent.people:
        if not allows(consent, agent, action, person):
            closed.add(person)
    return frozenset(closed)


def open_to_unnamed(consent: Consent, action: str) -> bool:
    """Whether a person who said nothing may be engaged by ``action``."""
    if not consent.known:
        return False
    return allows(consent, "", action, "\x00nobody")
