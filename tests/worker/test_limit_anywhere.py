"""The soft time limit delivered at many points of a real comment's path (issue 68): the
interrupt the threads pool's watchdog raises (``TimeLimitExceeded`` by CPython's
``PyThreadState_SetAsyncExc``, as ``fleet.worker.limits`` does it) lands in the middle of
a database commit, a gallery call, a Redis pipeline, a ``with`` holding a lock. Each
time the books hold: no transaction left open, no connection half-used in a pool (the
database's, Redis's, the gallery's), no lock held (the retry runs to its end within its
deadline), and the comment ends once, on the gallery once.

A tracer on the task's thread counts the calls of the comment's path (Fleet's, the
database driver's, SQLAlchemy's, redis-py's, the gallery client's) and, from the chosen
call on, raises the limit into its own thread at the first call where the watchdog would
(``fleet.worker.limits.safe_to_interrupt``: never inside a library's pool bookkeeping or
a lock's ``with``, which an exception there leaves broken): it is delivered at the
thread's next instruction, as the watchdog's is. The books hold at every point, with no
exception: no connection lost to a pool, none closed by the garbage collector."""

from __future__ import annotations

import gc
import sys
import threading
import warnings
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any

import pytest
from sqlalchemy import Engine, select, text

from fleet import activities
from fleet.core.kinds import ActionKey
from fleet.db.models import AgentActivity
from fleet.errors import TimeLimitExceeded
from fleet.gallery.wire import Wire
from fleet.service import work
from fleet.service.root import Fleet, bootstrap
from fleet.settings import Settings
from fleet.worker.limits import on_swallowed_limit, raise_in, safe_to_interrupt
from fleet_sandbox.server import BackgroundSandbox
from tests.conftest import REDIS_URL, active_agents
from tests.gallery.conftest import TOKEN, Admin

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(600),
]

POINTS = 48  # points spread over the path, besides those aimed at its risky calls
AUTHORS = 24
DEADLINE = 60.0
LEASE = timedelta(minutes=5)

# Calls where an interrupt does the most harm, each aimed at (its first call, and a few
# calls on): a commit, a Redis pipeline, a gallery call, a lock's ``with``.
AIMED = (
    ("sqlalchemy/orm/session.py", "commit"),
    ("psycopg/connection.py", "commit"),
    ("redis/client.py", "execute"),
    ("fleet/gallery/wire.py", "_exchange"),
    ("fleet/gallery/wire.py", "_give_back"),
    ("fleet/actions/interests.py", "ties_of"),
    ("threading.py", "__enter__"),
)


@pytest.fixture
def fleet(pg_engine: Engine, sandbox: BackgroundSandbox, redis_keys: str) -> Iterator[Fleet]:
    settings = Settings(
        database_url=pg_engine.url.render_as_string(hide_password=False),
        broker_url=REDIS_URL,
        redis_url=REDIS_URL,
        broker_key_prefix=f"{redis_keys}:",
        seed=7,
        gallery={"url": sandbox.url, "token": TOKEN},  # type: ignore[arg-type]
    )
    made = bootstrap(settings, pg_engine)
    yield made
    made.close()


class Path:
    """One run of a comment's task on a thread of its own: every call it makes counted,
    and the limit raised into it at call ``at`` or the first call after it where the
    watchdog would raise it (None: never); raised again, as the watchdog does, where a
    finalizer swallowed it (``rearm``)."""

    running: Path | None = None  # the path whose task runs now

    def __init__(self, at: int | None = None) -> None:
        self.at = at
        self.armed = at is not None
        self.calls = 0
        self.where = ""
        self.delivered: int | None = None
        self.swallowed = 0
        self.aimed: dict[tuple[str, str], int] = {}

    def rearm(self) -> None:
        self.armed = True
        self.swallowed += 1

    def _trace(self, frame: FrameType, event: str, arg: Any) -> None:
        if event != "call":
            return None
        self.calls += 1
        code = frame.f_code
        if self.at is None:
            for aim in AIMED:
                if (
                    aim not in self.aimed
                    and code.co_filename.endswith(aim[0])
                    and code.co_name == aim[1]
                ):
                    self.aimed[aim] = self.calls
        elif self.armed and self.calls >= self.at and safe_to_interrupt(frame):
            self.armed = False
            self.delivered = self.delivered or self.calls
            self.where = f"{_package(code.co_filename)}/{code.co_name}"
            raise_in(threading.get_ident(), TimeLimitExceeded)
        return None

    def run(self, fleet: Fleet, key: str) -> str | BaseException:
        """The task's status (as an action's task returns it), or what escaped it."""
        out: list[str | BaseException] = []
        parsed = ActionKey.parse(key)

        def task() -> None:
            Path.running = self
            sys.settrace(self._trace)  # type: ignore[arg-type]
            try:
                try:
                    out.append(work.act(fleet, parsed, "fleet.comment", deferrals=0).status)
                except TimeLimitExceeded:  # past the settling: the task's ``_late_limit``
                    out.append("interrupted")
            except BaseException as error:  # what the test looks at
                out.append(error)
            finally:
                sys.settrace(None)
                Path.running = None

        # A daemon: a task that never ends (a lock held) fails the test, not the exit.
        thread = threading.Thread(target=task, daemon=True)
        thread.start()
        thread.join(DEADLINE)
        assert not thread.is_alive(), f"the task did not end within {DEADLINE:g}s: a lock held?"
        return out[0]


def _package(filename: str) -> str:
    """Whose code a file is: ``fleet``, a library's top package, or ``python`` (the
    standard library)."""
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0]
    if "/fleet/" in filename:
        return "fleet"
    return "python"


def _collected() -> list[str]:
    """What the garbage collector finalized just now: the ResourceWarnings of objects
    dropped unclosed (a connection an interrupt kept from its pool's check-in, which
    SQLAlchemy's finalizer gives back; one made and dropped unclosed, which its own
    finalizer closes)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        gc.collect()
    return [str(w.message)[:60] for w in caught if issubclass(w.category, ResourceWarning)]


def _comment(fleet: Fleet, agent_id: int, second: int) -> str:
    due = datetime.fromtimestamp(second, UTC)
    key = f"{agent_id}:{second}:comment"
    activities.create_activity(
        fleet.sessions, agent_id, "comment", due, key, now=datetime.now(UTC), lease=LEASE
    )
    return key


def _books_hold(fleet: Fleet, pg_engine: Engine, at: str) -> None:
    """Nothing left half-done in the process's pools and the database's sessions (``at``:
    where the limit came, for the failure's message)."""
    assert fleet.engine.pool.checkedout() == 0, f"{at}: a database connection not given back"
    with pg_engine.connect() as connection:
        open_transactions = connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    assert open_transactions == 0, f"{at}: a transaction left open"
    pool = fleet.redis.connection_pool
    assert not getattr(pool, "_in_use_connections", ()), f"{at}: a Redis connection not given back"
    # What the pool hands out is ready for a command: one given back with an answer
    # unread (the limit between a command's send and its read) is reconnected at its
    # checkout (redis-py's ``get_connection``), never read by the next command.
    taken = [pool.get_connection() for _ in range(len(pool._available_connections))]  # type: ignore[attr-defined]
    try:
        for connection in taken:
            assert not connection.can_read(), (
                f"{at}: a Redis connection handed out, an answer unread"
            )
    finally:
        for connection in taken:
            pool.release(connection)
    wire = fleet.action_kit.gallery
    transport = getattr(getattr(wire, "inner", wire), "_transport", None)
    if isinstance(transport, Wire):
        for idle in transport._idle:
            # Reusable, or closed (dropped at its next take).
            assert idle.sock.fileno() == -1 or idle.reusable(), (
                f"{at}: a gallery connection given back half-read"
            )


def test_the_limit_delivered_anywhere_in_a_comment_leaves_the_books_balanced(
    fleet: Fleet, pg_engine: Engine, admin: Admin, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "unraisablehook", sys.unraisablehook)  # restored after
    on_swallowed_limit(lambda ident: Path.running.rearm() if Path.running else None)
    now = datetime.now(UTC)
    second = int(now.timestamp())
    # Posts enough for every comment to find one not commented on enough already.
    authors = active_agents(fleet, AUTHORS, now=now)
    for author in authors:
        second += 1
        posted = work.act(
            fleet, ActionKey.parse(_post(fleet, author, second)), "fleet.post", deferrals=0
        )
        assert posted.status == "succeeded"
    fans = active_agents(fleet, POINTS + len(AIMED) * 3 + 2, now=now)

    # The path whole, uninterrupted: its calls counted, the risky ones found.
    whole = Path()
    done = whole.run(fleet, _comment(fleet, fans.pop(), second))
    assert done == "succeeded", done
    assert set(whole.aimed) == set(AIMED), f"calls not on the path: {set(AIMED) - set(whole.aimed)}"
    # Again, its caches warm (as the comments after it find them): its calls spread over.
    second += 1
    warm = Path()
    assert warm.run(fleet, _comment(fleet, fans.pop(), second)) == "succeeded"
    points = sorted(
        {1 + warm.calls * n // POINTS for n in range(POINTS)}
        | {at + shift for at in warm.aimed.values() for shift in (0, 1, 3)}
    )

    interrupted: Counter[str] = Counter()
    deferred = 0  # calls from the chosen points to where the limit could land
    swallowed = 0  # limits a finalizer took, raised again
    where: Counter[str] = Counter()
    keys: list[str] = []
    for at in points:
        second += 1
        key = _comment(fleet, fans.pop(), second)
        keys.append(key)
        path = Path(at)
        first = path.run(fleet, key)
        assert isinstance(first, str), f"at call {at} ({path.where}): {first!r} escaped the task"
        interrupted[first] += 1
        deferred += (path.delivered or at) - at
        swallowed += path.swallowed
        where[path.where.split("/")[0]] += 1
        assert not _collected(), (at, path.where)  # nothing dropped unclosed
        _books_hold(fleet, pg_engine, f"call {at} ({path.where})")
        # The retry (Celery's, after the countdown), or the lease sweeper's copy of an
        # action whose delivery the limit left holding it: it ends, within its deadline.
        status = first
        for _ in range(4):
            if status in ("retry", "interrupted", "held-elsewhere"):
                if status != "retry":
                    _sweep_later(fleet)
                status = Path().run(fleet, key)  # type: ignore[assignment]
                assert isinstance(status, str), status
        assert status in ("succeeded", "skipped", "already-finished"), (at, path.where, status)
        assert not _collected(), (at, path.where)
        _books_hold(fleet, pg_engine, f"call {at} ({path.where})")

    assert not _collected()
    with fleet.sessions() as session:
        rows = dict(
            session.execute(
                select(AgentActivity.idempotency_key, AgentActivity.status).where(
                    AgentActivity.idempotency_key.in_(keys)
                )
            ).all()
        )
    assert all(status in ("succeeded", "skipped") for status in rows.values()), rows
    report = admin.report()
    comments = sum(user["comments"] for user in report["users"])
    assert comments == 2 + Counter(rows.values())["succeeded"]  # the two whole runs', and each once
    assert not report["duplicates"]["comments"], report["duplicates"]
    # Most points cut the comment before it ended (retried); the rest came after its end.
    with fleet.sessions() as session:
        reasons = Counter(
            str(r)[:80]
            for r in session.scalars(
                select(AgentActivity.error).where(AgentActivity.status == "skipped")
            )
        )
    assert interrupted["retry"] >= len(points) // 2, (interrupted, reasons)
    print(
        {
            "calls": whole.calls,
            "points": len(points),
            "first_runs": dict(interrupted),
            "where": dict(where),
            "deferred_calls": deferred,
            "swallowed_by_finalizers": swallowed,
        }
    )


def _sweep_later(fleet: Fleet) -> None:
    """The lease sweeper, a lease on: the actions a delivery left holding, leased anew."""
    later = datetime.now(UTC) + LEASE + timedelta(seconds=1)
    activities.expired_leases(fleet.sessions, now=later, lease=LEASE)


def _post(fleet: Fleet, author: int, second: int) -> str:
    """The author's post, for the fans to comment on."""
    due = datetime.fromtimestamp(second, UTC)
    key = f"{author}:{second}:post"
    activities.create_activity(
        fleet.sessions, author, "post", due, key, now=datetime.now(UTC), lease=LEASE
    )
    return key
