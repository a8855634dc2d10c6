"""One Fleet per worker process, built on first use, never at import.

A process that runs a worker in itself (the demo) builds its own Fleet and hands it to
the worker on the Celery app (``app.conf.fleet``): its tasks then use that one.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import worker_init, worker_process_init, worker_process_shutdown

from fleet.service.root import Fleet, bootstrap

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
def _load_before_forking(**_: Any) -> None:
    # What actions import late (the content writers, the Anthropic SDK: about a second)
    # loads once in the worker's main process, before a prefork pool forks: a child's
    # first action does not spend its time limit on imports.
    import fleet.content.factory  # noqa: F401


@worker_process_init.connect
def _fresh_after_fork(**_: Any) -> None:
    # A forked pool child must not share the parent's database connections; a worker
    # that runs tasks in its own process (solo, threads) keeps its Fleet.
    global _fleet
    if _fleet is not None and os.getpid() != _pid:
        _fleet.engine.dispose(close=False)
        _fleet = None


@worker_process_shutdown.connect
def _close(**_: Any) -> None:
    if _fleet is not None:
        _fleet.close()
