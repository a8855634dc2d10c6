"""The gallery tests' helpers: the admin API, client settings, two provisioned agents.

The sandbox itself (``sandbox``, ``admin``, ``gallery``) is in ``tests/conftest.py``.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import AnyUrl, SecretStr

from fleet.gallery.client import HttpGallery
from fleet.settings import GallerySettings
from fleet_sandbox.server import BackgroundSandbox

TOKEN = "svc-token-3f9a7c1e5b"  # distinctive, so a leak is easy to find
# The TLS context the tests' own HTTP clients carry (they speak plain HTTP to loopback):
# built once, where each httpx client would otherwise load the CA bundle again (tens of
# milliseconds each, hundreds of clients a run).
TLS = httpx.create_ssl_context()


class Admin:
    """The sandbox's admin API, for tests."""

    def __init__(self, url: str, token: str = TOKEN) -> None:
        self.http = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10, verify=TLS
        )

    def _put(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = self.http.put(path, json=body)
        assert answer.status_code == 200, answer.text
        return answer.json()  # type: ignore[no-any-return]

    def faults(self, **faults: Any) -> dict[str, Any]:
        """Replace the injected faults (camelCase keys: errorRates, loseAnswerRates...)."""
        return self._put("/admin/faults", faults)

    def pause(self, paused: bool) -> None:
        self._put("/admin/pause", {"paused": paused})

    def idempotency(self, enabled: bool) -> None:
        self._put("/admin/idempotency", {"enabled": enabled})

    def budgets(self, **budgets: Any) -> None:
        self._put("/admin/budgets", budgets)

    def state(self) -> dict[str, Any]:
        return self.http.get("/admin/state").json()  # type: ignore[no-any-return]

    def report(self) -> dict[str, Any]:
        return self.http.get("/admin/report").json()  # type: ignore[no-any-return]

    def reset(self) -> None:
        assert self.http.post("/admin/reset").status_code == 200

    def close(self) -> None:
        self.http.close()


@contextmanager
def clean_admin(url: str, token: str = TOKEN) -> Iterator[Admin]:
    """The admin API of the sandbox at ``url``, emptied first; its faults lifted after."""
    admin = Admin(url, token)
    admin.reset()
    try:
        yield admin
    finally:
        admin.faults()
        admin.close()


def settings_for(url: str, **overrides: Any) -> GallerySettings:
    """Client settings for a sandbox at ``url``."""
    values: dict[str, Any] = {"url": AnyUrl(url), "token": SecretStr(TOKEN), "timeout_seconds": 5}
    return GallerySettings(**(values | overrides))


@pytest.fixture
def ada(gallery: HttpGallery) -> str:
    """A product photographer's agent account."""
    gallery.provision_user(handle="photo_ada", name="Ada Studio", persona="product_photographer")
    return "photo_ada"


@pytest.fixture
def bo(gallery: HttpGallery) -> str:
    """An indie game dev's agent account."""
    gallery.provision_user(handle="gamedev_bo", name="Bo Bit", persona="indie_game_dev")
    return "gamedev_bo"


@pytest.fixture
def api(sandbox: BackgroundSandbox) -> Iterator[httpx.Client]:
    """A raw HTTP client with the service token, for calls the port does not make."""
    with httpx.Client(
        base_url=sandbox.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10, verify=TLS
    ) as client:
        yield client


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key
