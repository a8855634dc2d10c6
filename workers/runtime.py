"""One Fleet per worker process, built on first use, never at import."""

from __future__ import annotations

from typing import Any

from celery.signals import worker_process_init, worker_process_shutdown

from fleet.bootstrap import Fleet, bootstrap
from fleet.settings import Settings

_fleet: Fleet | None = None


def configure(settings: Settings) -> None:
    """Use these settings for the process's Fleet (the demo and tests call this)."""
    global _fleet
    if _fleet is not None:
        _fleet.close()
    _fleet = bootstrap(settings)


def current_fleet(settings: Settings) -> Fleet:
    """The process's Fleet, built from ``settings`` the first time it is needed."""
    global _fleet
    if _fleet is None:
        _fleet = bootstrap(settings)
    return _fleet


@worker_process_init.connect
def _fresh_after_fork(**_: Any) -> None:
    # A forked pool child must not share the parent's database connections.
    global _fleet
    if _fleet is not None:
        _fleet.engine.dispose(close=False)
        _fleet = None


@worker_process_shutdown.connect
def _close(**_: Any) -> None:
    if _fleet is not None:
        _fleet.close()
