"""The consent book times its copy after the read (issue 68, F7): a read that fails after a
long wait does not pass a copy older than the bound off as young."""

from __future__ import annotations

from fleet.consent.book import ConsentBook
from fleet.consent.core import MAX_STALE_SECONDS, PersonConsent
from fleet.core.taste import Candidate
from fleet.errors import TransientError
from fleet.gallery.consent import ConsentRead
from fleet.settings import ConsentSettings


def test_a_read_that_fails_after_a_long_wait_judges_the_copy_at_its_end() -> None:
    clock = [0.0]
    answers: list[ConsentRead | Exception] = [
        ConsentRead({"ana": PersonConsent("none")}, frozenset()),
        TransientError("gallery GET /api/admin/agent-consent: timed out"),
    ]

    def read() -> ConsentRead:
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, Exception):
            clock[0] += 780.0  # the failed read took 13 minutes
            raise answer
        return answer

    book = ConsentBook(read, ConsentSettings(refresh_seconds=120), clock=lambda: clock[0])
    page = [Candidate("p-ana", "ana", False), Candidate("p-ben", "ben", False)]
    person = lambda c: c.author  # noqa: E731
    assert [c.author for c in book.admit(page, "bot_a", "like", person)] == ["ben"]
    clock[0] = 500.0  # due again; the read fails at 1,280 s: the copy is 1,280 s old
    assert book.admit(page, "bot_a", "like", person) == []
    assert clock[0] == 1280.0 and clock[0] > MAX_STALE_SECONDS
    assert book.current().known is False


def test_a_slow_read_that_succeeds_counts_the_copys_age_from_its_start() -> None:
    clock = [0.0]

    def read() -> ConsentRead:
        clock[0] += 100.0  # each read takes 100 s
        return ConsentRead({}, frozenset())

    book = ConsentBook(read, ConsentSettings(refresh_seconds=120), clock=lambda: clock[0])
    book.current()
    assert book._good_at == 0.0 and book._read_at == 100.0
    clock[0] = 200.0
    book.current()  # 100 s after the last read ended: not due
    assert clock[0] == 200.0
    clock[0] = 221.0
    book.current()
    assert book._good_at == 221.0 and book._read_at == 321.0
