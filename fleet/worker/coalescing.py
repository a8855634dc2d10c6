"""Coalescing: messages of one cheap action each, carried out together.

A like or a browse sent alone (a retry, a lease's re-send, an approved draft, a tick
decided alone) is a message of its own, as ever; but where the worker holds several of
them it hands them to one pool process as one batch, as the tick's batch messages
already are (``fleet.engage_batch``): a like alone then costs about what a like of a
batch costs, not a task of its own (the batch's statements, its feed page and its
ledger read shared).

The worker's main process keeps what Celery's own strategy makes of each message (the
request, its events, its revocation, its ETA: a retry waits for its countdown in
Celery's timer and runs alone), and holds the requests that would run now for at most
``FLEET_TASKS__COALESCE_SECONDS`` or until it holds half its prefetch (a batch at most).
Then one request runs as Celery runs it; several run as one call in a pool process,
and each request is then ended as Celery ends one (``on_accepted``, ``on_success``,
``on_failure``, ``on_timeout``): its events for Flower, its state, its acknowledgement
once it ran (``task_acks_late``). Read celery-batches (clokep/celery-batches, which pins
Celery below 5.7) for the idea; this keeps Celery's requests instead of its own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any, Protocol

from celery import Celery, Task
from celery.worker import state as worker_state
from celery.worker import strategy

# What one coalesced call returns for each of its requests: (failed, result, runtime),
# as Celery's tracer hands ``Request.on_success``.
Traced = tuple[bool, Any, float]


class Coalescible(Protocol):
    """A task whose requests may be coalesced: it runs several keys as one batch."""

    def run_many(self, keys: list[str], retries: dict[str, int]) -> dict[str, str]:
        """Each key's status, the keys carried out as one batch (``retries``: of each
        key's message)."""
        ...


def run_coalesced(task: Coalescible, keys: list[str], retries: dict[str, int]) -> list[Traced]:
    """In a pool process: the keys carried out as one batch by the task's own runner
    (``task.run_many``), each request's (failed, status, runtime)."""
    started = time.monotonic()
    statuses = task.run_many(keys, retries)
    runtime = time.monotonic() - started
    return [(False, statuses.get(key, "unknown"), runtime) for key in keys]


class Coalescer:
    """The requests of one task the worker's main process holds until they go out."""

    def __init__(self, task: Task[Any, Any], consumer: Any, *, every: int, seconds: float) -> None:
        self.task = task
        self.consumer = consumer
        self.every = every
        self.seconds = seconds
        self._held: list[Any] = []
        self._since = 0.0  # when the oldest held request came (monotonic)
        self._timer: Any = None
        self._lock = threading.Lock()

    def hold(self, request: Any) -> None:
        """Hold a request that would run now; send the held ones when there are enough, or
        when the oldest has waited its time (should its timer have been lost)."""
        now = time.monotonic()
        with self._lock:
            if not self._held:
                self._since = now
            self._held.append(request)
            due = len(self._held) >= self.every or now - self._since >= self.seconds
            if not due and self._timer is None:
                self._timer = self.consumer.timer.call_after(self.seconds, self.flush)
        if due:
            self.flush()

    def flush(self) -> None:
        """Send what is held: one request as Celery sends it, several as one call. A
        request the consumer let go meanwhile is not run: at a lost connection Celery
        forgets its reserved requests (their deliveries belong to the closed channel and
        come again), and so does this."""
        with self._lock:
            held, self._held = self._held, []
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        held = [request for request in held if request in worker_state.reserved_requests]
        if len(held) == 1:
            self.consumer.on_task_request(held[0])
        elif held:
            self._apply(held)

    def _apply(self, held: Sequence[Any]) -> None:
        keys = [_key_of(request) for request in held]
        retries = {
            key: int(request.request_dict.get("retries") or 0)
            for key, request in zip(keys, held, strict=True)
        }

        def accepted(pid: int, time_accepted: float) -> None:
            for request in held:
                request.on_accepted(pid, time_accepted)

        def ran(results: list[Traced]) -> None:
            for request, ended in zip(held, results, strict=True):
                request.on_success(ended)

        def failed(exc_info: Any) -> None:
            for request in held:
                request.on_failure(exc_info)

        def timed_out(*limit: Any) -> None:  # (soft, seconds), as Celery's pool says
            for request in held:
                request.on_timeout(*limit)

        conf = self.task.app.conf
        self.consumer.pool.apply_async(
            run_coalesced,
            args=(self.task, keys, retries),
            accept_callback=accepted,
            callback=ran,
            error_callback=failed,
            timeout_callback=timed_out,
            soft_timeout=conf.task_soft_time_limit,
            timeout=conf.task_time_limit,
        )


def _key_of(request: Any) -> str:
    """The message's one argument, the action's key (anything else as its repr, cut: the
    work names it as no key)."""
    args = tuple(request.args or ())
    return args[0] if len(args) == 1 and isinstance(args[0], str) else repr(args)[:96]


class _Holding:
    """The consumer as Celery's strategy sees it, but for where a request that would run
    now goes: to the coalescer."""

    def __init__(self, consumer: Any, coalescer: Coalescer) -> None:
        self._consumer = consumer
        self.on_task_request = coalescer.hold

    def __getattr__(self, name: str) -> Any:
        return getattr(self._consumer, name)


def coalescing_strategy(
    task: Task[Any, Any], app: Celery, consumer: Any, *, every: int, seconds: float
) -> Any:
    """Celery's default strategy for ``task``, whose requests that would run now are held
    and sent together (``Coalescer``); ``every`` 1 or ``seconds`` 0: Celery's own."""
    if every <= 1 or seconds <= 0:
        return strategy.default(task, app, consumer)
    coalescer = Coalescer(task, consumer, every=every, seconds=seconds)
    return strategy.default(task, app, _Holding(consumer, coalescer))
