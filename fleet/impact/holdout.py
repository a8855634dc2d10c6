"""The newcomer holdout: who agents never single out. Pure.

When Fleet first sees a person (their first post it reads on the gallery), they are
assigned to an arm of the running experiment, ``treated`` or ``holdout``, by a hash of
the gallery's user id and the experiment's name (``arm``): the same person lands in the
same arm in every process and on every replay, and a new experiment's name draws anew.
The assignment is recorded once (``fleet.impact.records``); a share changed later
never moves a person already assigned.

A held-out person gets no like, comment, reply or mention from an agent for the
holdout's days (``Spared``), but for what honesty owes them: a question about what an
agent is gets its truthful answer whatever the arm (``fleet.core.answering``), recorded
as an exposure of the arm; agents still post as usual, so they see the same living
gallery, only nobody singles them out. A person who opted out of agent engagement is
never engaged either, and the report counts them apart (``Spared.opted_out``).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Literal

Arm = Literal["treated", "holdout"]
ARMS: tuple[Arm, ...] = ("treated", "holdout")
# An experiment's name: a short identifier (it is shown, stored and hashed).
EXPERIMENT_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
MAX_SHARE = 0.5


def check_experiment(name: str) -> str:
    """``name`` if it is a short identifier (a lower-case letter, then up to 31 of
    lower-case letters, digits, ``_`` or ``-``); else ValueError naming it."""
    if not isinstance(name, str) or not EXPERIMENT_NAME.fullmatch(name):
        shown = repr(name)[:40]
        raise ValueError(
            f"experiment name {shown} is not a short identifier "
            "(a lower-case letter, then up to 31 of a-z, 0-9, '_' or '-')"
        )
    return name


def check_share(share: float) -> float:
    """``share`` if it is a finite number in [0, 0.5]; else ValueError."""
    if not (isinstance(share, int | float) and math.isfinite(share) and 0 <= share <= MAX_SHARE):
        raise ValueError(f"holdout share must be a finite number in [0, 0.5], not {share!r}")
    return float(share)


@lru_cache(maxsize=65_536)
def draw(user_id: str, experiment: str) -> float:
    """A number in [0, 1), uniform over people, the same in every process for the same
    person and experiment (blake2b, not ``hash()``: str hashes are salted per process)."""
    digest = hashlib.blake2b(f"{experiment}\x00{user_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def arm(user_id: str, experiment: str, share: float) -> Arm:
    """The arm a person newly seen joins: ``holdout`` with probability ``share``."""
    return "holdout" if share > 0 and draw(user_id, experiment) < share else "treated"


@dataclass(frozen=True, slots=True)
class Assignment:
    """One person's arm in one experiment, as recorded when Fleet first saw them."""

    user_id: str
    username: str
    experiment: str
    arm: Arm
    share: float
    first_seen: datetime


def newly_assigned(
    people: Mapping[str, tuple[str, datetime]],
    known: Collection[str],
    *,
    experiment: str,
    share: float,
) -> list[Assignment]:
    """The assignments of the people in ``people`` (user id -> (username, first seen))
    that ``known`` (the user ids already assigned in ``experiment``) does not hold."""
    return [
        Assignment(user_id, username, experiment, arm(user_id, experiment, share), share, seen)
        for user_id, (username, seen) in sorted(people.items())
        if user_id not in known
    ]


@dataclass(frozen=True, slots=True)
class Spared:
    """Whom agents leave alone now: the people recorded in the holdout whose holdout has
    not ended (``held``), anyone not yet recorded whom the hash puts in the holdout (they
    are new: their first post waits for the next reading to be recorded, and would be
    recorded in the same arm), and everyone who opted out (``opted_out``).

    ``known``: the user ids recorded in the experiment in either arm (a recorded person's
    arm is the record's, whatever the share says now)."""

    experiment: str
    share: float
    held: frozenset[str] = frozenset()
    known: frozenset[str] = frozenset()
    opted_out: frozenset[str] = frozenset()
    # A share of 0 with no one recorded in the holdout spares nobody but the opted out.
    _active: bool = field(init=False, default=True)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_active", self.share > 0 or bool(self.held))

    def said_no(self, user_id: str) -> bool:
        """Whether this person opted out of agent engagement (whatever their arm): no duty
        to answer them outranks their no."""
        return user_id in self.opted_out

    def spares(self, user_id: str) -> bool:
        """Whether no agent may like, comment on, reply to or mention this person."""
        if user_id in self.opted_out:
            return True
        if not self._active or not user_id:
            return False
        if user_id in self.held:
            return True
        if user_id in self.known:
            return False
        return draw(user_id, self.experiment) < self.share  # ``arm``, inlined: per candidate


def held_now(assignments: Collection[Assignment], *, now: datetime, days: int) -> frozenset[str]:
    """The user ids of the held-out people whose holdout (``days`` from their first
    seen) has not ended at ``now``."""
    horizon = timedelta(days=days)
    return frozenset(
        a.user_id for a in assignments if a.arm == "holdout" and now - a.first_seen < horizon
    )


@dataclass(frozen=True, slots=True)
class Person:
    """What the gallery showed of one assigned person."""

    assignment: Assignment
    # When each of their posts and comments was seen made (their first action first).
    posts: tuple[datetime, ...] = ()
    comments: tuple[datetime, ...] = ()
    # The first like or comment of an agent on their first post (None: none seen).
    first_response: datetime | None = None
    # When their first follower was seen: an agent's follow (the ledger's time) or a
    # person's (first seen by the pace task's reading of their followers); None: none.
    first_follower: datetime | None = None

    @property
    def first_action(self) -> datetime:
        times = [*self.posts, *self.comments]
        return min(times) if times else self.assignment.first_seen


@dataclass(frozen=True, slots=True)
class Touch:
    """An agent's action toward a held-out person during their holdout, by the ledger:
    who, which action, and its target (a post, a comment or the person's account) as
    the gallery names it, with the person it belongs to."""

    agent: str
    action: str
    target_kind: str
    target_id: str
    user_id: str
    username: str
    at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "action": self.action,
            "target": {"kind": self.target_kind, "id": self.target_id},
            "person": {"user_id": self.user_id, "username": self.username},
            "at": self.at.isoformat(),
        }
