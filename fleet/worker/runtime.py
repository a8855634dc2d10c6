"""One Fleet per worker process, built on first use, never at import.

A process that runs a worker in itself (the demo) builds its own Fleet and hands it to
the worker on the Celery app (``app.conf.fleet``): its tasks then use that one.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import sys
from typing import Any

from celery import Celery
from celery.signals import worker_init, worker_process_init, worker_process_shutdown

from fleet.core.kinds import KINDS, Action
from fleet.infra.logs import get_logger
from fleet.service.root import Fleet, bootstrap

log = get_logger("fleet.worker")

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
    except Exception as error:  # a broken setting fails the first task, as it always did
        log.warning("fleet not built before forking", error=str(error))
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
    from fleet.content.blocklist import maintained

    maintained()
    if app is None or _consumes(app, KINDS[Action.POST].queue):
        # The reader of a post's image provenance (the CAI's C2PA library and its
        # bindings): 7 MiB and 140 ms in every child that posts.
        import c2pa  # noqa: F401


def _forks(sender: Any) -> bool:
    """Whether the worker's pool forks children (prefork)."""
    from celery.concurrency import get_implementation
    from celery.concurrency.prefork import TaskPool

    pool = getattr(sender, "pool_cls", None)
    try:
        found = get_implementation(pool) if isinstance(pool, str) else pool
    except (KeyError, ImportError):
        return False
    return isinstance(found, type) and issubclass(found, TaskPool)


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


@worker_process_shutdown.connect
def _close(**_: Any) -> None:
    if _fleet is not None:
        _fleet.close()
