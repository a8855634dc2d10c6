"""The gallery client of an admin's use case for one block, closed at its end if opened for it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fleet.gallery.port import Gallery
from fleet.service.root import Fleet


@contextmanager
def gallery_of(fleet: Fleet) -> Iterator[Gallery]:
    """The fleet's gallery for the block: the one it was given, else a client of the
    configured gallery (``Fleet.open_gallery``), closed at the block's end."""
    gallery = fleet.open_gallery()
    try:
        yield gallery
    finally:
        if fleet.gallery is None:
            gallery.close()
