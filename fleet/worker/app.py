"""The worker's Celery app: Fleet's configuration (``fleet.infra.queue``) from the
environment, and the worker's JSON logs."""

from __future__ import annotations

from typing import Any

from celery.signals import setup_logging

from fleet.infra import logs
from fleet.infra.queue import QUEUES, ROUTES, create_app
from fleet.settings import Settings, load_settings

app = create_app(load_settings())

__all__ = ["QUEUES", "ROUTES", "app", "create_app"]


@setup_logging.connect
def _json_logs(loglevel: Any = None, logfile: Any = None, **_: Any) -> None:
    # Connecting this signal stops Celery from configuring logging its own way.
    settings: Settings = app.conf.fleet_settings
    secrets = [settings.gallery.token.get_secret_value()]
    if settings.anthropic_api_key is not None:
        secrets.append(settings.anthropic_api_key.get_secret_value())
    stream = open(logfile, "a", encoding="utf-8") if logfile else None  # noqa: SIM115 - lives as long as the worker
    logs.configure(loglevel or "INFO", secrets=tuple(secrets), stream=stream)
