"""Fleet's Celery app: ``celery -A workers worker -Q ticks``, ``celery -A workers beat``."""

from workers.app import app

__all__ = ["app"]
