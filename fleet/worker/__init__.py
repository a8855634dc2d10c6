"""Fleet's Celery app: ``celery -A fleet.worker worker -Q ticks``, ``celery -A fleet.worker beat``."""

from fleet.worker.app import app

__all__ = ["app"]
