"""A Celery app with one task that does nothing: the ceiling a worker can consume.

Configured as Fleet's app is (JSON, late acknowledgement, prefetch 4, task events on),
on the broker ``BENCH_NOOP_BROKER`` under the key prefix ``BENCH_NOOP_PREFIX``, so it
shares Redis with the fleet under test and nothing else. Run by ``bench.pipeline``:

    celery -A bench.noop worker -Q noop -P threads -c 4
"""

from __future__ import annotations

import os

from celery import Celery
from kombu import Queue

BROKER = os.environ.get("BENCH_NOOP_BROKER", "redis://127.0.0.1:6379/0")
PREFIX = os.environ.get("BENCH_NOOP_PREFIX", "bench-noop:")
QUEUE = "noop"

app = Celery("bench-noop", broker=BROKER)
app.conf.update(
    task_queues=[Queue(QUEUE)],
    task_default_queue=QUEUE,
    task_serializer="json",
    accept_content=["json"],
    task_ignore_result=True,
    task_acks_late=True,
    worker_prefetch_multiplier=4,
    broker_transport_options={"global_keyprefix": PREFIX, "visibility_timeout": 3600},
    broker_connection_retry_on_startup=True,
    worker_send_task_events=True,
    task_send_sent_event=True,
    worker_hijack_root_logger=False,
)


@app.task(name="bench.noop")
def noop() -> None:
    """Nothing."""
