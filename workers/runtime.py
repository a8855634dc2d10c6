"""One Fleet per worker process, built on first use, never at import."""

from __future__ import annotations

import os
from typing import Any

from celery.signals import worker_init, worker_process_init, worker_process_shutdown

from fleet.infra.clocks import Clock, SystemClock
from fleet.service.root import Fleet, bootstrap
from fleet.settings import Settings

_fleet: Fleet | None = None
_pid = os.getpid()
clock: Clock = SystemClock()


def use_clock(new: Clock) -> None:
    """Tasks read time from ``new`` (the demo's simulated clock)."""
    global clock
    clock = new


def configure(fleet: Fleet | None) -> None:
    """Use this Fleet in this process's tasks (the demo's in-process worker)."""
    global _fleet, _pid
    _fleet = fleet
    _pid = os.getpid()


def current_fleet(settings: Settings) -> Fleet:
    """The process's Fleet, built from ``settings`` the first time it is needed."""
    global _fleet, _pid
    if _fleet is None:
        _fleet = bootstrap(settings)
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
