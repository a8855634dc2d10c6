"""Made images kept by their idempotency key, so that a retry gets the same bytes.

A signature is not deterministic (ECDSA, a fresh manifest id each time), and an
endpoint's image costs money: the first image made for a key is written once (a
temporary file, then ``os.link``, which fails when the key's file exists: the first
writer wins and every later ``keep`` reads the winner's bytes). Workers on several hosts
share it only through a shared directory (FLEET_IMAGES__DIRECTORY); otherwise each host
keeps its own, and a retry landing elsewhere makes the image again (the platform's own
upload is what the action records).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

from fleet.gallery.port import MadeImage

_SUFFIX = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}


class ImageStore:
    """A directory of made images, one file per idempotency key (its SHA-256)."""

    def __init__(self, directory: Path, *, max_bytes: int) -> None:
        self._directory = directory
        self._max_bytes = max_bytes

    def _path(self, key: str, media_type: str) -> Path:
        name = hashlib.sha256(key.encode()).hexdigest()
        return self._directory / name[:2] / (name + _SUFFIX.get(media_type, ".bin"))

    def get(self, key: str, media_type: str = "image/png") -> MadeImage | None:
        """The image kept for ``key``, or None."""
        path = self._path(key, media_type)
        try:
            with path.open("rb") as file:
                data = file.read(self._max_bytes + 1)
        except FileNotFoundError:
            return None
        if len(data) > self._max_bytes:
            return None  # not one of ours: made again, and not kept
        return MadeImage(data, media_type)

    def keep(self, key: str, image: MadeImage) -> MadeImage:
        """Keep ``image`` for ``key`` unless one is kept already; the one kept."""
        path = self._path(key, image.media_type)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".made-")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(image.data)
                file.flush()
                os.fsync(file.fileno())
            try:
                os.link(temporary, path)
            except FileExistsError:
                kept = self.get(key, image.media_type)
                return kept if kept is not None else image
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
        return image
