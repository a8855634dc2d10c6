"""The console's background readings (``Polled``): one thread at a time, a second
lifespan reads again, and a stop says when a reading outlives it."""

from __future__ import annotations

import threading

from fleet.console.web import Polled
from tests.e2e.conftest import wait_for


def test_started_twice_a_reading_runs_on_one_thread() -> None:
    readers: list[int] = []
    polled = Polled(lambda: readers.append(threading.get_ident()), seconds=60)
    polled.start()
    polled.start()
    try:
        wait_for(lambda: len(readers) >= 1, 5, "the first reading")
        polled.refresh()  # wakes every thread that reads
        wait_for(lambda: len(readers) >= 2, 5, "the reading asked for")
    finally:
        assert polled.stop()
    assert len(set(readers)) == 1, readers


def test_a_reading_stopped_and_started_again_reads_again() -> None:
    """An app's second lifespan: the reading goes on, not a thread that ends at once."""
    reads: list[int] = []
    polled = Polled(lambda: reads.append(1), seconds=60)
    polled.start()
    wait_for(lambda: len(reads) == 1, 5, "the first lifespan's reading")
    assert polled.stop()
    polled.start()
    try:
        wait_for(lambda: len(reads) == 2, 5, "the second lifespan's reading")
    finally:
        assert polled.stop()


def test_a_stop_says_when_a_reading_under_way_outlives_it() -> None:
    """A reading holds the fleet's connections until it ends: the app is told, and the
    thread still ends after it."""
    reading, released = threading.Event(), threading.Event()

    def slow() -> None:
        reading.set()
        released.wait(10)

    polled = Polled(slow, seconds=60)
    polled.start()
    wait_for(reading.is_set, 5, "the reading under way")
    assert polled.stop(timeout=0.05) is False
    released.set()
    polled.start()  # a new thread: the old one ends on its own stop
    assert polled.stop()
