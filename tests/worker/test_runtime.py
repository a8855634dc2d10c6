"""What a worker's main process loads before its pool forks: the action kit only in a
worker that carries out actions, and frozen out of the collector's reach after, so the
pool's children share its pages instead of copying them."""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from fleet.infra.queue import create_app
from fleet.settings import Settings
from fleet.worker import runtime


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """The apps whose Fleet the worker's start built (a Fleet of no interests)."""
    apps: list[Any] = []

    def current_fleet(app: Any) -> Any:
        apps.append(app)
        return SimpleNamespace(action_kit=SimpleNamespace(interests=None))

    monkeypatch.setattr(runtime, "current_fleet", current_fleet)
    yield apps
    gc.unfreeze()


def _started(queues: list[str] | None) -> Any:
    app = create_app(Settings(database_url="sqlite://", seed=7))
    if queues is not None:
        app.amqp.queues.select(queues)  # as ``celery worker -Q`` does
    runtime._load_before_forking(sender=SimpleNamespace(app=app))
    return app


def test_the_ticks_worker_loads_no_action_kit(built: list[Any]) -> None:
    _started(["ticks", "dead_letter"])
    assert built == []


def test_the_ticks_worker_imports_no_content_writers() -> None:
    # A process of its own: the suite has imported the writers long before.
    probe = (
        "import sys, types; from fleet.infra.queue import create_app; "
        "from fleet.settings import Settings; from fleet.worker import runtime; "
        "app = create_app(Settings(database_url='sqlite://', seed=7)); "
        "app.amqp.queues.select(['ticks', 'dead_letter']); "
        "runtime._load_before_forking(sender=types.SimpleNamespace(app=app)); "
        "print('fleet.content.factory' in sys.modules)"
    )
    ran = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert ran.stdout.strip() == "False"


@pytest.mark.parametrize("queues", [["engage"], ["content"], None])
def test_a_worker_of_actions_loads_its_kit_and_freezes_it_before_forking(
    built: list[Any], queues: list[str] | None
) -> None:
    gc.unfreeze()
    app = _started(queues)
    assert built == [app]
    assert gc.get_freeze_count() > 0
