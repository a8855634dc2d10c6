"""The published window the no-echo check compares drafts with, without a database: it
keeps what it read, asks only for what is newer, and stays within its bound."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import numpy as np

from fleet.actions.remembering import PublishedWindow
from fleet.agents import Published
from fleet.core.vectors import unit

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SINCE = NOW - timedelta(days=14)


def _text(n: int, at: datetime = NOW) -> Published:
    vector = unit(np.random.default_rng(n).normal(size=16))
    return Published(n, at, f"text {n}", vector)


class Table:
    """Rows as a database would hand them out: each read gets those after ``after_id``
    (the newest ``limit``), their vectors only for the ids the reader does not know."""

    def __init__(self, limit: int = 10_000) -> None:
        self.rows: list[Published] = []
        self.limit = limit
        self.asked: list[int] = []
        self.fetched = 0

    def read(self, after_id: int, known: Callable[[int], bool]) -> Sequence[Published]:
        self.asked.append(after_id)
        newer = sorted((r for r in self.rows if r.id > after_id), key=lambda r: r.id)
        found = [r for r in newer[-self.limit :] if not known(r.id)]
        self.fetched += len(found)
        return found


def test_a_text_committed_late_with_an_older_id_is_still_read() -> None:
    table = Table()
    table.rows = [_text(n) for n in (1, 2, 5)]
    window = PublishedWindow(limit=100)
    window.refresh(table.read, since=SINCE)
    table.rows.append(_text(4))  # its id was handed out before 5's, its row committed after
    window.refresh(table.read, since=SINCE)
    assert len(window) == 4 and table.fetched == 4
    assert window.closest(_text(4).vector, since=SINCE, threshold=0.99) is not None


def test_the_window_keeps_the_newest_texts_up_to_its_limit() -> None:
    table = Table(limit=50)  # the read asks for the newest ``limit``, as the window keeps
    window = PublishedWindow(limit=50)
    for start in range(0, 400, 40):
        table.rows += [_text(n) for n in range(start, start + 40)]
        window.refresh(table.read, since=SINCE)
        assert len(window) <= 50 + 50 // 4
    assert window.closest(_text(399).vector, since=SINCE, threshold=0.99) is not None
    assert window.closest(_text(10).vector, since=SINCE, threshold=0.99) is None


def test_an_aged_out_text_is_neither_compared_nor_kept() -> None:
    table = Table(limit=1)
    table.rows = [_text(1, NOW - timedelta(days=20)), _text(2, NOW - timedelta(days=1))]
    window = PublishedWindow(limit=1)
    window.refresh(table.read, since=NOW - timedelta(days=30))
    assert window.closest(_text(1).vector, since=SINCE, threshold=0.99) is None
    table.rows.append(_text(3))
    window.refresh(table.read, since=SINCE)
    assert window.closest(_text(3).vector, since=SINCE, threshold=0.99) is not None
    assert window.closest(_text(2).vector, since=SINCE, threshold=0.99) is None  # over limit


def test_vectors_of_another_size_start_the_window_afresh() -> None:
    window = PublishedWindow(limit=10)
    window.refresh(lambda _after, _known: [_text(1)], since=SINCE)
    wider = Published(2, NOW, "wider", unit(np.ones(32)))
    window.refresh(lambda _after, _known: [wider], since=SINCE)
    assert len(window) == 1
    assert window.closest(unit(np.ones(32)), since=SINCE, threshold=0.99) is not None
    assert window.closest(_text(1).vector, since=SINCE, threshold=0.5) is None


def test_a_window_of_several_blocks_finds_its_oldest_text_at_half_precision() -> None:
    """Kept as float16 and compared block by block: the cosine within 2e-3 of the
    float32 one, the first text found behind more than one block."""
    table = Table(limit=10_000)
    table.rows = [_text(n) for n in range(1, 5_001)]
    window = PublishedWindow(limit=10_000)
    window.refresh(table.read, since=SINCE)
    echo = window.closest(_text(1).vector, since=SINCE, threshold=0.9)
    assert echo is not None and echo.text == "text 1"
    assert abs(echo.similarity - 1.0) < 2e-3
    near = unit(_text(1).vector + 0.3 * _text(2).vector)
    found = window.closest(near, since=SINCE, threshold=0.5)
    exact = float(near @ _text(1).vector)
    assert found is not None and found.text == "text 1"
    assert abs(found.similarity - exact) < 2e-3


def test_a_window_of_full_size_vectors_scores_within_two_thousandths_of_the_cosine() -> None:
    """Its vectors are kept in int8 with a scale per row: near-duplicates are still told
    apart at the guard's thresholds (0.92 by default)."""
    rng = np.random.default_rng(5)
    rows = [Published(n, NOW, f"text {n}", unit(rng.normal(size=384))) for n in range(1, 200)]
    window = PublishedWindow(limit=1000)
    window.refresh(lambda _after, _known: rows, since=SINCE)
    for row in rows[::20]:
        for mix in (0.3, 0.5, 0.9):
            draft = unit(row.vector + mix * unit(rng.normal(size=384)))
            exact = max(float(np.dot(draft, r.vector)) for r in rows)
            echo = window.closest(draft, since=SINCE, threshold=-1.0)
            assert echo is not None and abs(echo.similarity - exact) <= 2e-3, (mix, exact)


def test_a_window_keeps_only_what_a_refusal_quotes_of_each_text() -> None:
    window = PublishedWindow(limit=10)
    long = Published(1, NOW, "a" * 500, unit(np.ones(16)))
    window.refresh(lambda _after, _known: [long], since=SINCE)
    echo = window.closest(unit(np.ones(16)), since=SINCE, threshold=0.99)
    assert echo is not None and echo.text == "a" * 60


def test_a_held_read_serves_the_next_refreshes_and_the_process_own_texts_count_at_once() -> None:
    """A window reads the database once a hold: another process's text is compared from
    the next read; this process's own as soon as it is published, and its row, read back
    later, is kept once."""
    table = Table()
    table.rows = [_text(1)]
    window = PublishedWindow(limit=100, held=3600.0)
    window.refresh(table.read, since=SINCE)
    table.rows.append(_text(2))  # another process's
    assert window.refresh(table.read, since=SINCE) == 0 and table.asked == [0]
    assert window.closest(_text(2).vector, since=SINCE, threshold=0.99) is None
    own = _text(3)
    window.published(own.text, own.vector)
    found = window.closest(own.vector, since=SINCE, threshold=0.99)
    assert found is not None and found.text == own.text
    table.rows.append(own)  # its row, committed
    window.held = 0.0
    window.refresh(table.read, since=SINCE)
    assert len(window) == 3 and table.fetched == 3
    for n in (1, 2, 3):
        assert window.closest(_text(n).vector, since=SINCE, threshold=0.99) is not None


def test_a_text_of_the_process_own_is_compared_before_the_window_is_first_filled() -> None:
    window = PublishedWindow(limit=10, held=3600.0)
    window.refresh(lambda _after, _known: [], since=SINCE)
    own = _text(7)
    window.published(own.text, own.vector)
    assert window.closest(own.vector, since=SINCE, threshold=0.99) is not None
    assert window.closest(_text(8).vector, since=SINCE, threshold=0.99) is None
