"""Flower, as engineers use it, sees Fleet's workers and tasks through its own HTTP API."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest

from fleet.settings import Settings
from fleet.worker.app import create_app
from tests.e2e.conftest import REDIS_URL, Processes, wait_for

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_flower_shows_the_worker_and_the_fleet_tasks_it_processed(
    processes: Processes, redis_prefix: str, postgres_database: str
) -> None:
    port = _free_port()
    processes.env["FLOWER_UNAUTHENTICATED_API"] = "true"
    processes.start(
        "worker",
        "worker",
        "-Q",
        "ticks",
        "-P",
        "solo",
        "-n",
        f"flowered-{redis_prefix[:-1]}@%h",
        "--loglevel",
        "INFO",
    )
    processes.start("flower", "flower", f"--port={port}", "--address=127.0.0.1")
    app = create_app(
        Settings(
            database_url=postgres_database, broker_url=REDIS_URL, broker_key_prefix=redis_prefix
        )
    )
    base = f"http://127.0.0.1:{port}"

    def workers() -> dict[str, Any]:
        try:
            answer = httpx.get(f"{base}/api/workers", params={"refresh": "true"}, timeout=5)
        except httpx.HTTPError:
            return {}
        return answer.json() if answer.status_code == 200 else {}

    wait_for(
        lambda: any(name.startswith("flowered-") for name in workers()),
        60,
        "Flower to see the worker",
    )
    for _ in range(3):
        app.send_task("fleet.noop", queue="ticks")
    app.send_task("fleet.tick_batch", args=([],), queue="ticks")

    def tasks() -> list[dict[str, Any]]:
        answer = httpx.get(f"{base}/api/tasks", timeout=5)
        return list(answer.json().values()) if answer.status_code == 200 else []

    wait_for(
        lambda: sum(t.get("state") == "SUCCESS" for t in tasks()) >= 4,
        60,
        "Flower to list the processed tasks",
    )
    names = {t["name"] for t in tasks() if t.get("state") == "SUCCESS"}
    assert {"fleet.noop", "fleet.tick_batch"} <= names
    assert all(name.startswith("fleet.") for name in names)
