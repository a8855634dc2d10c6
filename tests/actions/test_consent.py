"""A process's copy of people's consent (fleet.actions.choosing): bounded staleness, fail safe."""

from __future__ import annotations

from fleet.consent.book import ConsentBook
from fleet.consent.core import MAX_STALE_SECONDS, PersonConsent
from fleet.core.taste import Candidate
from fleet.errors import TransientError
from fleet.gallery.consent import ConsentRead
from fleet.settings import ConsentSettings


class Reads:
    def __init__(self) -> None:
        self.answer: ConsentRead | Exception = ConsentRead({}, frozenset())
        self.calls = 0

    def __call__(self) -> ConsentRead:
        self.calls += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def _post(author: str, agent: bool = False) -> Candidate:
    return Candidate(f"p-{author}", author, agent)


def _book(reads: Reads, clock: list[float]) -> ConsentBook:
    return ConsentBook(reads, ConsentSettings(refresh_seconds=120), clock=lambda: clock[0])


def person(c: Candidate) -> str | None:
    return None if c.author_is_agent else c.author


def test_reads_again_after_the_refresh_and_filters_targets() -> None:
    reads, clock = Reads(), [0.0]
    book = _book(reads, clock)
    page = [_post("ana"), _post("ben"), _post("bot_b", agent=True)]
    assert list(book.admit(page, "bot_a", "like", person)) == page
    reads.answer = ConsentRead({"ana": PersonConsent("none")}, frozenset())
    clock[0] = 60.0
    assert len(book.admit(page, "bot_a", "like", person)) == 3  # the copy is not due yet
    clock[0] = 121.0
    assert [c.author for c in book.admit(page, "bot_a", "like", person)] == ["ben", "bot_b"]
    assert reads.calls == 2


def test_a_failed_read_keeps_the_copy_within_the_bound_then_engages_no_person() -> None:
    reads, clock = Reads(), [0.0]
    reads.answer = ConsentRead({"ana": PersonConsent("none")}, frozenset())
    book = _book(reads, clock)
    page = [_post("ana"), _post("ben"), _post("bot_b", agent=True)]
    assert len(book.admit(page, "bot_a", "like", person)) == 2
    reads.answer = TransientError("gallery GET /api/admin/agent-consent: timed out")
    clock[0] = 200.0
    assert len(book.admit(page, "bot_a", "like", person)) == 2
    assert book.problem and "could not be read" in book.problem
    clock[0] = MAX_STALE_SECONDS + 1
    assert [c.author for c in book.admit(page, "bot_a", "reply", person)] == ["bot_b"]
    reads.answer = ConsentRead({}, frozenset())
    clock[0] += 200
    assert len(book.admit(page, "bot_a", "like", person)) == 3
    assert book.problem is None
