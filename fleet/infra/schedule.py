"""Celery beat's schedule: the dispatcher's cadence and the housekeeping jobs.

Beat sends one small message per entry; the agents' own rhythm lives in Postgres
(``agents.next_tick_at``), so beat's cost does not grow with the fleet.
"""

from __future__ import annotations

from typing import Any

from fleet.settings import Settings


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    """The entries ``celery -A workers beat`` runs."""
    every = settings.dispatch.interval_seconds
    return {
        "dispatch-due-ticks": {
            "task": "fleet.dispatch",
            "schedule": every,
            # A dispatch message older than a few cycles is pointless: the next one
            # claims everything that is due anyway.
            "options": {"queue": "ticks", "expires": max(5 * every, 5.0)},
        },
        "sweep-expired-leases": {
            "task": "fleet.sweep_leases",
            "schedule": settings.tasks.sweep_interval_seconds,
            "options": {"queue": "ticks", "expires": settings.tasks.sweep_interval_seconds},
        },
        "measure-pace": {
            "task": "fleet.measure_pace",
            "schedule": settings.welcome.pace_every_seconds,
            "options": {"queue": "ticks", "expires": settings.welcome.pace_every_seconds},
        },
    }
