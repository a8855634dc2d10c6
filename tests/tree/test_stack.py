"""The production stack's files: docker-compose.yml and the Procfile name real apps, queues,
health checks and the pools."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleet.settings import Settings
from fleet.worker.app import QUEUES, app
from tests.e2e.conftest import wait_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())  # type: ignore[no-any-return]


def test_the_stack_has_every_service_of_the_design(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {
        "postgres",
        "redis",
        "migrate",
        "sandbox",
        "console",
        "worker-ticks",
        "worker-content",
        "worker-engage",
        "beat",
        "flower",
    }


def test_every_long_running_service_has_a_health_check_and_a_restart_policy(
    compose: dict[str, Any],
) -> None:
    for name, service in compose["services"].items():
        if name == "migrate":
            assert service["restart"] == "no" and service["command"] == ["fleet", "db", "upgrade"]
            continue
        assert "healthcheck" in service, name
        assert service["restart"] == "unless-stopped", name


def test_every_celery_command_names_the_app_and_queues_that_exist(compose: dict[str, Any]) -> None:
    commands = [
        s["command"]
        for s in compose["services"].values()
        if s.get("command", [None])[0] == "celery"
    ]
    assert len(commands) == 5
    served: set[str] = set()
    for command in commands:
        assert command[1:3] == ["-A", "fleet.worker"]
        if "worker" in command:
            queues = command[command.index("-Q") + 1].split(",")
            assert set(queues) <= set(QUEUES)
            served.update(queues)
    # Every queue has a consumer: an unconsumed dead_letter queue would only grow.
    assert served == set(QUEUES)
    routed = {route["queue"] for route in app.conf.task_routes.values()}
    assert routed <= set(QUEUES)


def _procfile() -> dict[str, list[str]]:
    """The Procfile's commands (``make run``) by process name."""
    lines = (ROOT / "Procfile").read_text().splitlines()
    return {
        name: shlex.split(command)
        for name, command in (line.split(":", 1) for line in lines if line.strip())
    }


def _unwrapped(command: list[str]) -> tuple[int, list[str]]:
    """A command's niceness (``nice -n N`` before it) and the command itself, without
    ``bin/respawn`` before it."""
    if command[:1] == ["bin/respawn"]:
        command = command[1:]
    if command[:2] == ["nice", "-n"]:
        return int(command[2]), command[3:]
    return 0, command


def test_the_procfile_runs_a_worker_for_every_queue() -> None:
    served: set[str] = set()
    for line in _procfile().values():
        _, command = _unwrapped(line)
        if command[:4] == ["celery", "-A", "fleet.worker", "worker"]:
            served.update(command[command.index("-Q") + 1].split(","))
    assert served == set(QUEUES)


def test_action_workers_run_pools_whose_time_limits_are_enforced(
    compose: dict[str, Any],
) -> None:
    """Content waits on the network: threads in one process, whose soft limit Fleet's
    watchdog enforces (Celery's threads pool alone does not). Likes are CPU: processes.
    test_actions_live shows each pool cutting an action at its soft limit."""
    procfile = _procfile()
    commands = {
        ("compose worker-content", "threads"): compose["services"]["worker-content"]["command"],
        ("compose worker-engage", "prefork"): compose["services"]["worker-engage"]["command"],
        ("Procfile content", "threads"): _unwrapped(procfile["content"])[1],
        ("Procfile engage", "prefork"): _unwrapped(procfile["engage"])[1],
    }
    for (where, pool), command in commands.items():
        assert command[command.index("-P") + 1] == pool, where


def test_the_content_worker_yields_the_cpu_to_ticks_and_likes(compose: dict[str, Any]) -> None:
    services = compose["services"]
    # Compose weighs containers (cpu_shares, 1024 unset); the Procfile's processes share
    # one kernel, where niceness weighs them.
    assert services["worker-content"]["cpu_shares"] < 1024
    assert all("cpu_shares" not in services[name] for name in ("worker-ticks", "worker-engage"))
    niceness = {name: _unwrapped(command)[0] for name, command in _procfile().items()}
    assert niceness["content"] > 0
    assert niceness["ticks"] == niceness["engage"] == 0


def test_a_stopped_worker_has_the_time_to_finish_its_running_actions(
    compose: dict[str, Any],
) -> None:
    hard_limit = Settings().tasks.time_limit_seconds
    for name, service in compose["services"].items():
        if name.startswith("worker-"):
            grace = service["stop_grace_period"]
            assert grace.endswith("s") and float(grace[:-1]) > hard_limit, name


def test_workers_wait_for_the_migration_and_healthy_servers(compose: dict[str, Any]) -> None:
    for name in ("worker-ticks", "worker-content", "worker-engage", "beat", "flower"):
        depends = compose["services"][name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"


def test_the_env_example_names_only_known_settings() -> None:
    names = [
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert all(
        name.startswith(("FLEET_", "POSTGRES_", "FLOWER_")) or name == "ANTHROPIC_API_KEY"
        for name in names
    )


def test_beat_is_healthy_only_while_it_publishes(compose: dict[str, Any]) -> None:
    beat = compose["services"]["beat"]
    check = " ".join(beat["healthcheck"]["test"])
    assert "/tmp/celerybeat-schedule.pulse" in check and "getmtime" in check
    assert "--schedule /tmp/celerybeat-schedule" in " ".join(beat["command"])


def test_flower_asks_for_a_login_and_the_sandbox_serves_images_a_browser_can_load(
    compose: dict[str, Any],
) -> None:
    flower = compose["services"]["flower"]
    assert flower["environment"]["FLOWER_BASIC_AUTH"].startswith("${FLOWER_BASIC_AUTH:?")
    sandbox = " ".join(compose["services"]["sandbox"]["command"])
    assert "--image-base-url ${FLEET_SANDBOX_PUBLIC_URL:-http://localhost:8700}" in sandbox


def test_make_runs_web_faces_listen_on_loopback_only() -> None:
    """Flower and the console under `make run` have no login: only this machine reaches
    them (compose puts both behind a password)."""
    procfile = _procfile()
    flower = procfile["flower"]
    assert "--address=127.0.0.1" in flower
    console = procfile["console"]
    assert console[console.index("--host") + 1] == "127.0.0.1"


def test_every_procfile_process_is_respawned_so_one_exit_stops_nothing_else() -> None:
    """honcho stops the whole of make run when one process exits: each runs under
    bin/respawn, which runs it again."""
    for name, command in _procfile().items():
        assert command[0] == "bin/respawn", name


def test_respawn_runs_a_command_again_when_it_exits_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    runs, said = tmp_path / "runs", tmp_path / "stderr"
    with said.open("wb") as stderr:
        process = subprocess.Popen(
            [str(ROOT / "bin" / "respawn"), "sh", "-c", f"echo run >> {runs}; exit 3"],
            stderr=stderr,
            start_new_session=True,  # as honcho starts it: SIGTERM reaches the group
        )
    try:
        wait_for(lambda: runs.exists() and len(runs.read_text().split()) >= 2, 30, "a second run")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
    assert process.wait(timeout=10) == 0  # stopped for good: the loop is gone
    assert "respawn: sh exited with status 3" in said.read_text()


def test_respawn_without_a_command_says_how_to_use_it() -> None:
    done = subprocess.run([str(ROOT / "bin" / "respawn")], capture_output=True, check=False)
    assert done.returncode == 2 and b"usage: respawn COMMAND" in done.stderr
