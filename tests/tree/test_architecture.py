"""ARCHITECTURE.md's life of a like is the trace of a like (``bench.trace_like``), line by
line: the same modules, each once, and at most 45 of them.

The bound was 30 (issue 55: a like readable in a page), and it was met by folding modules
together. Issue 69 gives each concept its own module (the old ``core/timeline.py`` is the
activity clock, sessions, the activity level, a steady ticker, the rhythm, quotas and
back-pressure now), so a like crosses more, shorter modules: 30 at 95037f2, 40 after the
splits of the timeline, the choice, the events and the wire, 43 after the activities' commands
became the tick's rows, the claims, the finishes and the outcomes, and a tick's notes became a
value of their own (``core.tick_notes``), 44 when a tick's decision became one value, its
key and its notes (``core.decisions``, issue 69 item 2), 45 when a kind's handler and
its needs became a module of their own (``actions.handlers``) beside carrying it out; 43
when a like's notes, which say nothing, were no longer written and read back
(``core.tick_notes``) and its choice, its ties at hand, no longer asked what it ranks by
(``actions.choice_needs``); 44 after the taste split, and 43 when what a tick reads of a
persona (its clock, zone, rhythm and quotas) was resolved once, when the catalogue loads
it (``core.rhythm.PersonaCadence``, read by slug), not asked of the catalogue
(``infra.persona_files``) at each tick; 42 when a tick batch read whether its agents owe
a person an answer with its locked read of them (``honesty.ledger.OWES``), not in a
statement of its own (``honesty.ledger.owed``). What a like costs is counted in
functions called, not modules. (The order they are first entered in depends a little on
the liking agent: one without its gallery account yet enters ``agents.commands`` to keep
it, one with it only to remember the like; the trace's ticks fall on the wall clock's
seconds, which seed the agents' draws.)

The trace runs in a process of its own, as the bench does, free of what earlier tests
left in the process: traced under ``sys.setprofile`` after
``tests/worker/test_unswallowed_limit.py``, a tick once never ended (a limit taken back
left CPython's pending-exception mark set, ``fleet.worker.limits.raise_in``; fixed, and
``tests/worker/test_thread_limits.py`` holds it)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
MOST_MODULES = 46  # issue 55's 30, raised by issue 69's rooms of one concept (46: the taste split)


def _life_of_a_like() -> list[str]:
    text = (ROOT / "ARCHITECTURE.md").read_text()
    section = text.split("## The life of a like", 1)[1].split("\n## ", 1)[0]
    block = section.split("```", 2)[1]
    numbered = [re.match(r"\s*(\d+) ([a-z_.]+)\s", line) for line in block.splitlines()]
    found = [m for m in numbered if m]
    assert [int(m.group(1)) for m in found] == list(range(1, len(found) + 1)), (
        "the life of a like numbers its modules 1, 2, 3 ... in order"
    )
    return [f"fleet.{m.group(2)}" for m in found]


def _trace() -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.trace_like"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    traced: dict[str, Any] = json.loads(done.stdout)
    return traced


def test_the_life_of_a_like_is_the_traced_like_module_by_module() -> None:
    traced = _trace()

    assert traced["outcome"] == "succeeded"
    written = _life_of_a_like()
    assert len(written) == len(set(written)), "each module once"
    assert sorted(written) == sorted(traced["modules"])
    assert traced["modules_count"] <= MOST_MODULES
