"""``fleet run``: your own fleet on the embedded configuration, acting in one process.

The embedded configuration (the SQLite file and Celery's in-memory broker) has no
Celery worker nor beat of its own: a message sent to the in-memory broker lives only in
the process that sent it. ``serve`` is both, as the demo runs them but on the real
clock: an in-process worker runs the production tasks, and beat's schedule
(``fleet.infra.schedule``) is sent from here, until ``stop`` is set. Each action the
agents take becomes one readable line; while nothing is due, a line says when the next
agent is due and why (``fleet.service.outlook``) at start and once a minute.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from celery import Celery
from celery.contrib.testing.worker import start_worker

from fleet.errors import InputError
from fleet.infra.events import describe
from fleet.infra.queue import create_app
from fleet.infra.schedule import beat_schedule
from fleet.service import database
from fleet.service.outlook import outlook
from fleet.service.root import Fleet, bootstrap
from fleet.settings import Settings

# How often a quiet fleet says when it acts next (real seconds).
NOTE_EVERY_SECONDS = 60.0


def embedded_only(settings: Settings) -> None:
    """Refuse a real broker: its messages are for Celery's workers and beat."""
    if not settings.broker_url.startswith("memory"):
        raise InputError(
            "fleet run is for the embedded configuration (FLEET_BROKER_URL=memory://); "
            "this one names a real broker: start Celery's workers and beat instead "
            "(make run, or the Procfile's ticks, content, engage and beat lines)"
        )


def without_dead_redis(settings: Settings) -> tuple[Settings, str | None]:
    """The settings to run with: a Redis that does not answer is left out (limits and
    breakers then hold in this process only), and a sentence saying so."""
    if settings.redis_url is None:
        return settings, None
    import redis

    try:
        redis.Redis.from_url(
            str(settings.redis_url), socket_timeout=1, socket_connect_timeout=1
        ).ping()
    except redis.RedisError:
        return settings.model_copy(update={"redis_url": None}), (
            f"Redis at {settings.redis_url} does not answer: running without it (the "
            "gallery's rate limit and breakers hold in this process only)"
        )
    return settings, None


def _stamp(at: datetime) -> str:
    return f"{at:%H:%M:%S}"


class _Feed:
    """The fleet's events as they come: each one a line in this shell, counted, and (with
    a Redis) published on its channel too, so `fleet console serve` and `fleet activity
    tail` in another shell see this fleet's feed."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say
        self.seen = 0
        self.last_action = 0.0
        self.channel: list[Callable[[dict[str, Any]], None]] = []
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, Any]) -> None:
        with self._lock:
            self.seen += 1
            self.last_action = time.monotonic()
        self.say(f"{_stamp(datetime.now(UTC))} @{describe(event)}")
        for publish in self.channel:
            try:
                publish(event)
            except Exception:  # the feed is a courtesy: the action is done and recorded
                self.channel.clear()
                self.say("the Redis channel stopped answering: the feed stays in this shell")


def serve(
    settings: Settings,
    say: Callable[[str], None],
    stop: threading.Event,
    *,
    note_every: float = NOTE_EVERY_SECONDS,
) -> int:
    """Run the fleet until ``stop`` is set; returns the actions seen."""
    embedded_only(settings)
    if settings.broker_url.rstrip("/") == "memory:":
        # A host, as the demo's: kombu warns on every connection without one.
        settings = settings.model_copy(update={"broker_url": "memory://localhost/"})
    feed = _Feed(say)
    fleet = bootstrap(settings, publish=feed)
    if settings.redis_url is not None:
        feed.channel.append(fleet.activity_channel.publish)
    try:
        database.ensure_current(fleet)
        app = create_app(fleet.settings)
        app.conf.fleet = fleet  # the in-process worker's tasks use this Fleet
        with start_worker(
            app,
            pool="solo",
            perform_ping_check=False,
            loglevel="WARNING",
            queues=["ticks", "content", "engage", "dead_letter"],
            shutdown_timeout=30,
        ):
            _beat(app, fleet, feed, stop, note_every)
    finally:
        fleet.close()
    return feed.seen


def _beat(app: Celery, fleet: Fleet, feed: _Feed, stop: threading.Event, note_every: float) -> None:
    """Beat's schedule, sent from here until ``stop`` is set; while the fleet is quiet,
    a line every ``note_every`` seconds saying when it acts next."""
    schedule = [
        (entry["task"], float(entry["schedule"]), entry["options"]["queue"])
        for entry in beat_schedule(fleet.settings).values()
    ]
    began = time.monotonic()
    due = dict.fromkeys((task for task, _, _ in schedule), began)
    noted = began - note_every
    while not stop.is_set():
        now = time.monotonic()
        for task, every, queue in schedule:
            if now >= due[task]:
                app.send_task(task, queue=queue)
                due[task] = now + every
        quiet = now - max(feed.last_action, noted) >= note_every
        if quiet:
            feed.say(f"{_stamp(datetime.now(UTC))} {outlook(fleet).line()}")
            noted = now
        stop.wait(max(0.0, min(due.values()) - time.monotonic()))
