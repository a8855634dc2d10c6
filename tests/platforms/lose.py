"""Answers lost on their way back, in a worker: loaded with ``celery worker -I tests.platforms.lose``.

``MastodonGallery``'s effects (a status, a favourite) reach the server and act; then, for
a share of them (``FLEET_TEST_LOSE_SHARE``, default 0.3), the answer is thrown away and
the call fails as a lost answer does (``TransientError``), so the action is retried with
its outcome unknown. Each loss is appended to ``FLEET_TEST_LOSE_LOG`` (one line: the call).
Nothing else in the worker changes.
"""

from __future__ import annotations

import os
import random
from typing import Any

from fleet.errors import TransientError
from fleet.gallery.mastodon import MastodonGallery

_SHARE = float(os.environ.get("FLEET_TEST_LOSE_SHARE", "0.3"))
_LOG = os.environ.get("FLEET_TEST_LOSE_LOG", "")
_real = MastodonGallery._call


def _effect(method: str, path: str) -> bool:
    return method == "POST" and (path.endswith("/api/v1/statuses") or path.endswith("/favourite"))


def _losing(self: MastodonGallery, method: str, path: str, **kwargs: Any) -> Any:
    answer = _real(self, method, path, **kwargs)
    if _effect(method, path) and random.random() < _SHARE:
        if _LOG:
            with open(_LOG, "a", encoding="utf-8") as log:
                log.write(f"{os.getpid()} {method} {path[-60:]}\n")
        raise TransientError(f"mastodon {method} {path[-60:]}: the answer was lost (test)")
    return answer


MastodonGallery._call = _losing  # type: ignore[method-assign]
