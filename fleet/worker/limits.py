"""Time limits for a worker whose tasks run on threads (``-P threads``).

Celery's threads pool enforces no time limit: a prefork pool process gets its soft limit
as a signal from the worker's main process, a thread gets nothing. Here one watchdog
thread per worker process does what that signal does: once a task has run its soft limit
it raises ``SoftTimeLimitExceeded`` in the task's thread (CPython's asynchronous
exception, raised at the thread's next Python instruction: a call blocked in C, such as
a socket read, first ends at its own deadline). The action settles it as a failed
attempt and retries, as in a prefork pool.

A thread cannot be killed: at the hard limit the watchdog logs the task instead, and the
lease sweeper re-sends its action once the lease has expired. A limit that comes after
the task ended is dropped, and one raised but not yet delivered when the task ends is
taken back, so it never reaches Celery's own code or the next task of that thread.
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from billiard.exceptions import SoftTimeLimitExceeded
from celery import Task

from fleet.infra.logs import get_logger

log = get_logger("fleet.worker")

# Raise an exception in a thread by its ident (None takes back a pending one): the number
# of threads it was set for.
RaiseIn = Callable[[int, type[BaseException] | None], int]


def raise_in(ident: int, error: type[BaseException] | None) -> int:
    """CPython's ``PyThreadState_SetAsyncExc``: ``error`` is raised in the thread
    ``ident`` at its next instruction; ``None`` clears one not yet raised."""
    found = ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(ident), ctypes.py_object(error) if error is not None else None
    )
    return int(found)


@dataclass
class _Running:
    task: str
    soft_at: float | None
    hard_at: float | None
    soft_raised: bool = False
    hard_logged: bool = False


class ThreadLimits:
    """The soft and hard limits of the tasks running on this process's threads."""

    def __init__(
        self, *, raising: RaiseIn = raise_in, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._raise = raising
        self._clock = clock
        self._changed = threading.Condition()
        self._running: dict[int, _Running] = {}
        self._watchdog: threading.Thread | None = None

    def started(self, task: str, soft: float | None, hard: float | None) -> None:
        """A task begins on this thread, with its limits in seconds (None: none)."""
        now = self._clock()
        running = _Running(
            task,
            soft_at=now + soft if soft else None,
            hard_at=now + hard if hard else None,
        )
        with self._changed:
            self._running[threading.get_ident()] = running
            if self._watchdog is None:
                self._watchdog = threading.Thread(
                    target=self._watch, name="fleet-time-limits", daemon=True
                )
                self._watchdog.start()
            self._changed.notify()

    def task_started(self, task: Task[Any, Any]) -> None:
        """A Celery task begins on this thread, with its limits as Celery reads them: the
        message's, else the task's, else the app's."""
        hard, soft = task.request.timelimit or (None, None)
        conf = task.app.conf
        self.started(
            task.name,
            soft or task.soft_time_limit or conf.task_soft_time_limit,
            hard or task.time_limit or conf.task_time_limit,
        )

    def ended(self) -> None:
        """The task on this thread is over: a limit from now on is late."""
        ident = threading.get_ident()
        try:
            with self._changed:
                running = self._running.pop(ident, None)
                if running is not None and running.soft_raised:
                    self._raise(ident, None)  # not yet raised: it never will be
        except SoftTimeLimitExceeded:  # raised just as the task ended: late, dropped
            with self._changed:
                self._running.pop(ident, None)

    def _watch(self) -> None:
        with self._changed:
            while True:
                self._changed.wait(timeout=self._due())

    def _due(self) -> float | None:
        """Raise or log what is due (the lock held); seconds until the next is due."""
        now = self._clock()
        nearest: float | None = None
        for ident, running in self._running.items():
            if running.soft_at is not None and not running.soft_raised:
                if now >= running.soft_at:
                    running.soft_raised = True
                    log.warning("soft time limit exceeded", task=running.task)
                    self._raise(ident, SoftTimeLimitExceeded)
                else:
                    nearest = _sooner(nearest, running.soft_at)
            if running.hard_at is not None and not running.hard_logged:
                if now >= running.hard_at:
                    running.hard_logged = True
                    log.error(
                        "hard time limit exceeded: a thread cannot be stopped; its action "
                        "is re-sent once its lease expires",
                        task=running.task,
                    )
                else:
                    nearest = _sooner(nearest, running.hard_at)
        return None if nearest is None else max(nearest - now, 0.0)


def _sooner(one: float | None, other: float) -> float:
    return other if one is None else min(one, other)
