"""Fleet's Celery app (``fleet.worker``) whose first comment, across restarts, is stuck in
Python for good: the offline writer spins and swallows every exception raised into it,
the soft time limit's interrupt included, as a hostile library might. The marker file
(``FLEET_TEST_STUCK_MARKER``) records that the stuck comment has begun: a worker started
after it writes comments as ever. ``celery -A tests.e2e.stuck_app worker ...``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from fleet.content.offline.writer import OfflineWriter
from fleet.worker import app

__all__ = ["app"]

_MARKER = Path(os.environ["FLEET_TEST_STUCK_MARKER"])
_write_comment = OfflineWriter.write_comment


def _stuck_once(self: OfflineWriter, *args: Any, **kwargs: Any) -> Any:
    if _MARKER.exists():
        return _write_comment(self, *args, **kwargs)
    _MARKER.write_text(str(os.getpid()))
    while True:  # never ends: Python instructions, every interrupt swallowed
        try:
            while True:
                sum(range(1000))
        except BaseException:
            continue


OfflineWriter.write_comment = _stuck_once  # type: ignore[method-assign]
