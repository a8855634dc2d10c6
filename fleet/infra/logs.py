"""Structured JSON logs: one object per line, secrets masked, task context in every line.

Celery's own loggers and ours go through the standard library into structlog's JSON
renderer, whose context (structlog's ``bound_contextvars``: the tasks bind the task,
action, key and agent) is in every line written inside it.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import MutableMapping
from enum import StrEnum
from typing import Any

import structlog

from fleet.infra.redaction import redact

_secrets: tuple[str, ...] = ()

# The fleet's clockwork: beat's once-a-second dispatch, the lease sweeper and the
# deciders. Celery writes an INFO record for each message of theirs it sends, receives
# and finishes: 600 lines in 5 minutes that bury what the agents did.
CLOCKWORK_TASKS = ("fleet.dispatch", "fleet.sweep_leases", "fleet.tick")


class _Clockwork(logging.Filter):
    """Drops Celery's routine INFO records about the clockwork's messages (at DEBUG,
    everything shows; a warning or an error about them always does)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO or not record.name.startswith("celery"):
            return True
        message = record.getMessage()
        return not any(name in message for name in CLOCKWORK_TASKS)


def _mask(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event.items()):
        if isinstance(value, str):
            event[key] = redact(value, _secrets)
    return event


class LogFormat(StrEnum):
    """How log lines are written: one readable line each for a person, or JSON."""

    CONSOLE = "console"
    JSON = "json"


def format_wanted(stream: Any = None) -> LogFormat:
    """``FLEET_LOG_FORMAT`` (``console`` or ``json``), else readable lines when the stream
    is a terminal and JSON when it is not."""
    chosen = os.environ.get("FLEET_LOG_FORMAT", "").strip().lower()
    if chosen in ("console", "json"):
        return LogFormat(chosen)
    isatty = getattr(stream or sys.stderr, "isatty", None)
    return LogFormat.CONSOLE if isatty and isatty() else LogFormat.JSON


def configure(
    level: str = "INFO",
    *,
    secrets: tuple[str, ...] = (),
    stream: Any = None,
    log_format: LogFormat | None = None,
) -> None:
    """Send every log line, ours and Celery's, to ``stream``: as JSON for machines, or
    one readable line each for a person (``log_format``; by default ``format_wanted``)."""
    global _secrets
    _secrets = secrets
    readable = (log_format or format_wanted(stream)) is LogFormat.CONSOLE
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        # A person reads the time of day (UTC); a machine the whole instant.
        structlog.processors.TimeStamper(fmt="%H:%M:%S" if readable else "iso", utc=True),
        structlog.processors.format_exc_info,
    ]
    structlog.configure(
        # A line below the level is dropped before any work is done on it.
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _mask,
            structlog.dev.ConsoleRenderer(colors=False)
            if readable
            else structlog.processors.JSONRenderer(),
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    if logging.getLevelName(level) != logging.DEBUG:
        handler.addFilter(_Clockwork())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def get_logger(name: str) -> Any:
    """A structlog logger that goes through the configured handler."""
    return structlog.stdlib.get_logger(name)
