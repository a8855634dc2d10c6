"""The provenance check's connection: the gallery client's own (its wire), reused by a
post after another, closed by ``Fleet.close``."""

from __future__ import annotations

import threading
from pathlib import Path

from fleet.service.root import Fleet
from fleet.settings import Settings
from tests.gallery.test_provenance_hostile import _Slow, image_server

__all__ = ["image_server"]  # the fixture, used by name


def test_the_check_reuses_one_connection_until_the_fleet_closes(
    image_server: tuple[str, type[_Slow]], tmp_path: Path
) -> None:
    gallery, handler = image_server
    handler.body, handler.protocol_version = b"not a png", "HTTP/1.1"
    peers: list[tuple[str, int]] = []
    ended = threading.Event()
    handler.seen, handler.ended = peers, ended  # type: ignore[attr-defined]
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/fleet.db",
        redis_url=None,
        broker_url="memory://",
        gallery={"url": gallery},
    )
    fleet = Fleet(settings)
    check = fleet.action_kit.authorship.publishing.provenance
    assert check is not None
    for _ in range(2):
        assert "not a PNG" in check.check(f"{gallery}/images/i.png", "ada_lee")["reason"]
    assert len(peers) == 2 and peers[0] == peers[1]  # one connection for both
    assert not ended.is_set()
    fleet.close()
    assert ended.wait(5)  # the gallery saw the kept-alive connection closed
