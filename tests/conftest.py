"""Shared fixtures: a Postgres database of the suite's own, SQLite files per test, Redis.

The Postgres database is created on the machine's server at the start of the run and
dropped at its end; tables are emptied after each test that used it. Redis tests work
under a key prefix of their own, whose keys are deleted afterwards.
"""

from __future__ import annotations

import faulthandler
import gc
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from hypothesis import settings as hypothesis_settings
from pydantic import SecretStr
from sqlalchemy import Connection, Engine, text

from fleet import activities, agents
from fleet.agents import Selection
from fleet.db import migrate
from fleet.db.engine import build_engine
from fleet.gallery.client import HttpGallery
from fleet.service.root import Fleet, bootstrap
from fleet.settings import Settings
from fleet_sandbox.config import SandboxConfig
from fleet_sandbox.server import BackgroundSandbox
from tests.gallery.conftest import TOKEN, Admin, settings_for

PG_ADMIN_URL = os.environ.get(
    "FLEET_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("FLEET_TEST_REDIS", "redis://127.0.0.1:6379/0")

# The fixtures that reach the machine's servers; `--no-servers` (make test-quick) skips
# every test that uses one, or that is marked as needing one, and names why.
POSTGRES_FIXTURES = frozenset({"postgres_database", "pg_engine", "pg_fleet", "fleet_on_redis"})
REDIS_FIXTURES = frozenset({"real_redis", "redis_keys", "fleet_on_redis"})


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--no-servers",
        action="store_true",
        help="skip, with the reason, every test that needs Postgres or Redis (make test-quick)",
    )


def _needs(item: pytest.Item) -> list[str]:
    """The servers a collected test needs: by its marks, fixtures and engine parameter."""
    fixtures = set(getattr(item, "fixturenames", ()))
    callspec = getattr(item, "callspec", None)
    # The same test on each backend: the parameter names the server ("postgres", "redis").
    backends = [str(value) for value in callspec.params.values()] if callspec else []
    needs = []
    if (
        item.get_closest_marker("postgres")
        or fixtures & POSTGRES_FIXTURES
        or "postgres" in backends
    ):
        needs.append(f"Postgres (FLEET_TEST_POSTGRES, {PG_ADMIN_URL})")
    if item.get_closest_marker("redis") or fixtures & REDIS_FIXTURES or "redis" in backends:
        needs.append(f"Redis (FLEET_TEST_REDIS, {REDIS_URL})")
    return needs


def pytest_collection_finish(session: pytest.Session) -> None:
    """What the run has imported and collected by now lives to its end (modules, classes,
    the collected tests): moved out of the collector's reach (``gc.freeze``), a full
    collection no longer walks those hundreds of thousands of objects again each time
    (about a second of CPU in a serial make test-quick, per process under xdist)."""
    gc.freeze()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        # A Hypothesis test is a property test: ``-m property`` selects them all.
        if getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
            item.add_marker(pytest.mark.property)
        # The end-to-end tests count real workers, beat and servers in real time: under
        # ``--dist loadgroup`` (make test's second run) they run one after another on one
        # pytest-xdist worker, never two at once, beside the benchmarks' smoke runs
        # (``tests/bench``: figures at a tiny size, no deadline but their timeout).
        if item.get_closest_marker("slow") and item.path.parent.name != "bench":
            item.add_marker(pytest.mark.xdist_group("realtime"))
    if not config.getoption("--no-servers"):
        return
    for item in items:
        if item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.skip(reason="slow: real worker processes (make test)"))
        elif item.get_closest_marker("long"):
            reason = "long: an in-process run of many seconds (make test runs it)"
            item.add_marker(pytest.mark.skip(reason=reason))
        elif item.get_closest_marker("platform"):
            reason = "platform: real servers of the Mastodon client API (make test-platform)"
            item.add_marker(pytest.mark.skip(reason=reason))
        elif item.get_closest_marker("browser"):
            reason = "browser: starts headless Chromium, seconds of CPU (make test-fast runs it)"
            item.add_marker(pytest.mark.skip(reason=reason))
        elif needs := _needs(item):
            reason = f"needs {' and '.join(needs)}: --no-servers (make test runs it)"
            item.add_marker(pytest.mark.skip(reason=reason))


# No per-example deadline: a loaded machine (CI, a fleet running beside the suite) makes
# one example slow now and then, and speed is measured in bench/, never in tests.
hypothesis_settings.register_profile("fleet", deadline=None)
hypothesis_settings.load_profile("fleet")
# make test-quick: a quarter of the examples, where a test does not set its own count
# and (``examples``) where it does.
hypothesis_settings.register_profile("quick", deadline=None, max_examples=25)
# HYPOTHESIS_PROFILE=thorough (make test-thorough): THOROUGH times the examples, to look
# for the rare case a user's run would otherwise meet first.
THOROUGH = 20
hypothesis_settings.register_profile("thorough", deadline=None, max_examples=100 * THOROUGH)
PROFILES = ("fleet", "quick", "thorough")
_profile = "fleet"


def examples(count: int) -> int:
    """A property test's ``max_examples``: ``count`` under make test, a quarter of it (at
    least 10) under --no-servers (make test-quick), ``THOROUGH`` times it under
    HYPOTHESIS_PROFILE=thorough."""
    if _profile == "quick":
        return max(10, count // 4)
    if _profile == "thorough":
        return count * THOROUGH
    return count


def pytest_configure(config: pytest.Config) -> None:
    global _profile
    chosen = os.environ.get("HYPOTHESIS_PROFILE", "")
    if chosen and chosen not in PROFILES:
        raise pytest.UsageError(
            f"HYPOTHESIS_PROFILE={chosen[:40]!r} is not a profile: use one of {', '.join(PROFILES)}"
        )
    if not chosen and config.getoption("--no-servers"):
        chosen = "quick"
    if chosen:
        _profile = chosen
        hypothesis_settings.load_profile(chosen)


# Seconds a run's end waits for the threads its tests left running (not daemons) before
# it leaves without them.
LINGER_SECONDS = 30.0
_exit_status = 0


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    global _exit_status
    _exit_status = int(exitstatus)


def pytest_unconfigure(config: pytest.Config) -> None:
    """A run ends even if a failed test left a thread running that never ends (one
    waiting on a lock an interrupt left held, say): the interpreter would wait for it at
    its exit for ever, and CI with it. Past ``LINGER_SECONDS`` the threads' stacks are
    printed and the process leaves with the run's status (1 if it had passed)."""
    deadline = time.monotonic() + LINGER_SECONDS
    perform = sys.modules.get("fleet.actions.perform")
    if perform is not None:  # the batch threads wait for work until told to end
        perform.end_batch_threads(wait=False)
    left = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    for thread in left:
        thread.join(max(0.0, deadline - time.monotonic()))
    lingering = [t.name for t in left if t.is_alive()]
    if lingering:
        sys.stderr.write(f"\ntests left threads running, never ending: {lingering[:10]}\n")
        faulthandler.dump_traceback(all_threads=True)
        sys.stderr.flush()
        sys.stdout.flush()
        os._exit(_exit_status or 1)


@pytest.fixture
def real_redis() -> Iterator[redis.Redis]:
    """The machine's Redis: the limits are Lua scripts on its own clock."""
    client = redis.Redis.from_url(REDIS_URL)
    yield client
    client.close()


@pytest.fixture
def redis_keys(real_redis: redis.Redis) -> Iterator[str]:
    """A key prefix of the test's own on the real Redis, its keys removed afterwards."""
    prefix = f"fleet-test-{uuid.uuid4().hex[:8]}"
    yield prefix
    for name in real_redis.scan_iter(match=f"{prefix}*"):
        real_redis.delete(name)


def _pg_url(database: str) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{database}"


@pytest.fixture(scope="session", autouse=True)
def _no_redis_socket_left_open() -> Iterator[None]:
    """At the end of the run, close every Redis connection still held: a client dropped
    unclosed inside a reference cycle (a Celery app's producer pool, a fleet root a test
    let go) keeps its socket until the collector reaches it, and pytest's last collection
    would report that socket as unclosed (an error under ``filterwarnings = error``: CI
    went red on one after every test had passed). Connections still in use are closed
    the same way; nothing runs after this."""
    yield
    for held in gc.get_objects():
        # type(), not isinstance(): a dead weak proxy among the objects raises on use.
        if issubclass(type(held), redis.connection.AbstractConnection):
            held.disconnect()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh database on the real server for this test run, migrated to head."""
    name = f"fleet_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"Postgres is not reachable at {PG_ADMIN_URL}: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = _pg_url(name)
    engine = build_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_engine(postgres_database: str) -> Iterator[Engine]:
    engine = build_engine(postgres_database)
    try:
        yield engine
    finally:
        with engine.begin() as connection:
            _empty(connection)
        engine.dispose()


def _empty(connection: Connection) -> None:
    """Every table emptied and every sequence back at its start, as ``TRUNCATE ... RESTART
    IDENTITY`` of them all leaves them; in milliseconds when the test wrote little.

    A TRUNCATE costs a fifth of a second even of empty tables (new files for each table
    and index): only the tables that hold a row are truncated, and only the sequences
    that were used are reset.
    """
    tables = connection.execute(
        text(
            "SELECT tablename FROM pg_tables"
            " WHERE schemaname = current_schema() AND tablename <> 'alembic_version'"
        )
    ).scalars()
    probes = " UNION ALL ".join(
        f"(SELECT CAST('{name}' AS text) FROM \"{name}\" LIMIT 1)" for name in tables
    )
    if held := connection.execute(text(probes)).scalars().all():
        quoted = ", ".join(f'"{name}"' for name in held)
        connection.execute(text(f"TRUNCATE {quoted} CASCADE"))
    connection.execute(
        text(
            "SELECT setval(format('%I.%I', schemaname, sequencename), start_value, false)"
            " FROM pg_sequences"
            " WHERE schemaname = current_schema() AND last_value IS NOT NULL"
        )
    )


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once for the run: each test gets a copy of it."""
    path = tmp_path_factory.mktemp("sqlite-template") / "fleet.db"
    engine = build_engine(f"sqlite:///{path}")
    try:
        migrate.upgrade(engine)
    finally:
        # The last connection closed checkpoints the WAL: the file alone is the database.
        engine.dispose()
    assert not path.with_name(f"{path.name}-wal").exists(), "the template's WAL was kept"
    return path


@pytest.fixture
def sqlite_engine(tmp_path: Path, sqlite_template: Path) -> Iterator[Engine]:
    """A SQLite database at head of the test's own: a copy of the run's migrated template
    (the same schema ``migrate.upgrade`` makes; tests/db/test_migrations.py runs it)."""
    path = tmp_path / "fleet.db"
    shutil.copyfile(sqlite_template, path)
    engine = build_engine(f"sqlite:///{path}")
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture(params=["postgres", "sqlite"])
def engine(request: pytest.FixtureRequest) -> Engine:
    """The same test on the real Postgres and on the embedded SQLite."""
    fixture = "pg_engine" if request.param == "postgres" else "sqlite_engine"
    return request.getfixturevalue(fixture)  # type: ignore[no-any-return]


@pytest.fixture
def fleet(engine: Engine) -> Iterator[Fleet]:
    settings = Settings(database_url=str(engine.url.render_as_string(hide_password=False)), seed=7)
    instance = bootstrap(settings, engine)
    yield instance
    _close_redis(instance)


def _close_redis(instance: Fleet) -> None:
    """The Redis client a test's actions opened (limits, breakers): the engine is the
    fixture's, closed by it."""
    if "redis" in instance.__dict__:
        instance.redis.close()


def active_agents(
    fleet: Fleet,
    count: int,
    persona: str = "social_media_marketer",
    *,
    now: datetime | None = None,
    interval: tuple[float, float] | None = None,
) -> list[int]:
    """The ids of ``count`` new agents of ``persona``, started (no gallery accounts yet)."""
    now = now or datetime.now(UTC)
    made = agents.create_agents(
        fleet.sessions,
        fleet.personas,
        agents.NewAgents(persona, count, interval=interval),
        fleet_seed=7,
        now=now,
    )
    agents.change_status(
        fleet.sessions,
        fleet.personas,
        "start",
        Selection(id_range=(made.first_id, made.last_id)),
        now=now,
    )
    return list(range(made.first_id, made.last_id + 1))


@pytest.fixture
def fleet_on_redis(pg_engine: Engine, redis_keys: str) -> Iterator[Fleet]:
    """A Fleet on Postgres whose broker, limits and activity feed are the real Redis,
    under the test's key prefix."""
    settings = Settings(
        database_url=pg_engine.url.render_as_string(hide_password=False),
        broker_url=REDIS_URL,
        redis_url=REDIS_URL,
        broker_key_prefix=f"{redis_keys}:",
        seed=7,
    )
    instance = bootstrap(settings, pg_engine)
    yield instance
    instance.close()


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see none of the developer's FLEET_* or ANTHROPIC_* variables (keys, a gateway)."""
    for name in list(os.environ):
        if name.startswith(("FLEET_", "ANTHROPIC_")):
            monkeypatch.delenv(name)
    # Nor a .env in the working directory (one `make run` wrote, say).
    monkeypatch.setenv("FLEET_ENV_FILE", "")
    # No no-echo refusals unless a test asks for them (tests/agents/test_memories.py): the
    # offline writer's near-duplicates would turn other tests' comments into skips.
    monkeypatch.setenv("FLEET_MEMORY__ECHO_SIMILARITY", "1")
    # Nor a like passing its page over unless a test asks for it (tests/core/test_taste.py):
    # the fleets tests work expect their likes to reach the gallery (a dead like's fault).
    monkeypatch.setenv("FLEET_TASTE__PASS_OVER", "none")


@pytest.fixture
def pg_fleet(pg_engine: Engine) -> Iterator[Fleet]:
    """A Fleet on the real Postgres only, for what only Postgres does (SKIP LOCKED, COPY)."""
    url = pg_engine.url.render_as_string(hide_password=False)
    instance = bootstrap(Settings(database_url=url, seed=7), pg_engine)
    yield instance
    _close_redis(instance)


# The sandbox gallery on a loopback port for the whole run, emptied before each test:
# ``sandbox`` is the running server (uvicorn on a background thread, port 0), ``admin``
# turns its controls and reads its report, ``gallery`` is Fleet's HTTP client on it.


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[BackgroundSandbox]:
    with BackgroundSandbox(SandboxConfig(service_token=SecretStr(TOKEN), seed=7)) as server:
        yield server


@pytest.fixture(scope="session")
def session_admin(sandbox_server: BackgroundSandbox) -> Iterator[Admin]:
    admin = Admin(sandbox_server.url)
    yield admin
    admin.close()


@pytest.fixture
def admin(session_admin: Admin) -> Admin:
    """The admin API of an empty sandbox with its start-up controls."""
    session_admin.reset()
    return session_admin


@pytest.fixture
def sandbox(sandbox_server: BackgroundSandbox, admin: Admin) -> BackgroundSandbox:
    """The running sandbox, emptied for this test."""
    return sandbox_server


@pytest.fixture
def gallery(sandbox: BackgroundSandbox) -> Iterator[HttpGallery]:
    client = HttpGallery(settings_for(sandbox.url))
    yield client
    client.close()


def count_target_keeps(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """From now on, each time a like keeps a post chosen after its claim
    (``activities.keep_target``), its arguments; the call still goes through."""
    keeps: list[dict[str, Any]] = []
    keep_target = activities.keep_target

    def counted(*args: Any, **kwargs: Any) -> activities.TargetKept:
        keeps.append(kwargs)
        return keep_target(*args, **kwargs)

    monkeypatch.setattr(activities, "keep_target", counted)
    return keeps


def python_prints(program: str) -> str:
    """What a fresh interpreter prints running ``program``, stripped: what a process
    loads, which the suite's own imports would hide. A failing program fails the test."""
    ran = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=True
    )
    return ran.stdout.strip()
