"""The Celery app, configured from Fleet's settings.

Queues: ``ticks`` (the dispatcher and tick decisions), ``content`` (posts and comments:
LLM and image work), ``engage`` (likes and browsing: cheap, many) and ``dead_letter``.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.signals import setup_logging
from kombu import Queue

from beat_schedule import beat_schedule
from fleet.infra import logs
from fleet.settings import Settings, load_settings

QUEUES = ("ticks", "content", "engage", "dead_letter")

ROUTES = {
    "fleet.dispatch": {"queue": "ticks"},
    "fleet.tick": {"queue": "ticks"},
    "fleet.tick_batch": {"queue": "ticks"},
    "fleet.sweep_leases": {"queue": "ticks"},
    "fleet.post": {"queue": "content"},
    "fleet.comment": {"queue": "content"},
    "fleet.like": {"queue": "engage"},
    "fleet.browse": {"queue": "engage"},
    "fleet.dead_letter": {"queue": "dead_letter"},
}


def create_app(settings: Settings | None = None) -> Celery:
    """A Celery app for these settings; nothing connects until a task is sent or run."""
    settings = settings or load_settings()
    app = Celery("fleet", broker=settings.broker_url, include=["workers.tasks"])
    transport: dict[str, object] = {
        "visibility_timeout": settings.tasks.visibility_timeout_seconds,
    }
    if settings.broker_url.startswith("memory"):
        # The in-process broker is polled: poll often, or every hop waits a second.
        transport["polling_interval"] = 0.005
    if settings.broker_key_prefix:
        transport["global_keyprefix"] = settings.broker_key_prefix
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
        worker_cancel_long_running_tasks_on_connection_loss=True,
        broker_connection_retry_on_startup=True,
        broker_transport_options=transport,
        timezone="UTC",
        enable_utc=True,
        beat_schedule=beat_schedule(settings),
        # Touches <schedule file>.pulse after each publish, for health checks.
        beat_scheduler="workers.beat:PulseScheduler",
        worker_hijack_root_logger=False,
        # Task events feed Flower; they cost about a third of a no-op task's throughput.
        worker_send_task_events=True,
        task_send_sent_event=True,
    )
    app.conf.fleet_settings = settings
    return app


app = create_app()


@setup_logging.connect
def _json_logs(loglevel: Any = None, logfile: Any = None, **_: Any) -> None:
    # Connecting this signal stops Celery from configuring logging its own way.
    settings: Settings = app.conf.fleet_settings
    secrets = [settings.gallery.token.get_secret_value()]
    if settings.anthropic_api_key is not None:
        secrets.append(settings.anthropic_api_key.get_secret_value())
    stream = open(logfile, "a", encoding="utf-8") if logfile else None  # noqa: SIM115 - lives as long as the worker
    logs.configure(loglevel or "INFO", secrets=tuple(secrets), stream=stream)
