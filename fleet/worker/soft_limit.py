"""A task's soft time limit, raised only while the task runs.

A prefork pool process gets the soft limit as a signal (SIGUSR1) from the worker's main
process, which sends it once a task has run its time unless the task's result has reached
it; billiard's handler raises ``SoftTimeLimitExceeded`` wherever the process is. A task
that ends just before its limit is, at that moment, writing its result to the main
process: the exception cuts that message mid-write, billiard writes an error message
after the partial one, and the main process reads garbage (``UnicodeDecodeError`` in
``celery.concurrency.asynpool._recv_message``), an unrecoverable error that stops the
worker and every task it held. It was seen at a Redis link cut, where tasks blocked on the
silent broker ended near their limit.

Here the pool process's handler raises only between a task's start and its end; a signal
that comes after the end is late, and dropped: the task's result is already on its way.
Elsewhere (the solo and threads pools, whose SIGUSR1 is Celery's own) nothing changes.
"""

from __future__ import annotations

import signal
from types import FrameType

from billiard import pool as billiard_pool
from billiard.exceptions import SoftTimeLimitExceeded

_SIGNAL = getattr(signal, "SIGUSR1", None)
_running = False


def _soft_limit(signum: int, frame: FrameType | None) -> None:
    if _running:
        raise SoftTimeLimitExceeded()


def task_started() -> None:
    """A task begins in this process: its soft limit raises from here. In a prefork pool
    process, billiard's handler (installed after Fleet's process hooks run) is replaced
    the first time."""
    global _running
    if _SIGNAL is not None and signal.getsignal(_SIGNAL) is billiard_pool.soft_timeout_sighandler:
        signal.signal(_SIGNAL, _soft_limit)
    _running = True


def task_ended() -> None:
    """The task is over (its result not yet sent): a soft limit from now on is late."""
    global _running
    _running = False
