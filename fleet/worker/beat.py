"""Celery beat's scheduler, with a pulse a health check can read.

Beat's schedule file is written only now and then, so its existence says nothing about
whether beat still publishes. ``PulseScheduler`` touches ``<schedule file>.pulse`` each
time it has published an entry: a pulse older than a few dispatch intervals means beat
is stuck or cannot reach the broker (docker-compose's health check reads it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from celery.beat import PersistentScheduler


class PulseScheduler(PersistentScheduler):
    """The default persistent scheduler, touching a pulse file after each publish."""

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
        return result
