"""Celery beat's scheduler, with a pulse a health check can read and a heartbeat
``fleet status`` reads.

Beat's schedule file is written only now and then, so its existence says nothing about
whether beat still publishes. ``PulseScheduler`` touches ``<schedule file>.pulse`` each
time it has published an entry: a pulse older than a few dispatch intervals means beat
is stuck or cannot reach the broker (docker-compose's health check reads it).

The pulse file is on beat's own host. So that an operator sees from anywhere how many
beats publish (two after a failover that overlaps, none after the only one died), a
thread of beat's also writes ``<prefix>fleet:beat:<host>:<pid>`` to the fleet's Redis
every few seconds while beat has published lately (``fleet.infra.beats``), expiring
soon after beat stops. The thread never delays a publish: Redis gone only stops the
heartbeat.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from celery.beat import PersistentScheduler

from fleet.infra import beats


class PulseScheduler(PersistentScheduler):
    """The default persistent scheduler, touching a pulse file after each publish."""

    _published_at = 0.0
    _heartbeat: threading.Thread | None = None

    @property
    def pulse_path(self) -> Path:
        filename = str(getattr(self, "schedule_filename", "celerybeat-schedule"))
        return Path(f"{filename}.pulse")

    def apply_async(
        self, entry: Any, producer: Any = None, advance: bool = True, **kwargs: Any
    ) -> Any:
        result = super().apply_async(entry, producer=producer, advance=advance, **kwargs)
        # Reached only when the message was handed to the broker (a failure raises).
        self.pulse_path.touch()
        self._published_at = time.monotonic()
        if self._heartbeat is None:
            settings = getattr(self.app.conf, "fleet_settings", None)
            if settings is not None and settings.redis_url is not None:
                self._heartbeat = threading.Thread(
                    target=beats.heartbeat,
                    args=(settings, lambda: time.monotonic() - self._published_at),
                    name="fleet-beat-heartbeat",
                    daemon=True,
                )
                self._heartbeat.start()
        return result
