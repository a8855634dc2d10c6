"""Celery tasks: thin shells that parse ids and call one use case (``fleet.service.work``).

The dispatcher and the ticks run on queue ``ticks``; each kind of action of the registry
(``fleet.core.kinds``) has its task on its kind's queue. Action tasks share one base
class that turns a settled failure into Celery's terms: a retry with its countdown, a
dead letter sent on, or the end.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Mapping
from types import FrameType
from typing import TYPE_CHECKING, Any

from billiard import pool as billiard_pool
from celery import Celery, Task, shared_task
from celery.signals import (
    task_postrun,
    task_prerun,
    worker_init,
    worker_process_init,
    worker_process_shutdown,
)
from structlog.contextvars import bound_contextvars

from fleet.core.kinds import BATCH_TASKS as KINDS_BATCH_TASKS
from fleet.core.kinds import KINDS, Action, ActionKey, ActionKind, parsed_key
from fleet.errors import TimeLimitExceeded, TransientError
from fleet.infra.logs import get_logger
from fleet.infra.queue import send_actions, send_ticks
from fleet.service import work
from fleet.service.pace import measure_pace as measure_fleet_pace
from fleet.service.root import Fleet, bootstrap
from fleet.service.work import Tick
from fleet.worker.coalescing import coalescing_strategy

if TYPE_CHECKING:
    from fleet.worker.limits import ThreadLimits

# One Fleet per worker process, built on first use, never at import.
#
# A process that runs a worker in itself (the demo) builds its own Fleet and hands it to
# the worker on the Celery app (``app.conf.fleet``): its tasks then use that one.

_process_log = get_logger("fleet.worker")

_fleet: Fleet | None = None
_pid = os.getpid()


def current_fleet(app: Celery) -> Fleet:
    """The Fleet handed to the app (``app.conf.fleet``), else the process's own, built from
    the app's settings the first time it is needed."""
    given = app.conf.get("fleet")
    if isinstance(given, Fleet):
        return given
    global _fleet, _pid
    if _fleet is None:
        _fleet = bootstrap(app.conf.fleet_settings)
        _pid = os.getpid()
    return _fleet


@worker_init.connect
def _load_before_forking(sender: Any = None, **_: Any) -> None:
    # The worker's Fleet is built in its main process, before a prefork pool forks: its
    # imports (the database driver, the content writers, the Anthropic SDK: about a
    # second), the persona files and the action kit are inherited by every child, whose
    # first action does not spend its time limit on them. Nothing here connects.
    _give_back_large_buffers()
    _limit_threads(sender)
    app = getattr(sender, "app", None)
    if app is not None and not _acts(app):
        # The ticks' worker (and the dead letters'): it carries out no action, so it
        # loads no content writers, action kit, embedding model or persona vectors.
        return
    import fleet.content.factory  # noqa: F401

    _load_for_children(sender, app)
    if app is None or isinstance(app.conf.get("fleet"), Fleet):
        return
    try:
        kit = current_fleet(app).action_kit
        interests = kit.targeting.interests
        if interests is not None:
            # The embedding model and every persona's vector, loaded here once: a child
            # would spend a quarter of a second of CPU on them at its first like.
            interests.warm(kit.personas)
        if _forks(sender) and _consumes(app, KINDS[Action.REPLY].queue):
            # The identity check's banks (some 240 examples), embedded here once: each
            # child would embed them at its first reply (seconds of CPU), and keep a copy.
            current_fleet(app).identity_intent.warm()
    except Exception as error:  # a broken setting fails the first task, as it always did
        _process_log.warning("fleet not built before forking", error=str(error))
    # What the main process built stays shared with the pool's children (copy-on-write):
    # frozen, the collector of a child never walks those objects, so it does not write to
    # (and copy) their pages. A child's own objects are collected as ever.
    gc.collect()
    gc.freeze()


# glibc's mallopt parameter for the size from which a buffer is mapped on its own.
_M_MMAP_THRESHOLD = -3
_LARGE_BUFFER = 128 * 1024


def _give_back_large_buffers() -> None:
    """Large buffers mapped for each use and unmapped when freed, in this process and
    the children it forks. By default glibc raises that size to the largest buffer freed
    so far (up to 32 MiB), and from then on keeps such buffers in the process's heap,
    which it seldom returns: the embedding engine's scratch for a text (a few MiB a
    call), a large query's rows: 1 to 3 MiB more in each content child (docs/operations.md)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # a C library without it: nothing to tune
        return
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt(_M_MMAP_THRESHOLD, _LARGE_BUFFER)


def _load_for_children(sender: Any, app: Celery | None) -> None:
    """What each child of the pool would otherwise load for itself on first use, loaded
    once here (figures: a child's private memory and CPU, docs/tuning.md)."""
    if _forks(sender):
        # billiard sets each child's parent-death signal through cffi, whose first
        # declaration imports and builds a C parser: 3.9 MiB and 40 ms in every child.
        # Reading the parent's (it sets nothing) builds that parser here.
        from billiard.util import get_pdeathsig  # type: ignore[attr-defined]

        with contextlib.suppress(OSError):  # not Linux: billiard sets none there either
            get_pdeathsig()
    # The maintained word list of what the fleet never says (the guard reads it).
    from fleet.content.guard.blocklist import maintained

    maintained()
    if app is None or _consumes(app, KINDS[Action.POST].queue):
        # The reader of a post's image provenance (the CAI's C2PA library and its
        # bindings): 7 MiB and 140 ms in every child that posts. Warmed when the
        # provenance extra is installed; without it, a post whose image is checked fails
        # naming the extra (fleet.gallery.provenance), and no other action needs it.
        with contextlib.suppress(ModuleNotFoundError):
            import c2pa  # noqa: F401


def _pool_is(sender: Any, pool_cls: type) -> bool:
    """Whether the worker's pool is ``pool_cls`` (or a subclass of it)."""
    from celery.concurrency import get_implementation

    pool = getattr(sender, "pool_cls", None)
    try:
        found = get_implementation(pool) if isinstance(pool, str) else pool
    except (KeyError, ImportError):
        return False
    return isinstance(found, type) and issubclass(found, pool_cls)


def _forks(sender: Any) -> bool:
    """Whether the worker's pool forks children (prefork)."""
    from celery.concurrency.prefork import TaskPool

    return _pool_is(sender, TaskPool)


# The time limits of a worker whose tasks run on threads, which Celery does not enforce
# there (``fleet.worker.limits``); None in every other pool.
_thread_limits: ThreadLimits | None = None


def _limit_threads(sender: Any) -> None:
    from celery.concurrency.thread import TaskPool

    global _thread_limits
    if _pool_is(sender, TaskPool):
        from fleet.worker.limits import ThreadLimits

        _thread_limits = ThreadLimits()


# The queues whose tasks carry out actions (a kind's, and its batches').
_ACTION_QUEUES = frozenset(kind.queue for kind in KINDS.values())


def _consumes(app: Celery, queue: str) -> bool:
    """Whether this worker consumes ``queue`` (or every queue: none named)."""
    consumed = set(app.amqp.queues.consume_from or ())
    return not consumed or queue in consumed


def _acts(app: Celery) -> bool:
    """Whether this worker consumes a queue of actions (or every queue: none named)."""
    return any(_consumes(app, queue) for queue in _ACTION_QUEUES)


@worker_process_init.connect
def _fresh_after_fork(**_: Any) -> None:
    # A forked pool child keeps the Fleet it inherited but none of the parent's database
    # connections (its pool starts empty; the parent's sockets stay the parent's). Redis
    # clients and the gallery's HTTP pool notice the new process and open their own.
    if _fleet is not None and os.getpid() != _pid:
        _fleet.engine.dispose(close=False)


# A task's soft time limit, raised only while the task runs. A prefork pool process gets
# the limit as a signal (SIGUSR1) from the worker's main process, sent once a task has run
# its time unless its result has reached the main process, and billiard's handler raises
# ``SoftTimeLimitExceeded`` wherever the process is. A task that ends just before its
# limit is then writing its result: the exception cuts that message mid-write, billiard
# writes an error message after the partial one, and the main process reads garbage
# (``UnicodeDecodeError`` in ``asynpool._recv_message``), an unrecoverable error that stops
# the worker and every task it held (seen at a Redis link cut, where tasks blocked on the
# silent broker ended near their limit). Here the handler raises only between a task's
# start and its end; a signal after the end is late, and dropped. In the solo and threads
# pools SIGUSR1 is Celery's own, and stays so; on threads Fleet's watchdog raises the
# limit instead (``fleet.worker.limits``), between the same two points. Both raise
# ``TimeLimitExceeded``, an ``Interrupt`` that no ``except Exception`` takes for a failure
# of its own (billiard's ``SoftTimeLimitExceeded`` is an ``Exception``): the action settles
# it (``fleet.service.work``), as a failed attempt that retries.
_SOFT_LIMIT_SIGNAL = getattr(signal, "SIGUSR1", None)
_running = False


def _soft_limit(signum: int, frame: FrameType | None) -> None:
    if _running:
        raise TimeLimitExceeded()


@task_prerun.connect
def task_started(task: Task[Any, Any] | None = None, **_: Any) -> None:
    """A task begins in this process: its soft limit raises from here. In a prefork pool
    process, billiard's handler (installed after Fleet's process hooks run) is replaced
    the first time; on threads, the task's limits start on its thread."""
    global _running
    if _thread_limits is not None:
        if task is not None:
            _thread_limits.task_started(task)
        return
    sig = _SOFT_LIMIT_SIGNAL
    if sig is not None and signal.getsignal(sig) is billiard_pool.soft_timeout_sighandler:
        signal.signal(sig, _soft_limit)
    _running = True


@task_postrun.connect
def task_ended(**_: Any) -> None:
    """The task is over, its result not yet sent: a soft limit from now on is late."""
    global _running
    if _thread_limits is not None:
        _thread_limits.ended()
        return
    _running = False


@worker_process_shutdown.connect
def _close(**_: Any) -> None:
    if _fleet is not None:
        _fleet.close()


log = get_logger("fleet.tasks")


@shared_task(name="fleet.dispatch", bind=True, acks_late=False, ignore_result=True)
def dispatch(self: Task[Any, Any]) -> int:
    """Claim due agents, advance their clocks, publish their ticks; returns ticks sent."""
    fleet = current_fleet(self.app)
    batch_size = fleet.settings.tasks.tick_batch_size

    def publish(ticks: list[Tick]) -> None:
        now = fleet.clock.now().timestamp()
        send_ticks(self.app, ticks, batch_size=batch_size, now=now)

    report = work.dispatch(fleet, publish)
    if report.ticks:
        _last["tick"] = time.monotonic()
    else:
        _note_outlook(fleet)
    for agent_id, reason in report.set_aside:
        log.error("agent set aside", task="fleet.dispatch", agent=agent_id, reason=reason)
    if report.ticks:
        log.debug(  # once a second under load: the actions' own lines say what happened
            "dispatched",
            task="fleet.dispatch",
            ticks=report.ticks,
            batches=report.batches,
            max_lag=round(max(report.lags, default=0.0), 3),
        )
    return report.ticks


# Seconds between the dispatcher's notes of when the next agent is due, while none is.
OUTLOOK_EVERY_SECONDS = 60.0
_last: dict[str, float] = {}  # monotonic seconds of the last tick sent, the last note


def _note_outlook(fleet: Fleet) -> None:
    """At the first quiet cycle, then once a minute while no tick has been dispatched for
    a minute, log when the next agent is due and why: a quiet fleet says it is quiet."""
    from fleet.service.outlook import outlook

    now = time.monotonic()
    if now - _last.get("tick", -1e9) < OUTLOOK_EVERY_SECONDS:
        return
    if now - _last.get("note", -1e9) < OUTLOOK_EVERY_SECONDS:
        return
    _last["note"] = now
    try:
        log.info(outlook(fleet).line(), task="fleet.dispatch")
    except Exception as error:  # a note must never stop the dispatcher
        log.warning("outlook not read", task="fleet.dispatch", error=str(error)[:200])


def _decide(task: Task[Any, Any], ticks: list[list[int]]) -> int:
    fleet = current_fleet(task.app)
    fresh = work.decide(fleet, ticks)
    send_actions(task.app, fresh, batch_size=fleet.settings.tasks.action_batch_size)
    return len(fresh)


@shared_task(name="fleet.tick", bind=True)
def tick(
    self: Task[Any, Any],
    agent_id: int,
    due_at: int,
    opened: int | None = None,
    index: int = 0,
) -> int:
    """Decide one agent's action for the tick due at ``due_at`` (UTC epoch seconds), the
    ``index``-th of the session opened at second ``opened``."""
    if opened is None:
        return _decide(self, [[agent_id, due_at]])
    return _decide(self, [[agent_id, due_at, opened, index]])


@shared_task(name="fleet.tick_batch", bind=True)
def tick_batch(self: Task[Any, Any], ticks: list[list[int]]) -> int:
    """Decide the actions of a batch of ``[agent_id, due_at, opened, index]`` ticks."""
    return _decide(self, ticks)


class ActionTask(Task[Any, Any]):
    """The base of every action's task (``_action_task`` runs the action and settles any
    failure in Celery's terms)."""

    # Attempts are counted in Postgres, waits do not count, and a lost worker's retries are
    # bounded by the deliveries each claim counts (ActionKit.max_deliveries).
    max_retries = None


class CoalescedActionTask(ActionTask):
    """The task of a batchable kind (``fleet.like``, ``fleet.browse``): a message carries
    one key, as ever, but where the worker holds several the main process sends them to
    one pool process together (``fleet.worker.coalescing``), each settled on its own as
    in a batch message: a like sent alone costs about what a like of a batch does."""

    def start_strategy(self, app: Celery, consumer: Any, **kwargs: Any) -> Any:
        tasks = app.conf.fleet_settings.tasks
        prefetch = int(getattr(consumer, "initial_prefetch_count", 0) or 0)
        # Half the prefetch (while one batch runs, the next fills); a batch with no
        # prefetch limit (a multiplier of 0).
        every = min(tasks.action_batch_size, prefetch // 2) if prefetch else tasks.action_batch_size
        return coalescing_strategy(self, app, consumer, every=every, seconds=tasks.coalesce_seconds)

    def run_many(self, keys: list[str], retries: dict[str, int]) -> dict[str, str]:
        """Carry out the keys of several messages as one batch: each key's status. Called
        in a pool process outside Celery's tracer, so it says itself when it runs."""
        task_started(self)
        try:
            with bound_contextvars(task=self.name, keys=len(keys), coalesced=True):
                return _act_batch(self, keys, retries=retries)
        except TimeLimitExceeded:
            return dict.fromkeys(keys, _late_limit())
        finally:
            task_ended()


def _late_limit() -> str:
    """A time limit that came where no action settles it (while a failure was being
    settled, a retry sent, a batch ended): what the task had not settled stays pending
    under its lease, and the lease sweeper sends it again, as after a lost worker."""
    log.warning("time limit past the settling: left to the lease sweeper")
    return "interrupted"


def _action_task(kind: ActionKind) -> Any:
    """The task of one kind of the registry: ``fleet.<kind>`` on the kind's queue."""

    def run(self: ActionTask, key: str) -> str:
        parsed = parsed_key(key)  # the key parsed once, at the task's entry
        if isinstance(parsed, ActionKey):
            agent, action = str(parsed.agent_id), parsed.action.value
        else:  # logged as given; no activity has it, the work says so
            agent, action = "", ""
        with bound_contextvars(
            task=self.name, task_id=self.request.id, agent=agent, action=action, key=key
        ):
            try:
                outcome = work.act(
                    current_fleet(self.app), parsed, self.name, deferrals=self.request.retries
                )
                match outcome:
                    case work.Retry(countdown=countdown, reason=reason):
                        log.info("retrying", countdown=round(countdown, 2), reason=reason)
                        raise self.retry(countdown=countdown, max_retries=None) from None
                    case work.Dead(dead_letter_id=letter, reason=reason):
                        log.warning("dead letter", dead_letter=letter, reason=reason)
                        self.app.send_task("fleet.dead_letter", args=(letter,), queue="dead_letter")
                    case work.Skipped(reason=reason):
                        log.info("done", outcome=outcome.status, reason=reason)
                    case _:
                        log.info("done", outcome=outcome.status)
                return outcome.status
            except TimeLimitExceeded:
                return _late_limit()

    run.__name__ = run.__qualname__ = kind.action.value
    run.__doc__ = f"Carry out one {kind.action.value} by its idempotency key."
    base = CoalescedActionTask if kind.batchable else ActionTask
    return shared_task(name=kind.task, bind=True, base=base)(run)


ACTION_TASKS = {kind.action: _action_task(kind) for kind in KINDS.values()}


def _batch_task(queue: str, name: str) -> Any:
    """The batch task of a queue with batchable kinds (``fleet.engage_batch``): many keys
    in one message, each action settled on its own. A failed action that is to retry
    leaves the batch as a message of its own to its kind's task, with its backoff."""

    def run(self: Task[Any, Any], keys: list[str]) -> dict[str, int]:
        with bound_contextvars(task=self.name, task_id=self.request.id, keys=len(keys)):
            try:
                return dict(Counter(_act_batch(self, keys).values()))
            except TimeLimitExceeded:
                return {_late_limit(): len(keys)}

    run.__name__ = run.__qualname__ = f"{queue}_batch"
    run.__doc__ = f"Carry out a batch of cheap actions of queue {queue} by their keys."
    return shared_task(name=name, bind=True)(run)


def _act_batch(
    task: Task[Any, Any], keys: list[str], *, retries: Mapping[str, int] | None = None
) -> dict[str, str]:
    """Carry out these keys as one batch, each settled on its own (a retry sent as a
    message of its kind's task, counting ``retries``, the message's own, on): each key's
    status, by the key as the message held it."""
    retries = retries or {}
    parsed: dict[ActionKey[Action], str] = {}  # each key, parsed once: its message's text
    deferrals: dict[ActionKey[Action], int] = {}
    statuses: dict[str, str] = {}
    for text in keys:
        found = parsed_key(text)
        if isinstance(found, str):  # no activity can have it, as the single task says
            log.warning("not an action key", key=text[:96])
            statuses[text] = "unknown"
            continue
        parsed[found] = text
        deferrals[found] = retries.get(text, 0)
    done = work.act_batch(current_fleet(task.app), list(parsed), deferrals=deferrals)
    with task.app.producer_or_acquire() as producer:
        for key, outcome in done.items():
            text = parsed[key]
            statuses[text] = outcome.status
            match outcome:
                case work.Retry(countdown=countdown, reason=reason):
                    kind = KINDS[key.action]
                    log.info(
                        "retrying alone", key=text, countdown=round(countdown, 2), reason=reason
                    )
                    # Its kind's task counts its retries from here (``request.retries``).
                    task.app.send_task(
                        kind.task,
                        args=(text,),
                        queue=kind.queue,
                        producer=producer,
                        countdown=countdown or None,
                        retries=retries.get(text, 0) + 1,
                    )
                case work.Dead(dead_letter_id=letter, reason=reason):
                    log.warning("dead letter", key=text, dead_letter=letter, reason=reason)
                    task.app.send_task(
                        "fleet.dead_letter",
                        args=(letter,),
                        queue="dead_letter",
                        producer=producer,
                    )
    log.info("batch done", **Counter(statuses.values()))
    return statuses


BATCH_TASKS = {queue: _batch_task(queue, name) for queue, name in KINDS_BATCH_TASKS.items()}


@shared_task(name="fleet.dead_letter", bind=True)
def dead_letter(self: Task[Any, Any], letter_id: int) -> int:
    """The dead-letter queue's consumer: it only reports (the row is in Postgres)."""
    log.warning("dead letter received", task="fleet.dead_letter", dead_letter=letter_id)
    return letter_id


@shared_task(name="fleet.sweep_leases", bind=True, acks_late=False)
def sweep_leases(self: Task[Any, Any]) -> int:
    """Re-send activities left pending past their lease (a lost message, a killed worker)."""
    fleet = current_fleet(self.app)
    expired = work.sweep(fleet)
    send_actions(self.app, expired, batch_size=fleet.settings.tasks.action_batch_size)
    if expired:
        log.warning(
            "leases expired, actions re-sent", task="fleet.sweep_leases", count=len(expired)
        )
    return len(expired)


@shared_task(name="fleet.measure_pace", bind=True, acks_late=False)
def measure_pace(self: Task[Any, Any]) -> float | None:
    """Measure people's activity on the gallery and set the fleet's pace from it."""
    fleet = current_fleet(self.app)
    try:
        pace = measure_fleet_pace(fleet)
    except TransientError as error:  # the gallery is busy or down: the pace stands
        log.warning("pace not measured", task="fleet.measure_pace", reason=str(error)[:200])
        return None
    if pace is None:
        return None
    log.info(
        "pace measured",
        task="fleet.measure_pace",
        pace=pace.pace,
        people_per_day=pace.people_per_day,
        fleet_per_day=pace.fleet_per_day,
    )
    return pace.pace


@shared_task(name="fleet.noop", bind=True)
def noop(self: Task[Any, Any]) -> None:
    """Does nothing: benchmarks measure the worker's ceiling with it."""
