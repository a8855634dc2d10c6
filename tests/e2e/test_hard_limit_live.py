"""A content task stuck in Python past both its time limits, on a real threads-pool worker:
the worker stops taking work and exits (``EXIT_STUCK``) for its supervisor, the test
here, to start a fresh one; the lease sweeper sends the stuck action again, and it ends
once, its comment on the gallery once (issue 68)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from fleet.db.models import AgentActivity
from fleet.infra.queue import send_actions
from fleet.service import work
from fleet.service.root import Fleet
from fleet.worker.limits import EXIT_STUCK
from tests.e2e.conftest import ROOT, Processes, wait_for
from tests.e2e.test_actions_live import (  # noqa: F401 - fixtures
    LEASE,
    Orders,
    admin,
    assert_books_balance,
    crew,
    env,
    fleet,
    sandbox_server,
)
from tests.gallery.conftest import Admin

pytestmark = pytest.mark.slow


def start_content_worker(processes: Processes, name: str, marker: Path) -> subprocess.Popen[bytes]:
    """The content worker as compose runs it (threads), on the stuck app, supervised by
    the test: its log in ``name``.log."""
    with (processes.logs / f"{name}.log").open("wb") as log:
        worker = subprocess.Popen(
            [
                sys.executable,
                *("-m", "celery", "-A", "tests.e2e.stuck_app", "worker"),
                *("-Q", "content", "-P", "threads", "-c", "2", "--loglevel", "INFO"),
                *("-n", f"{name}-{os.getpid()}@%h"),
            ],
            cwd=ROOT,
            env={**processes.env, "FLEET_TEST_STUCK_MARKER": str(marker)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    processes.running.append(worker)
    return worker


def test_a_content_task_stuck_past_both_limits_replaces_its_worker_and_ends_once(
    processes: Processes,
    fleet: Fleet,  # noqa: F811 - the fixture imported
    admin: Admin,  # noqa: F811 - the fixture imported
    tmp_path: Path,
) -> None:
    processes.env.update(
        {
            "FLEET_TASKS__SOFT_TIME_LIMIT_SECONDS": "1.5",
            "FLEET_TASKS__TIME_LIMIT_SECONDS": "3",
            "FLEET_TASKS__REDIS_TIMEOUT_SECONDS": "0.3",
            "FLEET_GALLERY__TIMEOUT_SECONDS": "1",
        }
    )
    marker = tmp_path / "stuck-comment-began"
    first = start_content_worker(processes, "content-1", marker)
    (author, _), (fan, _) = crew(fleet, 2)
    orders = Orders(fleet)
    orders.send(author, "post")
    orders.wait_all_terminal()
    key = orders.send(fan, "comment")

    # Stuck: the soft limit swallowed, the hard limit passed; the worker leaves.
    wait_for(marker.exists, 60, "the comment to begin and get stuck", every=0.05)
    began = time.monotonic()
    exit_status = first.wait(timeout=60)
    log = (processes.logs / "content-1.log").read_text(errors="replace")
    assert exit_status == EXIT_STUCK, log[-3000:]
    assert time.monotonic() - began >= 1.0  # not before the hard limit (3 s from its start)
    # In order: the limits, Celery's warm shutdown (no more work taken), the exit.
    said = [
        log.index(line)
        for line in (
            "soft time limit exceeded",
            "hard time limit exceeded",
            "Warm shutdown",
            "worker leaving for its supervisor to restart it",
        )
        if line in log
    ]
    assert len(said) == 4 and said == sorted(said), log[-3000:]

    # Its supervisor starts a fresh one; the lease sweeper sends the action again.
    second = start_content_worker(processes, "content-2", marker)
    assert second.pid != first.pid

    def swept() -> bool:
        expired = work.sweep(fleet)
        send_actions(orders.app, expired)
        return any(k.text == key for k in expired)

    wait_for(swept, LEASE + 30, "the lease sweeper to send the stuck comment again", every=0.5)
    assert orders.wait_all_terminal(60)[key] == "succeeded", orders.unsucceeded()
    assert second.poll() is None  # the fresh worker runs on
    with fleet.sessions() as session:
        deliveries = session.scalars(
            select(AgentActivity.deliveries).where(AgentActivity.idempotency_key == key)
        ).one()
    assert deliveries == 2  # the stuck one, the sweeper's
    report = assert_books_balance(fleet, admin)  # one comment on the gallery, none twice
    assert sum(user["comments"] for user in report["users"]) == 1
