"""Log lines: JSON with the task's context, and nothing below the configured level."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

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
    with logs.bind_task(task="fleet.like", key="7:1:like"):
        log.info("done", outcome="succeeded")
        log.warning("dead letter", dead_letter=3)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 1
    line = lines[0]
    assert (line["event"], line["level"], line["dead_letter"]) == ("dead letter", "warning", 3)
    assert (line["task"], line["key"]) == ("fleet.like", "7:1:like")
