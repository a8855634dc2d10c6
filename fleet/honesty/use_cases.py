"""Honesty's use cases (issue 48): questions about what an agent is, found and answered,
and the audit's two counts.

``scan_identity_questions`` reads the comments where people wait on an agent and keeps
those that ask what it is (``fleet.honesty.questions``, which listens to the pace
task's reading): the agent then owes a truthful answer.
``human_claims`` runs the guard's check of a claim to be human (words, then meaning:
``Fleet.claim_check``) over every text the fleet published; ``identity_answers`` counts
the questions asked, those answered truthfully (the answer says the account is automated,
names the operator, and claims nothing human by the stricter check) and how soon.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from fleet.content.guard.guard import readable
from fleet.gallery.port import GalleryPost
from fleet.honesty import ledger as identity
from fleet.honesty.human_claim import human_claim
from fleet.infra.link_check import LinkAnswer, check_link
from fleet.infra.logs import get_logger
from fleet.service.root import Fleet

log = get_logger(__name__)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def scan_identity_questions(fleet: Fleet, waiting: Sequence[GalleryPost]) -> int:
    """Read the comments on these agents' posts (where people wait: ``fleet.service.pace.
    waiting_posts``), keep people's unanswered comments that ask the post's author what
    it is (``fleet.honesty.questions``, the pace's listener). How many questions
    were new."""
    return fleet.identity_questions.scan(waiting)


@dataclass(frozen=True, slots=True)
class HumanClaim:
    """A published text that claims to be human: who, which action, the words."""

    agent: str
    action: str
    activity_id: int
    words: str


@dataclass(frozen=True, slots=True)
class HumanClaims:
    """The fleet's published texts read for a claim to be human."""

    checked: int
    claims: list[HumanClaim] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.claims)


def human_claims(fleet: Fleet, *, since: datetime = EPOCH) -> HumanClaims:
    """Every text the fleet published since ``since``, read by the guard's check of a
    claim to be human (``fleet.honesty.claims``: the words in many languages with
    disguises undone, then the meaning)."""
    check = fleet.claim_check
    checked = 0
    claims = []
    for text in identity.published_texts(fleet.sessions, since=since):
        checked += 1
        words = human_claim(readable(text.text)) or check.claim(text.text)
        if words is not None:
            claims.append(HumanClaim(text.agent, text.action, text.activity_id, words))
    return HumanClaims(checked, claims)


@dataclass(frozen=True, slots=True)
class IdentityAnswers:
    """Questions about what an agent is, and their answers: how many were asked, how
    many answered, how many of those truthfully (automated, the operator named, no claim
    to be human), and the minutes from the question to its answer."""

    asked: int
    answered: int
    truthful: int
    median_minutes: float | None
    max_minutes: float | None
    # Questions owed and still unanswered, the oldest first: (agent, asked at).
    waiting: list[tuple[str, datetime]] = field(default_factory=list)
    # Questions closed without an answer owed, per reason (``fleet.core.answering.Closed``:
    # the asker said no, asked the agent before, or the agent's day's cap was reached).
    closed: dict[str, int] = field(default_factory=dict)


def identity_answers(fleet: Fleet, *, since: datetime = EPOCH) -> IdentityAnswers:
    """The questions asked since ``since`` and their answers (``IdentityAnswers``)."""
    operator = fleet.settings.disclosure.operator_name
    rows = identity.answers(fleet.sessions, since=since)
    done = [r for r in rows if r.answered_at is not None]
    minutes = [
        max(0.0, (r.answered_at - r.asked_at).total_seconds() / 60)
        for r in done
        if r.answered_at is not None
    ]
    check = fleet.claim_check
    truthful = sum(1 for r in done if r.text is not None and check.discloses(r.text, operator))
    return IdentityAnswers(
        asked=len(rows),
        answered=len(done),
        truthful=truthful,
        median_minutes=statistics.median(minutes) if minutes else None,
        max_minutes=max(minutes) if minutes else None,
        waiting=[(r.agent, r.asked_at) for r in rows if r.answered_at is None and not r.closed],
        closed=dict(Counter(r.closed for r in rows if r.closed and r.answered_at is None)),
    )


# How long the operator's page may take to answer a GET (connect, headers, body).
OPERATOR_LINK_SECONDS = 5.0


def operator_link(fleet: Fleet, *, seconds: float = OPERATOR_LINK_SECONDS) -> LinkAnswer:
    """Whether the operator's link every agent account shows
    (``FLEET_DISCLOSURE__OPERATOR_URL``) opens: one bounded GET. Nothing stops for a link
    that does not: ``fleet agents start`` and ``fleet status`` warn, ``fleet audit``
    falls short (the caller says it; nothing is logged here, where a CLI's output is
    JSON)."""
    return check_link(str(fleet.settings.disclosure.operator_url), seconds=seconds)
