"""The Celery app as Fleet configures it, and sending actions to their queues.

Queues: ``ticks`` (the dispatcher and tick decisions), the action kinds' queues from the
registry (``content``: posts, comments and replies, which wait on the LLM and images;
``engage``: likes and browsing, cheap and many) and ``dead_letter``. The worker's tasks
live in ``fleet.worker.tasks``, which the app includes by name: the rest of
``fleet`` never imports it.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Sequence
from operator import attrgetter
from typing import Any, Protocol

from celery import Celery
from kombu import Queue

from fleet.core.kinds import ACTION_QUEUES, BATCH_TASKS, KINDS, Action, ActionKey
from fleet.errors import InputError
from fleet.infra.broker import REDIS_TRANSPORT, tls_defaults
from fleet.infra.schedule import beat_schedule
from fleet.settings import Settings
from fleet.settings.running import PUBLISH_RETRIES, PUBLISH_RETRY_INTERVAL

QUEUES: tuple[str, ...] = ("ticks", *ACTION_QUEUES, "dead_letter")
# A key as its message holds it (``ActionKey.text``).
_TEXT = attrgetter("text")

# Celery's publish retry policy, bounded (``TaskSettings.publish_bound_seconds``): a
# publish gives up within seconds of the broker going silent instead of running into the
# task's soft time limit inside Celery's own retry handling.
PUBLISH_RETRY_POLICY: dict[str, object] = {
    "max_retries": PUBLISH_RETRIES,
    "interval_start": PUBLISH_RETRY_INTERVAL,
    "interval_step": 0,
    "interval_max": PUBLISH_RETRY_INTERVAL,
}

ROUTES: dict[str, dict[str, str]] = {
    "fleet.dispatch": {"queue": "ticks"},
    "fleet.tick": {"queue": "ticks"},
    "fleet.tick_batch": {"queue": "ticks"},
    "fleet.sweep_leases": {"queue": "ticks"},
    "fleet.measure_pace": {"queue": "ticks"},
    **{kind.task: {"queue": kind.queue} for kind in KINDS.values()},
    **{task: {"queue": queue} for queue, task in BATCH_TASKS.items()},
    "fleet.dead_letter": {"queue": "dead_letter"},
}


def create_app(settings: Settings) -> Celery:
    """A Celery app for these settings; nothing connects until a task is sent or run."""
    app = Celery("fleet", broker=settings.broker_url, include=["fleet.worker.tasks"])
    if settings.broker_url.startswith(("redis://", "rediss://")):
        # Kombu's Redis transport, closing every channel when Redis is gone, so that a
        # broker restart does not stop the worker (fleet.infra.broker), on TLS too.
        app.conf.broker_transport = REDIS_TRANSPORT
        if settings.broker_url.startswith("rediss://"):
            # Kombu gives a rediss:// URL its TLS only when the transport is named by the
            # scheme; named by its class, the TLS is said here: kombu's own default (the
            # URL's ssl_* parameters, such as ?ssl_cert_reqs=required&ssl_ca_certs=...,
            # still take precedence over it).
            app.conf.broker_use_ssl = tls_defaults()
    app.conf.update(
        task_queues=[Queue(name) for name in QUEUES],
        task_default_queue="ticks",
        task_routes=ROUTES,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        # At-least-once: a message is acknowledged after its task ran; a task whose
        # worker died is retried a bounded number of times, not requeued forever.
        task_acks_late=True,
        task_retry_on_worker_lost=True,
        task_reject_on_worker_lost=False,
        task_soft_time_limit=settings.tasks.soft_time_limit_seconds,
        task_time_limit=settings.tasks.time_limit_seconds,
        worker_prefetch_multiplier=4,
        worker_max_tasks_per_child=settings.tasks.max_tasks_per_child or None,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        broker_connection_retry_on_startup=True,
        task_publish_retry_policy=PUBLISH_RETRY_POLICY,
        broker_transport_options=_transport_options(settings),
        timezone="UTC",
        enable_utc=True,
        beat_schedule=beat_schedule(settings),
        # Touches <schedule file>.pulse after each publish, for health checks.
        beat_scheduler="fleet.worker.beat:PulseScheduler",
        worker_hijack_root_logger=False,
        # Task events feed Flower; they cost about a third of a no-op task's throughput.
        worker_send_task_events=True,
        task_send_sent_event=True,
    )
    app.conf.fleet_settings = settings
    return app


def _transport_options(settings: Settings) -> dict[str, object]:
    """The broker transport's options for these settings."""
    transport: dict[str, object] = {
        "visibility_timeout": settings.tasks.visibility_timeout_seconds,
    }
    if settings.broker_url.startswith("memory"):
        # The in-process broker is polled: poll often, or every hop waits a second.
        transport["polling_interval"] = 0.005
    if settings.broker_key_prefix:
        transport["global_keyprefix"] = settings.broker_key_prefix
    if settings.broker_url.startswith(("redis://", "rediss://")):
        # A broker that goes silent (a host cut off, a failover, a NAT's timeout) closes
        # no connection: without a socket timeout a publish on it waits forever (kombu's
        # own advice); the consumer's BRPOP has kombu's health check instead (the event
        # loop reads it, which no socket timeout covers).
        timeout = settings.tasks.redis_timeout_seconds
        transport |= {
            "socket_timeout": timeout,
            "socket_connect_timeout": timeout,
            "socket_keepalive": True,
        }
    return transport


def batch_repr(items: Sequence[object], what: str) -> str:
    """A batch message's arguments as Flower and the logs show them: how many ``what``
    (singular), the first and the last. Celery would write a ``repr`` of the whole list
    (up to 1,024 characters) into each message: 8 % of the dispatcher's time at 100 ticks
    a message."""
    if len(items) == 1:
        return f"(1 {what}: {items[0]!r})"
    if not items:
        return f"(0 {what}s)"
    return f"({len(items)} {what}s: {items[0]!r} ... {items[-1]!r})"


def send_ticks(
    app: Celery, ticks: Sequence[tuple[int, int, int, int]], *, batch_size: int, now: float
) -> None:
    """Send ticks to be decided, in ``fleet.tick_batch`` messages of up to ``batch_size``,
    over one connection: those due by ``now`` (epoch seconds) at once, each later due second
    with the countdown to it, for the worker to hold until then (a dispatcher's lead)."""
    by_second: dict[int, list[tuple[int, int, int, int]]] = {}
    for tick in ticks:
        by_second.setdefault(max(tick[1], math.floor(now)), []).append(tick)
    with app.producer_or_acquire() as producer, producer.batch():
        for second, group in sorted(by_second.items()):
            countdown = second - now
            for start in range(0, len(group), batch_size):
                batch = group[start : start + batch_size]
                app.send_task(
                    "fleet.tick_batch",
                    args=(batch,),
                    argsrepr=batch_repr(batch, "tick"),
                    queue="ticks",
                    producer=producer,
                    countdown=countdown if countdown > 0 else None,
                )


def send_actions(
    app: Celery,
    keys: Iterable[ActionKey[Action]],
    countdown: float = 0.0,
    *,
    batch_size: int = 1,
) -> None:
    """Send actions by their keys to their kinds' tasks and queues, over one connection
    (after ``countdown`` seconds, when given). With ``batch_size`` over 1 the keys of the
    registry's batchable kinds go in messages of up to that many keys to their queue's
    batch task; a lone one goes to its kind's task. A message holds a key's text
    (``ActionKey.text``); the task parses it once (``ActionKey.parse``)."""
    sent = list(keys)
    if not sent:
        return
    single: list[ActionKey[Action]] = []
    batches: dict[str, list[ActionKey[Action]]] = {}
    for key in sent:
        kind = KINDS[key.action]
        if batch_size > 1 and kind.batchable:
            batches.setdefault(kind.queue, []).append(key)
        else:
            single.append(key)
    with app.producer_or_acquire() as producer:
        for queue, queued in batches.items():
            for start in range(0, len(queued), batch_size):
                chunk = queued[start : start + batch_size]
                if len(chunk) == 1:
                    single.append(chunk[0])
                    continue
                texts = list(map(_TEXT, chunk))
                app.send_task(
                    BATCH_TASKS[queue],
                    args=(texts,),
                    argsrepr=batch_repr(texts, "key"),
                    queue=queue,
                    producer=producer,
                    countdown=countdown or None,
                )
        for key in single:
            kind = KINDS[key.action]
            app.send_task(
                kind.task,
                args=(key.text,),
                queue=kind.queue,
                producer=producer,
                countdown=countdown or None,
            )


class Sender(Protocol):
    """Sends an action (by its key, which names its kind) to the workers, now or after
    ``countdown``."""

    def __call__(self, key: ActionKey[Action], countdown: float = 0.0) -> None: ...


class ActionSender:
    """Sends actions to the workers through the fleet's broker (the CLI's, the console's)."""

    def __init__(self, settings: Settings, *, instead: str = "") -> None:
        """Checked before anything is written: an in-memory broker, which no worker would
        see, is an InputError now (``instead`` says what the caller offers instead), and a
        broker out of reach is kombu's OperationalError now. (Should the broker go away
        between this and the send, the activity is pending and the lease sweep sends it.)"""
        if settings.broker_url.startswith("memory"):
            raise InputError(
                "FLEET_BROKER_URL is memory://: no worker would see this task; "
                f"point it at the fleet's Redis{instead}"
            )
        self.app = create_app(settings)
        with self.app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1)

    def __call__(self, key: ActionKey[Action], countdown: float = 0.0) -> None:
        send_actions(self.app, [key], countdown)


def ping_workers(settings: Settings, timeout: float) -> list[str]:
    """The names of the workers that answer a broadcast ping within ``timeout``."""
    replies = create_app(settings).control.ping(timeout=timeout) or []
    return sorted(name for reply in replies for name in reply)


def broker_queue_depths(settings: Settings) -> dict[str, int | None]:
    """Messages waiting in each of Fleet's queues, read from the broker itself (on
    RabbitMQ: a passive declare's count; a queue no worker has declared yet holds none).
    Messages a worker took and has not acknowledged are not counted, as on Redis."""
    from kombu.exceptions import ChannelError

    depths: dict[str, int | None] = {}
    with create_app(settings).connection_for_read() as connection:
        connection.ensure_connection(max_retries=1)
        for name in QUEUES:
            channel: Any = connection.channel()
            try:
                depths[name] = int(channel.queue_declare(queue=name, passive=True).message_count)
            except ChannelError:
                depths[name] = 0  # not declared: the broker closed the channel
            finally:
                with contextlib.suppress(Exception):
                    channel.close()
    return depths
