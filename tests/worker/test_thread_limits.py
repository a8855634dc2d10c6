"""Time limits on a worker's threads (``fleet.worker.limits``): the soft limit raises in
the task's own thread while it runs, never after it has ended; at the hard limit, which
cannot stop a thread, the worker stops taking work and leaves once its other tasks end."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from typing import Any

import pytest
from structlog.testing import capture_logs

from fleet.errors import TimeLimitExceeded
from fleet.infra import redis_pool
from fleet.infra.redis_pool import interrupt_safe_client
from fleet.worker.limits import ThreadLimits, at_safe_point, raise_in, safe_to_interrupt
from tests.conftest import REDIS_URL
from tests.e2e.conftest import wait_for

DEADLINE = 10.0


def run_in_thread(body: Any) -> dict[str, Any]:
    """Run ``body`` on a thread of its own; what it returned or raised."""
    out: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: out.update(run_in_thread_here(body)))
    thread.start()
    thread.join(DEADLINE)
    assert not thread.is_alive(), "the thread did not end within its deadline"
    return out


def run_in_thread_here(body: Any) -> dict[str, Any]:
    """Run ``body`` on this thread; what it returned or raised."""
    try:
        return {"returned": body()}
    except BaseException as error:  # what the test looks at
        return {"raised": error}


def recording(calls: list[tuple[int, Any]]) -> Any:
    """A stand-in for ``raise_in`` that records what it was asked to raise where."""

    def raising(ident: int, error: type[BaseException] | None) -> int:
        calls.append((ident, error))
        return 1

    return raising


def anywhere(ident: int) -> bool:
    """Every thread is where a limit can land (the limits' own clock and bookkeeping
    under test, with a stand-in raising nothing)."""
    return True


def busy_until(stop: threading.Event) -> str:
    """A task that runs Python instructions until told to stop, as a task's code does."""
    deadline = time.monotonic() + DEADLINE
    while not stop.is_set() and time.monotonic() < deadline:
        sum(range(100))
    return "ran to its end"


def test_a_task_past_its_soft_limit_is_cut_in_its_own_thread_and_no_other() -> None:
    limits = ThreadLimits(stop_taking_work=lambda: None, leave=lambda: None)
    stop = threading.Event()
    bystander: dict[str, Any] = {}

    def other() -> None:  # a task of another thread, with a limit far away
        limits.started("fleet.post", soft=60, hard=90)
        bystander.update(run_in_thread(lambda: busy_until(stop)))
        limits.ended()

    neighbour = threading.Thread(target=other)
    neighbour.start()

    def slow() -> str:
        limits.started("fleet.like", soft=0.2, hard=5)
        try:
            return busy_until(threading.Event())
        finally:
            limits.ended()

    started = time.monotonic()
    out = run_in_thread(slow)
    assert isinstance(out.get("raised"), TimeLimitExceeded), out
    assert 0.2 <= time.monotonic() - started < 2.0
    stop.set()
    neighbour.join(DEADLINE)
    assert bystander == {"returned": "ran to its end"}


def test_a_task_that_ends_in_time_is_never_cut_and_its_thread_runs_on() -> None:
    limits = ThreadLimits(stop_taking_work=lambda: None, leave=lambda: None)

    def quick_then_idle() -> str:
        limits.started("fleet.like", soft=0.3, hard=5)
        limits.ended()
        stop = threading.Event()
        threading.Timer(0.6, stop.set).start()
        return busy_until(stop)  # past where the limit would have been

    assert run_in_thread(quick_then_idle) == {"returned": "ran to its end"}


def test_ending_takes_back_a_limit_raised_just_before_the_end() -> None:
    """The watchdog raised at the limit just as the task ended: ending takes it back, so
    the thread's next work (Celery's result, its next task) never sees it."""
    calls: list[tuple[int, Any]] = []
    limits = ThreadLimits(
        raising=recording(calls),
        interruptible=anywhere,
        stop_taking_work=lambda: None,
        leave=lambda: None,
    )
    limits.started("fleet.like", soft=0.05, hard=90)
    wait_for(lambda: bool(calls), DEADLINE, "the watchdog to raise the limit", every=0.01)
    limits.ended()
    me = threading.get_ident()
    assert calls == [(me, TimeLimitExceeded), (me, None)]


@pytest.mark.parametrize("taken_back", [True, False])
def test_an_exception_raised_in_a_thread_waits_for_its_next_instruction(
    taken_back: bool,
) -> None:
    """What the watchdog relies on (CPython): raised in a thread blocked in C, the
    exception comes at its next Python instruction, unless taken back before."""
    blocked, release = threading.Event(), threading.Event()

    def task() -> str:
        blocked.set()
        release.wait(DEADLINE)  # blocked in C, as in a socket read
        return busy_until(threading.Event() if not taken_back else _set_after(0.2))

    out: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: out.update(run_in_thread_here(task)))
    thread.start()
    assert blocked.wait(DEADLINE)
    assert raise_in(_ident_of(thread), TimeLimitExceeded) == 1
    if taken_back:
        raise_in(_ident_of(thread), None)
    release.set()
    thread.join(DEADLINE)
    if taken_back:
        assert out == {"returned": "ran to its end"}
    else:
        assert isinstance(out.get("raised"), TimeLimitExceeded), out


def _set_after(seconds: float) -> threading.Event:
    event = threading.Event()
    threading.Timer(seconds, event.set).start()
    return event


def _ident_of(thread: threading.Thread) -> int:
    assert thread.ident is not None
    return thread.ident


def test_at_the_hard_limit_the_worker_stops_taking_work_and_leaves_once_the_others_end() -> None:
    """A thread cannot be stopped: the first task past its hard limit stops the worker
    taking work at once; it leaves (for its supervisor to restart it) only once its other
    tasks have ended."""
    raised: list[tuple[int, Any]] = []
    stopped, left = threading.Event(), threading.Event()
    limits = ThreadLimits(
        raising=recording(raised),
        interruptible=anywhere,
        stop_taking_work=stopped.set,
        leave=left.set,
    )
    other_started, other_may_end = threading.Event(), threading.Event()

    def other() -> None:  # a task of another thread, with its limits far away
        limits.started("fleet.post", soft=60, hard=90)
        other_started.set()
        other_may_end.wait(DEADLINE)
        limits.ended()

    neighbour = threading.Thread(target=other)
    neighbour.start()
    assert other_started.wait(DEADLINE)
    with capture_logs() as logs:
        limits.started("fleet.comment", soft=0.1, hard=0.2)  # stuck: it never ends
        assert stopped.wait(DEADLINE), "the worker went on taking work"
        assert limits.leaving
        assert not left.wait(0.3), "the worker left while another task still ran"
        other_may_end.set()
        neighbour.join(DEADLINE)
        assert left.wait(DEADLINE), "the worker did not leave once the other task ended"
    events = [entry["event"].split(":")[0] for entry in logs]
    assert events == [
        "soft time limit exceeded",
        "hard time limit exceeded",
        "worker leaving for its supervisor to restart it",
    ]
    me = threading.get_ident()
    assert raised == [(me, TimeLimitExceeded)]


def test_a_worker_leaving_waits_for_another_task_only_until_its_own_hard_limit() -> None:
    stopped, left = threading.Event(), threading.Event()
    limits = ThreadLimits(
        raising=recording([]),
        interruptible=anywhere,
        stop_taking_work=stopped.set,
        leave=left.set,
        grace=0,
    )
    other_started = threading.Event()

    def other() -> None:  # stuck too, its hard limit a little later: it never ends
        limits.started("fleet.post", soft=0.3, hard=0.6)
        other_started.set()

    threading.Thread(target=other).start()
    assert other_started.wait(DEADLINE)
    started = time.monotonic()
    limits.started("fleet.comment", soft=0.1, hard=0.2)
    assert stopped.wait(DEADLINE)
    assert left.wait(DEADLINE)
    assert time.monotonic() - started >= 0.5  # not before the other's hard limit


def test_a_task_ended_in_time_makes_no_worker_leave() -> None:
    stopped, left = threading.Event(), threading.Event()
    limits = ThreadLimits(stop_taking_work=stopped.set, leave=left.set)
    limits.started("fleet.comment", soft=0.1, hard=0.2)
    limits.ended()
    assert not stopped.wait(0.4) and not left.is_set()


def test_a_worker_whose_tasks_are_all_stuck_leaves_after_the_grace_its_consumer_stops_in() -> None:
    """Celery's warm shutdown stops the consumer first (its prefetched messages handed
    back): the worker leaves no sooner than the grace after it stopped taking work."""
    stopped, left = threading.Event(), threading.Event()
    limits = ThreadLimits(
        raising=recording([]),
        interruptible=anywhere,
        stop_taking_work=stopped.set,
        leave=left.set,
        grace=0.5,
    )
    limits.started("fleet.comment", soft=0.05, hard=0.1)  # stuck: it never ends
    assert stopped.wait(DEADLINE)
    stopped_at = time.monotonic()
    assert left.wait(DEADLINE)
    assert time.monotonic() - stopped_at >= 0.45


def test_a_limit_never_lands_where_a_lock_is_taken_and_not_yet_guarded() -> None:
    """``threading.Condition``'s ``with`` takes its lock in one frame and guards it in
    another: a limit raised between the two would leave the lock held for ever (as it
    did SQLAlchemy's pool queue's). The watchdog raises only once the thread is out of
    such code: after each of many limits, the lock is free."""
    limits = ThreadLimits(stop_taking_work=lambda: None, leave=lambda: None)
    condition = threading.Condition()

    def locking() -> str:
        limits.started("fleet.comment", soft=0.01, hard=None)
        try:
            deadline = time.monotonic() + DEADLINE
            while time.monotonic() < deadline:
                with condition:  # most of its time in Condition.__enter__ and __exit__
                    pass
            return "spun to the deadline: the limit never came"
        finally:
            limits.ended()

    for attempt in range(30):
        out = run_in_thread(locking)
        assert isinstance(out.get("raised"), TimeLimitExceeded), (attempt, out)
        assert condition.acquire(blocking=False), f"limit {attempt}: the lock left held"
        condition.release()


def test_where_a_limit_can_land() -> None:
    """A thread waiting in ``threading``'s code is not where a limit can land; one
    running its own code is."""
    waiting, running, stop = threading.Event(), threading.Event(), threading.Event()

    def waits() -> None:
        waiting.set()
        stop.wait(DEADLINE)

    def runs() -> None:
        running.set()
        busy_until(stop)

    threads = [threading.Thread(target=waits), threading.Thread(target=runs)]
    for thread in threads:
        thread.start()
    try:
        assert waiting.wait(DEADLINE) and running.wait(DEADLINE)
        assert not at_safe_point(_ident_of(threads[0]))
        wait_for(lambda: at_safe_point(_ident_of(threads[1])), DEADLINE, "a safe point", every=0.01)
    finally:
        stop.set()
        for thread in threads:
            thread.join(DEADLINE)


@pytest.mark.redis
def test_a_limit_never_lands_where_the_fleet_redis_pool_takes_a_connection_back() -> None:
    """``InterruptSafePool.release`` runs in the ``finally`` of each Redis command: a
    limit landing as it starts would leave the connection counted out of the pool for
    ever (seen: the limit anywhere test, "a Redis connection not given back" at
    ``fleet/release``). The watchdog lands nowhere in that module, as in redis-py's
    own pool; a call into the fleet's client elsewhere stays a place it can land."""
    client = interrupt_safe_client(REDIS_URL)
    in_pool: list[bool] = []
    in_client: list[bool] = []

    def tracer(frame: Any, event: str, arg: Any) -> None:
        if event == "call":
            if frame.f_code.co_filename == redis_pool.__file__:
                in_pool.append(safe_to_interrupt(frame))
            elif frame.f_code.co_name == "execute_command":
                in_client.append(safe_to_interrupt(frame))

    sys.settrace(tracer)
    try:
        assert client.ping()
    finally:
        sys.settrace(None)
        client.close()
    assert in_pool, "the command gave no connection back through InterruptSafePool.release"
    assert not any(in_pool), "a limit could land in the pool's release"
    assert in_client and all(in_client), "the client's own code is where a limit can land"


_PROFILED_AFTER_A_LIMIT = """
import sys, threading, time
from fleet.worker.limits import ThreadLimits

limits = ThreadLimits(stop_taking_work=lambda: None, leave=lambda: None)
raised = []

def task():
    limits.started("fleet.comment", soft=0.05, hard=None)
    try:
        while True:
            sum(range(100))
    except BaseException as error:
        raised.append(type(error).__name__)
    finally:
        limits.ended()

thread = threading.Thread(target=task)
thread.start()
thread.join()
# Printed by this thread, after the task's: never on one line with the limit's log line,
# which the limit's own thread writes.
print(*raised)
sys.setprofile(lambda frame, event, arg: None)
calls = 0
end = time.monotonic() + 0.5
while time.monotonic() < end:
    (lambda: None)()
    calls += 1
sys.setprofile(None)
print("profiled calls", calls)
"""


def test_code_run_under_a_profiler_after_a_limit_ends() -> None:
    """A limit taken back at its task's end leaves nothing marked pending: CPython 3.11
    marks the interpreter when one is cleared, and code under ``sys.setprofile`` then
    spun in place for ever (a trace of a like after the limits' tests never ended). In a
    process of its own: the failure is a process that never ends."""
    done = subprocess.run(
        [sys.executable, "-c", _PROFILED_AFTER_A_LIMIT],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "TimeLimitExceeded" in done.stdout.splitlines()  # a line of its own, after the log's
    assert done.stdout.splitlines()[-1].startswith("profiled calls ")
