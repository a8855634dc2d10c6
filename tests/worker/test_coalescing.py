"""Coalescing in the worker's main process, with Celery's parts replaced at their seams:
requests held until there are enough or the time is up, one alone sent as Celery sends
it, several as one call whose end ends each request as Celery would."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from celery.worker import state as worker_state

from fleet.worker import coalescing
from fleet.worker.coalescing import Coalescer, run_coalesced


@dataclass(eq=False)
class Request:
    """What the coalescer asks of Celery's request; reserved by the worker (as Celery's
    strategy reserves a request before it hands it on) unless told otherwise."""

    args: tuple[Any, ...]
    retries: int = 0
    ended: list[tuple[str, Any]] = field(default_factory=list)
    reserved: bool = True

    def __post_init__(self) -> None:
        if self.reserved:
            worker_state.reserved_requests.add(self)

    @property
    def request_dict(self) -> dict[str, Any]:
        return {"retries": self.retries}

    def on_accepted(self, pid: int, time_accepted: float) -> None:
        self.ended.append(("accepted", pid))

    def on_success(self, ended: Any) -> None:
        self.ended.append(("success", ended))

    def on_failure(self, exc_info: Any) -> None:
        self.ended.append(("failure", exc_info))

    def on_timeout(self, soft: bool, timeout: float) -> None:
        self.ended.append(("timeout", soft))


class Timer:
    def __init__(self) -> None:
        self.due: list[Callable[[], None]] = []
        self.cancelled = 0

    def call_after(self, seconds: float, fun: Callable[[], None]) -> Timer:
        self.due.append(fun)
        return self

    def cancel(self) -> None:
        self.cancelled += 1

    def fire(self) -> None:
        due, self.due = self.due, []
        for fun in due:
            fun()


class Pool:
    """Runs the call at once, in this process, as a pool process would, and ends it with
    its callbacks; ``fails``: it ends with the error callback instead."""

    def __init__(self, fails: bool = False) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.fails = fails

    def apply_async(
        self, target: Callable[..., Any], args: tuple[Any, ...], **options: Any
    ) -> None:
        self.calls.append(args)
        assert options["soft_timeout"] == 60 and options["timeout"] == 90
        options["accept_callback"](4242, 0.0)
        if self.fails:
            options["error_callback"]("worker lost")
        else:
            options["callback"](target(*args))


class Consumer:
    def __init__(self, pool: Pool) -> None:
        self.timer = Timer()
        self.pool = pool
        self.alone: list[Request] = []

    def on_task_request(self, request: Request) -> None:
        self.alone.append(request)


class Task:
    """A coalescible task: runs many keys, records each batch."""

    def __init__(self) -> None:
        self.batches: list[tuple[list[str], dict[str, int]]] = []
        conf = type("Conf", (), {"task_soft_time_limit": 60, "task_time_limit": 90})()
        self.app = type("App", (), {"conf": conf})()

    def run_many(self, keys: list[str], retries: dict[str, int]) -> dict[str, str]:
        self.batches.append((keys, retries))
        return {key: "succeeded" for key in keys if key != "1:2:like"}


@pytest.fixture(autouse=True)
def _no_reserved_left() -> Any:
    yield
    worker_state.reserved_requests.clear()


def _coalescer(every: int = 3, fails: bool = False) -> tuple[Coalescer, Consumer, Task]:
    task = Task()
    consumer = Consumer(Pool(fails))
    return Coalescer(task, consumer, every=every, seconds=0.05), consumer, task  # type: ignore[arg-type]


def test_requests_held_until_there_are_enough_go_as_one_call() -> None:
    coalescer, consumer, task = _coalescer()
    held = [Request((f"1:{n}:like",), retries=n % 2) for n in range(3)]
    for request in held[:2]:
        coalescer.hold(request)  # type: ignore[arg-type]
    assert not task.batches and not consumer.alone
    coalescer.hold(held[2])  # type: ignore[arg-type]
    assert task.batches == [
        (["1:0:like", "1:1:like", "1:2:like"], {"1:0:like": 0, "1:1:like": 1, "1:2:like": 0})
    ]
    assert consumer.timer.cancelled == 1, "the time-out of the first held is no longer due"
    assert [request.ended[0] for request in held] == [("accepted", 4242)] * 3
    statuses = [request.ended[1][1][1] for request in held]
    assert statuses == ["succeeded", "succeeded", "unknown"], "each request ends with its own"
    assert all(request.ended[1][1][0] is False for request in held)


def test_one_request_held_alone_goes_as_celery_sends_it_when_its_time_is_up() -> None:
    coalescer, consumer, task = _coalescer()
    alone = Request(("1:7:like",))
    coalescer.hold(alone)  # type: ignore[arg-type]
    assert not consumer.alone
    consumer.timer.fire()
    assert consumer.alone == [alone] and not task.batches and not alone.ended


def test_a_lost_call_ends_every_request_it_carried_as_failed() -> None:
    coalescer, _consumer, _task = _coalescer(every=2, fails=True)
    held = [Request(("1:1:like",)), Request(("1:3:like",))]
    for request in held:
        coalescer.hold(request)  # type: ignore[arg-type]
    assert [request.ended[-1] for request in held] == [("failure", "worker lost")] * 2


def test_a_message_that_is_not_one_key_is_named_by_its_arguments() -> None:
    coalescer, _consumer, task = _coalescer(every=2)
    coalescer.hold(Request((1, 2)))  # type: ignore[arg-type]
    coalescer.hold(Request(("1:1:like",)))  # type: ignore[arg-type]
    assert task.batches[0][0] == ["(1, 2)", "1:1:like"]


@pytest.mark.parametrize("every", [2, 5])
def test_run_coalesced_answers_each_request_in_its_order(every: int) -> None:
    task = Task()
    keys = [f"1:{n}:like" for n in range(every)]
    ended = run_coalesced(task, keys, {})  # type: ignore[arg-type]
    assert [status for _, status, _ in ended] == [
        "succeeded" if key != "1:2:like" else "unknown" for key in keys
    ]


def test_requests_the_consumer_let_go_at_a_lost_connection_are_not_run() -> None:
    """Celery forgets its reserved requests when the broker connection is lost (their
    deliveries belong to the closed channel and come again); held ones are not run then."""
    coalescer, consumer, task = _coalescer()
    held = [Request((f"1:{n}:like",)) for n in range(2)]
    for request in held:
        coalescer.hold(request)  # type: ignore[arg-type]
    worker_state.reserved_requests.discard(held[0])  # the consumer's on_close
    consumer.timer.fire()
    assert consumer.alone == [held[1]] and not task.batches
    worker_state.reserved_requests.clear()
    coalescer.hold(Request(("1:5:like",), reserved=False))  # type: ignore[arg-type]
    consumer.timer.fire()
    assert consumer.alone == [held[1]] and not task.batches, "a request let go never runs"


def test_held_requests_go_on_the_next_one_once_their_time_is_up_if_the_timer_is_lost(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [100.0]
    monkeypatch.setattr(coalescing.time, "monotonic", lambda: now[0])
    coalescer, consumer, task = _coalescer(every=10)
    first = Request(("1:1:like",))
    coalescer.hold(first)  # type: ignore[arg-type]
    consumer.timer.due.clear()  # the timer entry lost (a timer cleared under it)
    now[0] += 0.01
    coalescer.hold(Request(("1:3:like",)))  # type: ignore[arg-type]
    assert not task.batches, "not yet: the first has waited 10 ms of its 50"
    now[0] += 0.05
    coalescer.hold(Request(("1:4:like",)))  # type: ignore[arg-type]
    assert task.batches and task.batches[0][0] == ["1:1:like", "1:3:like", "1:4:like"]
