"""An event and its listeners, each isolated from the others (Locust's ``EventHook``).

A listener is added where the process is put together (``add_listener``, at the
composition root) and called by ``fire`` with the event's documented keyword arguments,
in the order added. One that raises is logged and the next is called: a listener's
failure never skips the others, nor what the code that fired the event does after.
(An ``Interrupt``, such as a task's time limit, is no failure of a listener: it passes,
as Locust lets its own control-flow exceptions pass.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fleet.infra.logs import get_logger

log = get_logger("fleet.events")

Listener = Callable[..., None]


class EventHook:
    """An event's listeners: ``add_listener``, ``remove_listener``, ``fire(**kwargs)``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._listeners: list[Listener] = []

    def add_listener(self, listener: Listener) -> Listener:
        """Call ``listener`` (with the event's keyword arguments) each time it fires; the
        listener returned, so that this serves as a decorator."""
        self._listeners.append(listener)
        return listener

    def remove_listener(self, listener: Listener) -> None:
        self._listeners.remove(listener)

    @property
    def listeners(self) -> tuple[Listener, ...]:
        return tuple(self._listeners)

    def fire(self, **kwargs: Any) -> int:
        """Call every listener with ``kwargs``, in the order added; one that raises is
        logged and the next called. How many raised."""
        failed = 0
        for listener in tuple(self._listeners):
            try:
                listener(**kwargs)
            except Exception as error:  # isolated: the others and the caller go on
                failed += 1
                log.error(
                    "event listener failed",
                    event_name=self.name,
                    listener=getattr(listener, "__qualname__", repr(listener))[:120],
                    error=f"{type(error).__name__}: {error}"[:300],
                )
        return failed
