"""Every message delivered twice: loaded into a worker with ``celery worker -I tests.chaos.twice``.

When the worker starts a task from a message, it publishes the same message again (same
task, same arguments, same queue) through the broker, under the task id suffixed
``-copy``; a copy is not copied again. So every dispatch, tick batch, action and retry
reaches a worker twice, the second time while the first may still be running (as when
Redis hands a message back after its visibility timeout) or after it ended (as when an
acknowledgement was lost). Nothing else in the worker changes.
"""

from __future__ import annotations

from typing import Any

from celery import Task
from celery.signals import task_prerun

COPY = "-copy"


@task_prerun.connect
def _deliver_again(
    sender: Task[Any, Any] | None = None,
    task_id: str | None = None,
    args: tuple[Any, ...] | None = None,
    kwargs: dict[str, Any] | None = None,
    **_: Any,
) -> None:
    if sender is None or task_id is None or task_id.endswith(COPY):
        return
    if not sender.name.startswith("fleet.") or sender.name == "fleet.dead_letter":
        return
    queue = (sender.request.delivery_info or {}).get("routing_key") or "ticks"
    sender.app.send_task(
        sender.name, args=args, kwargs=kwargs, queue=queue, task_id=f"{task_id}{COPY}"
    )
