"""Celery beat's scheduler, with a pulse a health check can read and a heartbeat
``fleet status`` reads.

Beat's schedule file is written only now and then, so its existence says nothing about
whether beat still publishes. ``PulseScheduler`` touches ``<schedule file>.pulse`` each
time it has published an entry: a pulse older than a few dispatch intervals means beat
is stuck or cannot reach the broker (docker-compose's health check reads it).

The pulse file is on beat's own host. So that an operator sees from anywhere how many
beats publish (two after a failover that overlaps, none after the only one died), a
thread started with the beat service (``beat_init``) also writes
``<prefix>fleet:beat:<host>:<pid>`` to the fleet's Redis every few seconds while beat
has published lately (``fleet.infra.beats``), expiring soon after beat stops. The thread
never delays a publish: Redis gone only stops the heartbeat.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from celery.beat import PersistentScheduler
from celery.signals import beat_init

from fleet.infra import beats

# When this process's beat last handed a message to the broker (monotonic seconds).
_published_at = float("-inf")


class PulseScheduler(PersistentScheduler):
    """The default persistent scheduler, touching a pulse file after each publish."""

    @property
    def pulse_path(self) -> Path:
        filename = str(getattr(self, "schedule_filename", "celerybeat-schedule"))
        return Path(f"{filename}.pulse")

    def apply_async(
        self, entry: Any, producer: Any = None, advance: bool = True, **kwargs: Any
    ) -> Any:
        global _published_at
        result = super().apply_async(entry, producer=producer, advance=advance, **kwargs)
        # Reached only when the message was handed to the broker (a failure raises).
        self.pulse_path.touch()
        _published_at = time.monotonic()
        return result


@beat_init.connect
def _start_heartbeat(sender: Any = None, **_: Any) -> None:
    """With the beat service (not a scheduler made elsewhere), the heartbeat's thread."""
    settings = getattr(getattr(sender, "app", None), "conf", {}).get("fleet_settings")
    if settings is None or settings.redis_url is None:
        return
    threading.Thread(
        target=beats.heartbeat,
        args=(settings, lambda: time.monotonic() - _published_at),
        name="fleet-beat-heartbeat",
        daemon=True,
    ).start()
