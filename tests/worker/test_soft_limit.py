"""The soft time limit raises while a task runs and is dropped once it has ended: the signal
billiard's main process sends is delivered to this process here, as it is to a pool
process (``fleet.worker.tasks``: ``task_started``, ``task_ended``)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest
from billiard import pool as billiard_pool
from billiard.exceptions import SoftTimeLimitExceeded

from fleet.errors import TimeLimitExceeded
from fleet.worker.tasks import task_ended, task_started


@pytest.fixture
def pool_process() -> Iterator[None]:
    """This process with billiard's soft-limit handler installed, as a pool process has
    it once forked; restored after."""
    before = signal.getsignal(signal.SIGUSR1)
    signal.signal(signal.SIGUSR1, billiard_pool.soft_timeout_sighandler)
    try:
        yield
    finally:
        task_ended()
        signal.signal(signal.SIGUSR1, before)


def send_soft_limit() -> None:
    os.kill(os.getpid(), signal.SIGUSR1)  # the handler runs before the next bytecode


@pytest.mark.usefixtures("pool_process")
def test_a_soft_limit_raises_in_a_running_task_and_is_dropped_once_it_has_ended() -> None:
    task_started()
    assert signal.getsignal(signal.SIGUSR1) is not billiard_pool.soft_timeout_sighandler
    # Fleet's interrupt, which no ``except Exception`` on the task's way swallows.
    with pytest.raises(TimeLimitExceeded):
        send_soft_limit()
    task_ended()
    send_soft_limit()  # late: the result is on its way, nothing raises into its write
    task_started()  # the next task has its limit again
    with pytest.raises(TimeLimitExceeded):
        send_soft_limit()


@pytest.mark.usefixtures("pool_process")
def test_without_the_guard_billiard_raises_wherever_the_process_is() -> None:
    """What the guard is for: billiard's own handler raises between tasks too, where a
    pool process writes its result."""
    task_ended()
    with pytest.raises(SoftTimeLimitExceeded):
        send_soft_limit()


def test_a_process_whose_sigusr1_is_not_billiard_s_keeps_its_own_handler() -> None:
    """The solo and threads pools: SIGUSR1 is Celery's (a traceback dump), not a limit."""
    received: list[int] = []
    before = signal.signal(signal.SIGUSR1, lambda signum, _frame: received.append(signum))
    try:
        task_started()
        send_soft_limit()
        task_ended()
        send_soft_limit()
        assert received == [signal.SIGUSR1, signal.SIGUSR1]
    finally:
        task_ended()
        signal.signal(signal.SIGUSR1, before)
