"""Real Celery worker and beat processes on the real Redis, each run under its own key prefix."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
import redis

REDIS_URL = os.environ.get("FLEET_TEST_REDIS", "redis://127.0.0.1:6379/0")
ROOT = Path(__file__).resolve().parents[2]


def wait_for(condition: Callable[[], bool], timeout: float, what: str, every: float = 0.2) -> None:
    """Poll ``condition`` until it holds, or fail saying what never happened."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own on the real Redis, deleted afterwards."""
    prefix = f"fleet-test-{uuid.uuid4().hex[:10]}:"
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis is not reachable at {REDIS_URL}: {exc}")
    yield prefix
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


class Processes:
    """Worker and beat subprocesses, stopped at the end of the test."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.running: list[subprocess.Popen[bytes]] = []

    def start(
        self, name: str, *args: str, wrap: Sequence[str] = (), env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """``celery -A fleet.worker <args>``, after ``wrap``'s words when given (as
        ``ip netns exec <namespace>``: another host), with ``env`` over the shared one."""
        with (self.logs / f"{name}.log").open("wb") as log:
            process = subprocess.Popen(
                [*wrap, sys.executable, "-m", "celery", "-A", "fleet.worker", *args],
                cwd=ROOT,
                env={**self.env, **(env or {})},
                stdout=log,
                stderr=subprocess.STDOUT,
                # A process group of its own: a kill reaches a prefork worker's children.
                start_new_session=True,
            )
        self.running.append(process)
        return process

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        """SIGKILL the process and every process it started, as when its container is
        killed; returns once the process is gone."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill(process)

    def stop_all(self) -> None:
        """At the end of a test nothing waits on a warm shutdown (a prefork worker takes
        seconds to finish one): every process group still running is killed."""
        for process in reversed(self.running):
            if process.poll() is None:
                try:
                    self.kill(process)
                except ProcessLookupError:
                    process.wait(timeout=10)


@pytest.fixture
def processes(tmp_path: Path, postgres_database: str, redis_prefix: str) -> Iterator[Processes]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FLEET_")},
        "FLEET_DATABASE_URL": postgres_database,
        "FLEET_BROKER_URL": REDIS_URL,
        "FLEET_REDIS_URL": REDIS_URL,
        "FLEET_BROKER_KEY_PREFIX": redis_prefix,
        "FLEET_SEED": "7",
        "FLEET_PERSONAS_DIR": str(Path(__file__).parent / "personas"),
        # As the in-process tests (tests/conftest.py): two agents' offline comments on one
        # post are not refused as echoes of each other; the echo tests turn it on.
        "FLEET_MEMORY__ECHO_SIMILARITY": "1",
        # The workers never see the test run's own .env handling otherwise: none read.
        "FLEET_ENV_FILE": "",
    }
    running = Processes(env, tmp_path)
    yield running
    running.stop_all()
