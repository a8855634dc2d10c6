"""Log lines: JSON with the task's context, and nothing below the configured level."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from structlog.contextvars import bound_contextvars

from fleet.infra import logs


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    out = io.StringIO()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield out
    root.handlers[:] = handlers
    root.setLevel(level)


def test_lines_below_the_level_are_dropped_and_others_carry_the_context(
    stream: io.StringIO,
) -> None:
    logs.configure("WARNING", stream=stream)
    log = logs.get_logger("fleet.test")
    with bound_contextvars(task="fleet.like", key="7:1:like"):
        log.info("done", outcome="succeeded")
        log.warning("dead letter", dead_letter=3)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 1
    line = lines[0]
    assert (line["event"], line["level"], line["dead_letter"]) == ("dead letter", "warning", 3)
    assert (line["task"], line["key"]) == ("fleet.like", "7:1:like")


def test_celerys_records_of_the_clockwork_are_dropped_at_info(stream: io.StringIO) -> None:
    """At INFO a person reads what the agents did, not beat's send of the dispatcher
    every second nor each tick's receipt; at DEBUG everything shows."""
    logs.configure("INFO", stream=stream)
    beat = logging.getLogger("celery.beat")
    trace = logging.getLogger("celery.app.trace")
    beat.info("Scheduler: Sending due task %s (%s)", "dispatch", "fleet.dispatch")
    trace.info("Task %s[%s] succeeded in %ss: %s", "fleet.tick_batch", "ab12", 0.01, 3)
    trace.info("Task %s[%s] succeeded in %ss: %s", "fleet.like", "cd34", 0.02, "succeeded")
    beat.warning("Scheduler: Sending due task %s (%s) failed", "dispatch", "fleet.dispatch")
    events = [json.loads(line)["event"] for line in stream.getvalue().splitlines()]
    assert len(events) == 2, events
    assert "fleet.like" in events[0] and "failed" in events[1]

    stream.seek(0)
    stream.truncate()
    logs.configure("DEBUG", stream=stream)
    beat.info("Scheduler: Sending due task %s (%s)", "dispatch", "fleet.dispatch")
    assert "fleet.dispatch" in stream.getvalue()
