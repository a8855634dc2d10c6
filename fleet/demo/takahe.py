"""A local Takahē 0.11, run from a temporary copy of a snapshot directory on a database of its own.

The snapshot (Takahē's source at 0.11, ``manage.py`` and ``requirements.txt`` at its top)
is never written to: it is copied into a temporary directory, which is removed at the end.
Its Python environment is built once and cached under the temporary directory, keyed by
a hash of its requirements, so a second start takes seconds. Its database is created on
the machine's Postgres (``FLEET_TAKAHE_POSTGRES``, by default the local server as user
``postgres``) under a random name and dropped at the end. Accounts are made the way an
operator's script would on Takahē, through its Django ORM (there is no admin API), each
with an access token of an application of the caller's naming.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from fleet.errors import InputError

SNAPSHOT_VARIABLE = "FLEET_TAKAHE_DIR"
POSTGRES_VARIABLE = "FLEET_TAKAHE_POSTGRES"
DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432"
CACHE = Path(tempfile.gettempdir()) / "fleet-platforms-cache"
# Left out of Takahē's requirements: pylibmc needs libmemcached headers, sphinx is docs,
# python-memcached is for Windows only.
LEFT_OUT = re.compile(r"^(pylibmc|sphinx|python-memcached)\b")
# The local domain Takahē serves; a caller sends it as the Host header.
HOST = "takahe.test"
# What a snapshot has at its top, telling it is Takahē's source: files, then folders.
SNAPSHOT_FILES = ("manage.py", "requirements.txt")
SNAPSHOT_FOLDERS = ("takahe", "users", "activities", "api")
READY_SECONDS = 90.0
STATOR_THREADS = 4
# Takahē served as its own image serves it (docker/run.sh: gunicorn takahe.wsgi, sync
# workers): a worker keeps one Postgres connection and reuses it. Under ASGI (uvicorn)
# each request's Django code ran on a thread of its own, and with Takahē's
# conn_max_age=600 each such thread left an idle connection open for ten minutes: 27
# after a setup of 8 accounts and 32 posts, until a shared max_connections (100) ran
# out ("too many clients"), which Fleet met as 500s and its breaker.
WEB_WORKERS = 2
# The access log's line: method, path, status and the server's own time (microseconds).
ACCESS_FORMAT = "%(m)s %(U)s %(s)s %(D)s"


def snapshot_dir(given: Path | None) -> Path:
    """The snapshot to run: ``given`` (``--takahe-dir``), else ``FLEET_TAKAHE_DIR``;
    InputError naming what is missing and where to point it."""
    if given is None:
        named = os.environ.get(SNAPSHOT_VARIABLE, "").strip()
        if not named:
            raise InputError(
                "--platform takahe needs a Takahē 0.11 snapshot (its source directory): "
                f"give --takahe-dir PATH or set {SNAPSHOT_VARIABLE}"
            )
        given = Path(named)
    where = given.expanduser()
    if not where.is_dir():
        raise InputError(
            f"the Takahē snapshot {str(where)[:300]!r} is not a directory: point "
            f"--takahe-dir (or {SNAPSHOT_VARIABLE}) at Takahē 0.11's source"
        )
    lacking = [name for name in SNAPSHOT_FILES if not (where / name).is_file()]
    lacking += [f"{name}/" for name in SNAPSHOT_FOLDERS if not (where / name).is_dir()]
    if lacking:
        raise InputError(
            f"the Takahē snapshot {str(where)[:300]!r} has no {lacking[0]}: point "
            f"--takahe-dir (or {SNAPSHOT_VARIABLE}) at Takahē 0.11's source"
        )
    return where.resolve()


def postgres_url() -> str:
    """The Postgres server Takahē's database is made on (without a database name)."""
    return os.environ.get(POSTGRES_VARIABLE, "").strip().rstrip("/") or DEFAULT_POSTGRES


def _admin(server: str, statement: str) -> None:
    """Run one statement on the server's ``postgres`` database, outside a transaction."""
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=5) as db:
        db.execute(statement)


def check_postgres(server: str) -> None:
    """InputError when the server does not answer (Takahē needs a database of its own)."""
    import psycopg

    try:
        _admin(server, "SELECT 1")
    except psycopg.Error as error:
        said = str(error).strip().splitlines()[0][:200] if str(error).strip() else "no answer"
        raise InputError(
            f"Postgres at {server} is not reachable ({said}): Takahē needs a database "
            f"there; start Postgres or set {POSTGRES_VARIABLE}=postgres://USER@HOST:PORT"
        ) from None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(
    what: str,
    ready: Callable[[], bool],
    seconds: float,
    proc: subprocess.Popen[bytes] | None = None,
) -> None:
    """Wait until ``ready()`` is true, at most ``seconds``; RuntimeError after, or when
    ``proc`` exits first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before it was ready")
        with contextlib.suppress(Exception):
            if ready():
                return
        time.sleep(0.2)
    raise RuntimeError(f"{what} was not ready within {seconds:g} s")


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """Stop a process started in a session of its own, with its children."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def takahe_venv(snapshot: Path) -> Path:
    """Takahē's virtual environment, built once per requirements (cached, locked)."""
    wanted = [
        line
        for line in (snapshot / "requirements.txt").read_text().splitlines()
        if line.strip() and not LEFT_OUT.match(line.strip())
    ]
    digest = hashlib.sha256("\n".join(wanted).encode()).hexdigest()[:16]
    venv = CACHE / f"takahe-venv-{digest}"
    if (venv / ".ready").exists():
        return venv
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"takahe-venv-{digest}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (venv / ".ready").exists():
            return venv
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        reqs = venv / "requirements.txt"
        reqs.write_text("\n".join(wanted) + "\n")
        pip = [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check"]
        subprocess.run([*pip, "-r", str(reqs)], check=True)
        (venv / ".ready").write_text(digest)
    return venv


@dataclass
class Takahe:
    """A running Takahē: its base URL, Host header, directory and Django shell."""

    url: str
    host: str
    home: Path
    venv: Path
    env: dict[str, str]
    database: str
    postgres: str = DEFAULT_POSTGRES
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[IO[bytes]] = field(default_factory=list)

    @property
    def access_log(self) -> Path:
        """Gunicorn's access log: ``METHOD PATH STATUS MICROSECONDS`` a line."""
        return self.home / "access.log"

    def served(self) -> list[tuple[str, str, int, float]]:
        """The calls served so far: (method, path, status, the server's seconds)."""
        out: list[tuple[str, str, int, float]] = []
        if not self.access_log.exists():
            return out
        for line in self.access_log.read_text(errors="replace").splitlines():
            parts = line.split()
            if len(parts) == 4 and parts[2].isdigit() and parts[3].isdigit():
                out.append((parts[0], parts[1], int(parts[2]), int(parts[3]) / 1e6))
        return out

    def shell(self, code: str) -> str:
        """Run Python in Takahē's Django shell; its standard output."""
        done = subprocess.run(
            [str(self.venv / "bin" / "python"), "manage.py", "shell", "-c", code],
            cwd=self.home,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"takahe shell failed: {done.stderr[-2000:]}")
        return done.stdout

    def accounts(self, handles: list[str], application: str = "fleet-tests") -> dict[str, str]:
        """Local accounts (created if missing), each with an access token of the
        application named: handle -> token."""
        code = f"""
import secrets
from users.models import Domain, User, Identity
from users.services.identity import IdentityService
from api.models import Application, Token
domain = Domain.objects.get(domain={self.host!r})
app, _ = Application.objects.get_or_create(
    name={application!r}, defaults=dict(client_id={application!r},
    client_secret=secrets.token_hex(16), redirect_uris="urn:ietf:wg:oauth:2.0:oob",
    scopes="read write follow push"))
for handle in {handles!r}:
    user, _ = User.objects.get_or_create(email=handle + "@fleet.test")
    identity = Identity.objects.filter(username=handle, domain=domain).first()
    if identity is None:
        identity = IdentityService.create(user=user, username=handle, domain=domain, name=handle)
    token = Token.objects.filter(identity=identity, application=app).first()
    if token is None:
        token = Token.objects.create(application=app, user=user, identity=identity,
            token=secrets.token_urlsafe(32), scopes=["read", "write", "follow", "push"])
    print("TOKEN", handle, token.token)
"""
        out = self.shell(code)
        return {
            line.split()[1]: line.split()[2]
            for line in out.splitlines()
            if line.startswith("TOKEN ")
        }

    def count_statuses(self, handle: str) -> int:
        """How many statuses ``handle`` has, read from Takahē's own database."""
        out = self.shell(
            "from activities.models import Post\n"
            f"print('COUNT', Post.objects.filter(author__username={handle!r}).count())"
        )
        return int(next(line for line in out.splitlines() if line.startswith("COUNT")).split()[1])

    def profile_url(self, handle: str) -> str:
        """A local account's page, for a browser (the full handle names the domain, so
        no Host header is needed)."""
        return f"{self.url}/@{handle}@{self.host}/"

    def post_url(self, handle: str, post_id: str) -> str:
        """One post's page, for a browser."""
        return f"{self.profile_url(handle)}posts/{post_id}/"

    def database_exists(self) -> bool:
        """Whether its database is still on the Postgres server."""
        import psycopg

        with psycopg.connect(f"{self.postgres}/postgres", connect_timeout=5) as db:
            found = db.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.database,))
            return found.fetchone() is not None

    def stop(self) -> None:
        """Stop its processes, drop its database and remove its directory."""
        for proc in self.procs:
            stop_process(proc)
        for log in self.logs:
            log.close()
        with contextlib.suppress(Exception):
            _admin(self.postgres, f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        shutil.rmtree(self.home, ignore_errors=True)


def _environment(venv: Path, home: Path, port: int, database: str, server: str) -> dict[str, str]:
    return {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("FLEET_", "TAKAHE_", "VIRTUAL_ENV"))
        },
        "PATH": f"{venv / 'bin'}:{os.environ.get('PATH', '')}",
        "TAKAHE_DATABASE_SERVER": f"{server}/{database}",
        "TAKAHE_SECRET_KEY": uuid.uuid4().hex,
        "TAKAHE_MAIN_DOMAIN": HOST,
        "TAKAHE_EMAIL_SERVER": "console://console",
        # Absolute, or every media upload fails ("... is not absolute").
        "TAKAHE_MEDIA_URL": f"http://127.0.0.1:{port}/media/",
        "TAKAHE_MEDIA_ROOT": str(home / "media"),
        "TAKAHE_DEBUG": "true",
        "TAKAHE_USE_PROXY_HEADERS": "false",
        # Each stator thread keeps a database connection (Django's conn_max_age=600): 20
        # by default, a fifth of a shared Postgres's 100. A few keep up with a demo's fleet.
        "TAKAHE_STATOR_CONCURRENCY": str(STATOR_THREADS),
        "TAKAHE_STATOR_CONCURRENCY_PER_MODEL": str(max(1, STATOR_THREADS // 2)),
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def _serve(server: Takahe, port: int) -> None:
    """Start gunicorn and the stator (fan-out, notifications) in sessions of their own
    (a Ctrl-C at the terminal reaches the caller, which stops them)."""
    python = str(server.venv / "bin" / "python")
    log = open(server.home / "server.log", "wb")  # noqa: SIM115 (closed by stop)
    server.logs.append(log)
    commands = [
        [
            str(server.venv / "bin" / "gunicorn"),
            "takahe.wsgi:application",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(WEB_WORKERS),
            "--timeout",
            "60",
            "--access-logfile",
            str(server.access_log),
            "--access-logformat",
            ACCESS_FORMAT,
        ],
        [python, "manage.py", "runstator"],
    ]
    for command in commands:
        server.procs.append(
            subprocess.Popen(
                command,
                cwd=server.home,
                env=server.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )


@contextlib.contextmanager
def running_takahe(snapshot: Path, postgres: str | None = None) -> Iterator[Takahe]:
    """Takahē from a copy of ``snapshot``, answering on a free port of 127.0.0.1 until
    the block ends; then its processes stopped, its database dropped, its copy removed."""
    server_url = postgres or postgres_url()
    venv = takahe_venv(snapshot)
    home = Path(tempfile.mkdtemp(prefix="fleet-takahe-"))
    port = free_port()
    database = f"fleet_takahe_{uuid.uuid4().hex[:10]}"
    env = _environment(venv, home, port, database, server_url)
    server = Takahe(f"http://127.0.0.1:{port}", HOST, home, venv, env, database, server_url)
    try:
        shutil.copytree(snapshot, home, dirs_exist_ok=True)
        _admin(server_url, f'CREATE DATABASE "{database}"')
        subprocess.run(
            [str(venv / "bin" / "python"), "manage.py", "migrate", "-v", "0"],
            cwd=home,
            env=env,
            check=True,
            capture_output=True,
            timeout=300,
        )
        server.shell(
            "from users.models import Domain\n"
            f"Domain.objects.get_or_create(domain={HOST!r}, defaults=dict(local=True, public=True))"
        )
        _serve(server, port)
        wait_for(
            "takahe",
            lambda: (
                httpx.get(
                    f"{server.url}/api/v1/instance", headers={"Host": HOST}, timeout=2
                ).status_code
                == 200
            ),
            READY_SECONDS,
            server.procs[0],
        )
        yield server
    finally:
        server.stop()
