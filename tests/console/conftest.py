"""A fleet that has done real work on the sandbox gallery, and its console on a port."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine

from fleet.console.serve import BackgroundConsole
from fleet.service import agents
from fleet.service.root import Fleet, bootstrap
from fleet.settings import Settings
from fleet_sandbox.server import BackgroundSandbox
from tests.conftest import REDIS_URL
from tests.console.browser import Browser
from tests.gallery.conftest import TOKEN, Admin

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
PASSWORD = "correct horse battery staple"

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"), reason="needs Debian's chromium package"
)


def settings_of(engine: Engine, prefix: str, gallery_url: str, **more: object) -> Settings:
    return Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        redis_url=REDIS_URL,  # type: ignore[arg-type]
        broker_key_prefix=f"{prefix}:",
        gallery={"url": gallery_url, "token": TOKEN},  # type: ignore[arg-type]
        seed=7,
        **more,  # type: ignore[arg-type]
    )


@pytest.fixture
def worked(
    pg_engine: Engine, redis_keys: str, sandbox: BackgroundSandbox, admin: Admin
) -> Iterator[Fleet]:
    """Six agents of two personas, started on the sandbox; posts, a comment, likes, a
    browse, one of them with a caption that tries to be a script."""
    fleet = bootstrap(settings_of(pg_engine, redis_keys, sandbox.url), pg_engine)
    try:
        agents.create(fleet, agents.NewAgents("ux_ui_designer", 3))
        agents.create(fleet, agents.NewAgents("data_visualization", 3))
        agents.start(fleet, agents.Selection(everyone=True))
        for ref, action in [
            ("1", "post"),
            ("4", "post"),
            ("2", "comment"),
            ("5", "like"),
            ("3", "like"),
            ("6", "browse"),
        ]:
            agents.act_here(fleet, ref, action)
        admin.faults(errorRates={"like": 1.0})
        agents.act_here(fleet, "2", "like")  # dead, with its dead letter
        admin.faults(errorRates={})
        yield fleet
    finally:
        fleet.close()


@pytest.fixture
def console(worked: Fleet) -> Iterator[BackgroundConsole]:
    """The console of the worked fleet, without a password (loopback only)."""
    with BackgroundConsole(worked) as running:
        yield running


@pytest.fixture
def guarded(pg_engine: Engine, redis_keys: str) -> Iterator[tuple[Fleet, BackgroundConsole]]:
    """A console with a password, on an empty fleet."""
    settings = settings_of(
        pg_engine,
        redis_keys,
        "http://127.0.0.1:9",
        console={"password": SecretStr(PASSWORD)},
    )
    fleet = bootstrap(settings, pg_engine)
    with BackgroundConsole(fleet) as running:
        yield fleet, running
    fleet.close()


def browse(tmp_path: Path, url: str, *, screenshot: str | None = None) -> str:
    """Load ``url`` in headless Chromium: the DOM after scripts ran (or, named, a
    screenshot in artifacts/)."""
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-breakpad",
        "--no-proxy-server",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1280,1400",
    ]
    command.append("--virtual-time-budget=3000")
    if screenshot:
        ARTIFACTS.mkdir(exist_ok=True)
        command.append(f"--screenshot={ARTIFACTS / screenshot}")
    else:
        command.append("--dump-dom")
    done = subprocess.run([*command, url], capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    """A headless Chromium driven over the DevTools protocol."""
    assert CHROMIUM is not None
    with Browser(CHROMIUM, tmp_path / "cdp-profile") as running:
        yield running
