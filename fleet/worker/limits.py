"""Time limits for a worker whose tasks run on threads (``-P threads``).

Celery's threads pool enforces no time limit: a prefork pool process gets its soft limit
as a signal from the worker's main process, a thread gets nothing. Here one watchdog
thread per worker process does what that signal does: once a task has run its soft limit
it raises ``TimeLimitExceeded`` in the task's thread (CPython's asynchronous exception,
raised at the thread's next Python instruction: a call blocked in C, such as a socket
read, first ends at its own deadline). It is an ``Interrupt`` (``fleet.errors``), not an
``Exception``: no ``except Exception`` on the task's way takes it for a failure of its
own call (a provider down, an embedder broken); the action settles it as a failed attempt
and retries, as in a prefork pool (Dramatiq's ``TimeLimitExceeded(Interrupt)`` likewise).

A thread cannot be killed: a task still running at its hard limit (stuck in C, or in
Python that swallowed its interrupt) holds its thread for good. The worker then stops
taking work (a warm shutdown of itself: Celery's own, as on SIGTERM) and, once its other
tasks have ended or passed their own hard limits, exits with ``EXIT_STUCK`` for its
supervisor (compose's restart policy, ``bin/respawn``, systemd) to start a fresh one; the
lease sweeper re-sends the stuck action once its lease has expired. A limit that comes
after the task ended is dropped, and one raised but not yet delivered when the task ends
is taken back, so it never reaches Celery's own code or the next task of that thread.

The limit is raised only where it can land: never while the thread runs code that an
exception at an arbitrary instruction leaves broken (``at_safe_point``). A lock's ``with``
in ``threading.Condition`` takes the lock and then returns through a Python frame: an
asynchronous exception raised between the two leaves the lock held with nobody to release
it, and SQLAlchemy's pool queue, redis-py's connection pool and ``logging``'s handlers
lock that way (seen: a limit inside SQLAlchemy's pool checkout left the pool's lock held,
and every later checkout of the process waited on it for ever). The watchdog looks at
where the thread is (``sys._current_frames``) and, while it is in such code, looks again
a few milliseconds later. It looks and raises holding the interpreter's lock, but may lose
it between the two (another thread asking for its turn): the thread may then move on into
such code before the limit lands. That window is a few instructions wide once in many
limits, and what it can leave (a lock held) makes the task run past its hard limit: the
worker then leaves for its supervisor to start a fresh one, as above.
"""

from __future__ import annotations

import _weakrefset
import contextlib
import ctypes
import logging
import os
import queue
import signal
import sys
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

from celery import Task

from fleet.errors import TimeLimitExceeded
from fleet.infra.logs import get_logger

log = get_logger("fleet.worker")

# Raise an exception in a thread by its ident (None takes back a pending one): the number
# of threads it was set for.
RaiseIn = Callable[[int, type[BaseException] | None], int]

# The exit status of a worker that left because a thread of its was stuck past its hard
# limit (EX_SOFTWARE): not 0, so that a supervisor restarting on failure only restarts it.
EXIT_STUCK = 70

# While the thread runs code a limit cannot land in, the watchdog looks again after this
# many seconds.
DEFER_SECONDS = 0.005

# The fleet package's directory: its files named below by their paths.
_FLEET = os.path.dirname(os.path.dirname(__file__))

# Code that an exception raised at an arbitrary instruction leaves broken: a lock taken
# and not yet under its ``try`` (``threading.Condition``'s ``with``, ``logging``'s handler
# lock, SQLAlchemy's pool queue), a connection counted out of a pool and not yet handed
# over (SQLAlchemy's pool, redis-py's), a module half imported, a context manager's
# generator run to its ``yield`` and its ``with`` not yet begun (``contextlib``: its
# ``finally`` would never run, a context variable left set). And finalizers
# (``__del__``, a weak reference's callback): they run wherever an object's last
# reference went, and what they raise is printed and dropped, the limit with it.
# Parts of a path (``/``).
_UNSAFE_PARTS = (
    "/sqlalchemy/pool/",
    "/sqlalchemy/util/queue.py",
    "/sqlalchemy/event/",
    "/redis/connection.py",
    "/urllib3/connectionpool.py",
    "/concurrent/futures/_base.py",
)
_UNSAFE_FILES = frozenset(
    {
        # The fleet's own Redis pool (``InterruptSafePool.release``, redis-py's pool
        # bookkeeping around it): a limit landing as it starts keeps the connection
        # counted out of the pool for ever.
        os.path.join(_FLEET, "infra", "redis_pool.py"),
        threading.__file__,
        queue.__file__,
        contextlib.__file__,
        weakref.__file__,
        _weakrefset.__file__,
        "<frozen importlib._bootstrap>",
    }
)

_LOGGING = os.path.dirname(logging.__file__) + os.sep
# Where a limit's unwinding ends, the frames below out of its reach: the task's own entry
# (Fleet's task and the service call it makes, each of which settles the limit) or the
# thread's start.
_ENTRIES = tuple(
    os.path.join(_FLEET, *part) for part in (("worker", "tasks.py"), ("service", "work.py"))
)
_THREAD_STARTS = frozenset({"run", "_bootstrap", "_bootstrap_inner"})

# The seconds Celery's warm shutdown has, once the worker stops taking work, to stop its
# consumer (its queues cancelled, the messages it had prefetched handed back to the
# broker) before a worker whose only tasks left are stuck exits: Celery signals no end of
# that step, and its next (the pool's stop) waits on the stuck thread for ever.
LEAVE_GRACE_SECONDS = 2.0


def raise_in(ident: int, error: type[BaseException] | None) -> int:
    """CPython's ``PyThreadState_SetAsyncExc``: ``error`` is raised in the thread
    ``ident`` at its next instruction; ``None`` clears one not yet raised.

    Clearing leaves a flag set: CPython 3.11 marks the whole interpreter as having an
    exception pending even when it clears one (``_PyEval_SignalAsyncExc``), and only a
    thread that takes one unmarks it. Left set, every thread checks for pending work at
    each instruction that can, and code run under ``sys.setprofile`` spins in place for
    ever (seen: a trace after a limit was taken back never ended). In its own thread
    (``ended``) a limit is taken back by raising another in its place, caught at once:
    taking it unmarks the interpreter."""
    if error is None and ident == threading.get_ident():
        return _take_back_here()
    found = ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(ident), ctypes.py_object(error) if error is not None else None
    )
    return int(found)


class _TakenBack(BaseException):
    """Raised into its own thread in place of a limit taken back."""


def _take_back_here() -> int:
    """Take back a limit raised in this thread and not yet delivered (or none), leaving
    no exception marked pending: one of ``_TakenBack`` replaces it and is taken here, at
    the check that follows the call that raised it. 1: the thread found (this one)."""
    try:
        raise_in(threading.get_ident(), _TakenBack)
        for _ in range(8):  # taken by now: each call and each loop checks
            _next_instruction()
    except _TakenBack:
        pass
    return 1


def _next_instruction() -> None:
    """A call: CPython checks for a pending exception at a function's start."""


def safe_to_interrupt(frame: FrameType | None) -> bool:
    """Whether an exception raised in the thread whose innermost frame is ``frame`` can
    land there: no frame it would unwind through, up to the task's entry (or the
    thread's start), runs code that such an exception leaves broken (``_UNSAFE_PARTS``)."""
    while frame is not None:
        code = frame.f_code
        where = code.co_filename
        if where in _ENTRIES or (where == threading.__file__ and code.co_name in _THREAD_STARTS):
            return True
        if (
            code.co_name == "__del__"
            or where in _UNSAFE_FILES
            or where.startswith(_LOGGING)
            or any(part in where for part in _UNSAFE_PARTS)
        ):
            return False
        frame = frame.f_back
    return True


def at_safe_point(ident: int) -> bool:
    """Whether the thread ``ident`` is where a limit can land now (``safe_to_interrupt``);
    a thread that is gone is (nothing is raised in it)."""
    return safe_to_interrupt(sys._current_frames().get(ident))


def on_swallowed_limit(rearm: Callable[[int], None]) -> None:
    """Hand a limit that a finalizer swallowed to ``rearm`` (with the ident of the thread
    it was raised in) instead of printing it. What a finalizer raises (a ``__del__``, a
    weak reference's callback, a generator closed as it is collected: code run wherever
    an object's last reference went, which ``safe_to_interrupt`` cannot tell from the
    code that called it) goes to ``sys.unraisablehook``, then nowhere: its task would run
    on uncut. Every other unraisable exception goes to the hook installed before."""
    before = sys.unraisablehook

    def hook(unraisable: Any) -> None:
        if isinstance(unraisable.exc_value, TimeLimitExceeded):
            rearm(threading.get_ident())
        else:
            before(unraisable)

    sys.unraisablehook = hook


def warm_shutdown() -> None:
    """Stop taking work as a worker does on SIGTERM (Celery's warm shutdown: its consumer
    stops, the tasks running go on), from any thread: the signal is handled by the main
    thread."""
    os.kill(os.getpid(), signal.SIGTERM)


def exit_for_restart() -> None:
    """Leave the process now with ``EXIT_STUCK``: a stuck thread would keep Celery's
    warm shutdown waiting for ever. What the logs hold is written first."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # closed: nothing more to write
            stream.flush()
    os._exit(EXIT_STUCK)


@dataclass
class _Running:
    task: str
    soft_at: float | None
    hard_at: float | None
    soft_raised: bool = False
    stuck: bool = False  # past its hard limit


class ThreadLimits:
    """The soft and hard limits of the tasks running on this process's threads.

    ``stop_taking_work`` is called once, when the first task passes its hard limit;
    ``leave`` once every task still running has passed its own (by default: a warm
    shutdown, then the process's exit for its supervisor to restart it)."""

    def __init__(
        self,
        *,
        raising: RaiseIn = raise_in,
        interruptible: Callable[[int], bool] = at_safe_point,
        clock: Callable[[], float] = time.monotonic,
        stop_taking_work: Callable[[], None] = warm_shutdown,
        leave: Callable[[], None] = exit_for_restart,
        grace: float = LEAVE_GRACE_SECONDS,
    ) -> None:
        self._raise = raising
        self._interruptible = interruptible
        self._clock = clock
        self._stop_taking_work = stop_taking_work
        self._leave = leave
        self._grace = grace
        self._changed = threading.Condition()
        self._running: dict[int, _Running] = {}
        self._watchdog: threading.Thread | None = None
        self._leaving_at: float | None = None
        self._left = False

    @property
    def leaving(self) -> bool:
        """Whether a task has passed its hard limit: the worker takes no more work."""
        return self._leaving_at is not None

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
                on_swallowed_limit(self._rearm)
                self._watchdog = threading.Thread(
                    target=self._watch, name="fleet-time-limits", daemon=True
                )
                self._watchdog.start()
            self._changed.notify()

    def _rearm(self, ident: int) -> None:
        """The limit raised in ``ident`` was swallowed by a finalizer: raised again at the
        thread's next safe point."""
        with self._changed:
            running = self._running.get(ident)
            if running is not None and running.soft_raised:
                running.soft_raised = False
                log.warning(
                    "soft time limit swallowed by a finalizer: raised again", task=running.task
                )
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
                self._changed.notify()  # a worker leaving may wait for this one
        except TimeLimitExceeded:  # raised just as the task ended: late, dropped
            with self._changed:
                self._running.pop(ident, None)
                self._changed.notify()

    def _watch(self) -> None:
        with self._changed:
            while not self._left:
                self._changed.wait(timeout=self._due())

    def _due(self) -> float | None:
        """Raise or act on what is due (the lock held); seconds until the next is due."""
        now = self._clock()
        nearest: float | None = None
        for ident, running in self._running.items():
            if running.soft_at is not None and not running.soft_raised:
                if now < running.soft_at:
                    nearest = _sooner(nearest, running.soft_at)
                elif self._interruptible(ident):  # raised at once: it is there now
                    self._raise(ident, TimeLimitExceeded)
                    running.soft_raised = True
                    late = round(now - running.soft_at, 3)
                    log.warning("soft time limit exceeded", task=running.task, late_seconds=late)
                else:  # where a limit cannot land: again shortly
                    nearest = _sooner(nearest, now + DEFER_SECONDS)
            if running.hard_at is not None and not running.stuck:
                if now >= running.hard_at:
                    running.stuck = True
                    self._stuck(running, now)
                else:
                    nearest = _sooner(nearest, running.hard_at)
        if self._leaving_at is None or not all(r.stuck for r in self._running.values()):
            return None if nearest is None else max(nearest - now, 0.0)
        # Every task left has passed its hard limit (none left: all ended).
        if now < self._leaving_at + self._grace:  # Celery's consumer stopping meanwhile
            return self._leaving_at + self._grace - now
        log.error(
            "worker leaving for its supervisor to restart it",
            stuck=sorted(r.task for r in self._running.values()),
            exit_status=EXIT_STUCK,
        )
        self._left = True
        self._leave()
        return None

    def _stuck(self, running: _Running, now: float) -> None:
        log.error(
            "hard time limit exceeded: a thread cannot be stopped; the worker takes no more "
            "work and leaves once its other tasks end, its action re-sent once its lease "
            "expires",
            task=running.task,
        )
        if self._leaving_at is None:
            self._leaving_at = now
            self._stop_taking_work()


def _sooner(one: float | None, other: float) -> float:
    return other if one is None else min(one, other)
