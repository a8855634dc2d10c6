"""The facts one part of a process tells the others, each an event of isolated listeners.

Locust's contract (its ``EventHook`` and ``Events``): an ``EventHook`` per event, its
listeners added where the process is put together (``add_listener``, at the composition
root, ``fleet.service.root``) and called by ``fire`` with the event's keyword arguments,
in the order added. One that raises is logged and the next is called: a listener's failure never
skips the others, nor what the code that fired the event does after. (An ``Interrupt``,
such as a task's time limit, is no failure of a listener: it passes, as Locust lets its own
control-flow exceptions pass.) ``Events`` names the events and documents the keyword
arguments each is fired with; a listener takes them by name (``**_`` for the rest).

A part that fires a fact knows nothing of who listens: target choice and the pace task
say what they saw, and the impact experiment's sightings and the honesty ledger's
questions are kept by their own listeners.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fleet.infra.logs import get_logger

__all__ = ["EventHook", "Events", "Listener"]

log = get_logger("fleet.events")

Listener = Callable[..., object]


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


class Events:
    """A process's events, one ``EventHook`` each, built empty: the composition root adds
    the listeners."""

    action_ended: EventHook
    """Fired once for each way a delivery ends actions, after the statement that ended
    them commits (``fleet.actions.perform``: succeeded, skipped, drafted, dead).

    * ``kit``: the ``ActionKit``;
    * ``ended``: the ``Ending`` of each action this delivery ended, in one firing for a batch;
    * ``spent``: what the ending actions' LLM calls billed (activity id, agent id, usage);
    * ``now``: when they ended.
    """

    posts_seen: EventHook
    """Fired when the pace task's reading read the gallery's newest posts
    (``fleet.service.pace``).

    * ``posts``: the posts read (``GalleryPost``), people's and agents';
    * ``waiting``: the agents' posts among them where a person's comment waits;
    * ``at``: when (the fleet's clock).
    """

    comments_seen: EventHook
    """Fired when a reply's choice read the comments around an agent
    (``fleet.actions.reply_choice``), before it chooses.

    * ``agent_id``, ``handle``: the agent whose comments and posts they are around;
    * ``comments``: every comment read (``GalleryComment``);
    * ``waiting``: the ids of those waiting on the agent that it may answer (people who
      said no to it left out);
    * ``consent``: people's consent as the choice read it (``Consent``; None: not read);
    * ``at``: when (the fleet's clock).
    """

    def __init__(self) -> None:
        self.action_ended = EventHook("action_ended")
        self.posts_seen = EventHook("posts_seen")
        self.comments_seen = EventHook("comments_seen")
