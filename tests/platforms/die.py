"""A worker that dies between the effect and the ledger: loaded with ``celery worker -I tests.platforms.die``.

``MastodonGallery``'s effects reach the server and act; then, the first time each kind of
effect succeeds in the whole run (a post: a status with media; a comment or reply: a
status with ``in_reply_to_id``; a like: a favourite), the pool process carrying it out is
SIGKILLed before the answer reaches the action (the worker's main process starts
another): Takahē has made it, Fleet has recorded nothing. Which kinds have
died is kept in ``FLEET_TEST_DIE_DIR`` (a file per kind, made exclusively, so a restarted
worker does not die again for the same kind), each with the action's key first. Nothing
else in the worker changes.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

from fleet.gallery.mastodon import MastodonGallery

_DIR = os.environ.get("FLEET_TEST_DIE_DIR", "")
_real = MastodonGallery._call
KINDS = ("post", "comment", "like")


def kind_of(method: str, path: str, body: dict[str, Any] | None) -> str | None:
    """The effect a call makes (None: not one of the three)."""
    if method != "POST":
        return None
    if path.endswith("/favourite"):
        return "like"
    if path.endswith("/api/v1/statuses") and body:
        if body.get("in_reply_to_id"):
            return "comment"
        if body.get("media_ids"):
            return "post"
    return None


def _dying(self: MastodonGallery, method: str, path: str, **kwargs: Any) -> Any:
    answer = _real(self, method, path, **kwargs)
    kind = kind_of(method, path, kwargs.get("json"))
    if _DIR and kind is not None:
        try:
            fd = os.open(Path(_DIR) / kind, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return answer  # this kind has died once already
        said = f"{kwargs.get('key') or '-'} {os.getpid()} {method} {path[-60:]}\n"
        os.write(fd, said.encode())
        os.fsync(fd)
        os.close(fd)
        os.kill(os.getpid(), signal.SIGKILL)
    return answer


MastodonGallery._call = _dying  # type: ignore[method-assign]
