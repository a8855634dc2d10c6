"""Real Mastodon-client-API servers as test counterparts: Takahē 0.11 and GoToSocial.

Each runs from a copy of ``../shared/platforms/<name>/`` in a temporary directory, on a
free port of 127.0.0.1, with a database of its own (Takahē: a Postgres database created
and dropped here on the machine's server; GoToSocial: SQLite in its directory), and is
stopped and removed at the end. Nothing else of the machine's servers is touched.
Where ``../shared/platforms`` is absent the fixtures skip with the reason.

Takahē's Python environment is built once and cached under the temporary directory,
keyed by a hash of its requirements, so a second run starts in seconds.
"""

from __future__ import annotations

import contextlib
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
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
# The worktree's ../shared (a developer's checkout) or the repository's ../shared (CI).
SHARED = Path(os.environ.get("FLEET_PLATFORMS_DIR", ROOT.parent / "shared" / "platforms"))
CACHE = Path(tempfile.gettempdir()) / "fleet-platforms-cache"
PG = "postgres://postgres@127.0.0.1:5432"
# Left out of Takahē's requirements: pylibmc needs libmemcached headers, sphinx is docs,
# python-memcached is for Windows only (../shared/platforms/README.md).
LEFT_OUT = re.compile(r"^(pylibmc|sphinx|python-memcached)\b")
HOST = "takahe.test"
# Takahē served as its own image serves it (docker/run.sh: gunicorn takahe.wsgi, sync
# workers): a worker keeps one Postgres connection and reuses it. Under ASGI (uvicorn)
# each request's Django code runs on a thread of its own, and with Takahē's
# conn_max_age=600 each such thread left an idle connection open for ten minutes: 27
# after a setup of 8 accounts and 32 posts, and the machine's max_connections (100,
# shared) ran out ("too many clients"), which Fleet met as 500s and its breaker.
WEB_WORKERS = 2
# The access log's line: method, path, status and the server's own time (microseconds).
ACCESS_FORMAT = "%(m)s %(U)s %(s)s %(D)s"


def absent(name: str) -> str | None:
    """Why the server ``name`` cannot run here (None: it can)."""
    where = SHARED / name
    if not where.is_dir():
        return f"{where} is absent: the real-platform tests need ../shared/platforms"
    return None


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
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before it was ready")
        with contextlib.suppress(Exception):
            if ready():
                return
        time.sleep(0.2)
    raise RuntimeError(f"{what} was not ready within {seconds:g} s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
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


# --- Takahē ----------------------------------------------------------------------------


def takahe_venv() -> Path:
    """Takahē's virtual environment, built once per requirements (cached, locked)."""
    wanted = [
        line
        for line in (SHARED / "takahe" / "requirements.txt").read_text().splitlines()
        if line.strip() and not LEFT_OUT.match(line.strip())
    ]
    digest = hashlib.sha256("\n".join(wanted).encode()).hexdigest()[:16]
    venv = CACHE / f"takahe-venv-{digest}"
    if (venv / ".ready").exists():
        return venv
    CACHE.mkdir(parents=True, exist_ok=True)
    import fcntl

    with open(CACHE / f"takahe-venv-{digest}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (venv / ".ready").exists():
            return venv
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        reqs = venv / "requirements.txt"
        reqs.write_text("\n".join(wanted) + "\n")
        subprocess.run(
            [
                str(venv / "bin" / "pip"),
                "install",
                "-q",
                "--disable-pip-version-check",
                "-r",
                str(reqs),
            ],
            check=True,
        )
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
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Any] = field(default_factory=list)

    @property
    def access_log(self) -> Path:
        """Gunicorn's access log: ``METHOD PATH STATUS MICROSECONDS`` a line."""
        return self.home / "access.log"

    def served(self) -> list[tuple[str, str, int, float]]:
        """The calls served so far: (method, path, status, the server's seconds)."""
        out = []
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

    def accounts(self, handles: list[str]) -> dict[str, str]:
        """Local accounts (created if missing), each with an access token: handle -> token."""
        code = f"""
import secrets
from users.models import Domain, User, Identity
from users.services.identity import IdentityService
from api.models import Application, Token
domain = Domain.objects.get(domain={self.host!r})
app, _ = Application.objects.get_or_create(
    name="fleet-tests", defaults=dict(client_id="fleet-tests", client_secret=secrets.token_hex(16),
    redirect_uris="urn:ietf:wg:oauth:2.0:oob", scopes="read write follow push"))
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

    def stop(self) -> None:
        for proc in self.procs:
            _stop(proc)
        for log in self.logs:
            log.close()
        subprocess.run(
            [
                "psql",
                PG + "/postgres",
                "-q",
                "-c",
                f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)',
            ],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(self.home, ignore_errors=True)


@contextlib.contextmanager
def running_takahe() -> Iterator[Takahe]:
    venv = takahe_venv()
    home = Path(tempfile.mkdtemp(prefix="fleet-takahe-"))
    shutil.copytree(SHARED / "takahe", home, dirs_exist_ok=True)
    port = free_port()
    database = f"fleet_takahe_{uuid.uuid4().hex[:10]}"
    subprocess.run(
        ["psql", PG + "/postgres", "-q", "-c", f'CREATE DATABASE "{database}"'],
        check=True,
        capture_output=True,
    )
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("FLEET_", "TAKAHE_", "VIRTUAL_ENV"))
        },
        "PATH": f"{venv / 'bin'}:{os.environ.get('PATH', '')}",
        "TAKAHE_DATABASE_SERVER": f"{PG}/{database}",
        "TAKAHE_SECRET_KEY": uuid.uuid4().hex,
        "TAKAHE_MAIN_DOMAIN": HOST,
        "TAKAHE_EMAIL_SERVER": "console://console",
        "TAKAHE_MEDIA_URL": f"http://127.0.0.1:{port}/media/",
        "TAKAHE_MEDIA_ROOT": str(home / "media"),
        "TAKAHE_DEBUG": "true",
        "TAKAHE_USE_PROXY_HEADERS": "false",
        # The runner's threads each keep a Postgres connection (Django's conn_max_age=600):
        # a few, on a server whose max_connections other tests share.
        "TAKAHE_STATOR_CONCURRENCY": "4",
        "TAKAHE_STATOR_CONCURRENCY_PER_MODEL": "2",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    server = Takahe(f"http://127.0.0.1:{port}", HOST, home, venv, env, database)
    try:
        python = str(venv / "bin" / "python")
        subprocess.run(
            [python, "manage.py", "migrate", "-v", "0"],
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
        log = open(home / "server.log", "wb")  # noqa: SIM115 (closed by stop)
        server.logs.append(log)
        server.procs.append(
            subprocess.Popen(
                [
                    str(venv / "bin" / "gunicorn"),
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
                cwd=home,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        server.procs.append(
            subprocess.Popen(
                [python, "manage.py", "runstator"],
                cwd=home,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        wait_for(
            "takahe",
            lambda: (
                httpx.get(
                    f"{server.url}/api/v1/instance", headers={"Host": HOST}, timeout=2
                ).status_code
                == 200
            ),
            60,
            server.procs[0],
        )
        yield server
    finally:
        server.stop()


# --- GoToSocial ------------------------------------------------------------------------


def gotosocial_binary() -> Path:
    """The GoToSocial build, unpacked once into the cache (keyed by its size and time)."""
    packed = SHARED / "gotosocial" / "gotosocial.gz"
    info = packed.stat()
    binary = CACHE / f"gotosocial-{info.st_size}-{int(info.st_mtime)}"
    if not binary.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = binary.with_suffix(f".{os.getpid()}.tmp")
        with open(partial, "wb") as out:
            subprocess.run(["gunzip", "-c", str(packed)], stdout=out, check=True)
        partial.chmod(0o755)
        partial.replace(binary)
    return binary


@dataclass
class GoToSocial:
    """A running GoToSocial: its base URL, directory and admin command line."""

    url: str
    home: Path
    binary: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    made: dict[str, str] = field(default_factory=dict)  # handle -> token
    logs: list[Any] = field(default_factory=list)

    def admin(self, *args: str) -> None:
        done = subprocess.run(
            [str(self.binary), "--config-path", str(self.home / "config.yaml"), "admin", *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"gotosocial admin {args[:3]} failed: {done.stderr[-1500:]}")

    def accounts(self, handles: list[str]) -> dict[str, str]:
        """Accounts made with the admin command line, each with a token from a scripted
        OAuth authorization-code sign-in (GoToSocial has no password grant)."""
        with httpx.Client(base_url=self.url, timeout=30) as http:
            app = http.post(
                "/api/v1/apps",
                json={
                    "client_name": "fleet-tests",
                    "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                    "scopes": "read write follow push",
                },
            ).json()
        tokens = {}
        for handle in handles:
            if handle in self.made:  # made before in this run: its token again
                tokens[handle] = self.made[handle]
                continue
            password = f"Pw-{uuid.uuid4().hex}!"
            email = f"{handle}@fleet.test"
            self.admin(
                "account", "create", "--username", handle, "--email", email, "--password", password
            )
            tokens[handle] = self.made[handle] = self._sign_in(app, email, password)
        return tokens

    def _sign_in(self, app: dict[str, Any], email: str, password: str) -> str:
        oob = "urn:ietf:wg:oauth:2.0:oob"
        query = {
            "client_id": app["client_id"],
            "redirect_uri": oob,
            "response_type": "code",
            "scope": "read write follow push",
        }
        with httpx.Client(base_url=self.url, timeout=30, follow_redirects=True) as http:
            http.get("/oauth/authorize", params=query)  # to the sign-in page, a session
            page = http.post("/auth/sign_in", data={"username": email, "password": password})
            page = http.post("/oauth/authorize", data={}) if "code" not in str(page.url) else page
            found = re.search(r"code=([A-Za-z0-9_-]+)", str(page.url)) or re.search(
                r"<code>([A-Za-z0-9_-]+)</code>", page.text
            )
            if found is None:
                raise RuntimeError(
                    f"gotosocial sign-in gave no code ({page.status_code} {page.url})"
                )
            token = http.post(
                "/oauth/token",
                data={
                    "grant_type": "authorization_code",
                    "code": found.group(1),
                    "client_id": app["client_id"],
                    "client_secret": app["client_secret"],
                    "redirect_uri": oob,
                },
            ).json()
        return str(token["access_token"])

    def count_statuses(self, handle: str) -> int:
        """How many statuses ``handle`` has, read from GoToSocial's own database."""
        import sqlite3

        uri = f"file:{self.home / 'sqlite.db'}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=30)) as db:
            row = db.execute(
                "SELECT count(*) FROM statuses WHERE account_id = "
                "(SELECT id FROM accounts WHERE username = ? AND domain IS NULL)",
                (handle,),
            ).fetchone()
        return int(row[0])

    def stop(self) -> None:
        for proc in self.procs:
            _stop(proc)
        for log in self.logs:
            log.close()
        shutil.rmtree(self.home, ignore_errors=True)


@contextlib.contextmanager
def running_gotosocial(rate_limit: int = 0) -> Iterator[GoToSocial]:
    """A GoToSocial; ``rate_limit``: its per-IP budget of calls per 5 minutes (0: none)."""
    if shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None:
        raise RuntimeError(
            "GoToSocial's build needs Debian's ffmpeg and ffprobe (apt-get install ffmpeg)"
        )
    binary = gotosocial_binary()
    home = Path(tempfile.mkdtemp(prefix="fleet-gotosocial-"))
    port = free_port()
    (home / "storage").mkdir()
    (home / "assets").mkdir()
    (home / "config.yaml").write_text(
        "\n".join(
            [
                f'host: "127.0.0.1:{port}"',
                'protocol: "http"',
                'bind-address: "127.0.0.1"',
                f"port: {port}",
                'db-type: "sqlite"',
                f'db-address: "{home / "sqlite.db"}"',
                f'web-template-base-dir: "{SHARED / "gotosocial" / "template"}/"',
                f'web-asset-base-dir: "{home / "assets"}/"',
                f'storage-local-base-path: "{home / "storage"}"',
                "accounts-registration-open: false",
                "instance-expose-public-timeline: true",
                "letsencrypt-enabled: false",
                'log-level: "warn"',
                # The suite's calls come from one address: a per-IP budget of its own size.
                f"advanced-rate-limit-requests: {rate_limit}",
                "",
            ]
        )
    )
    server = GoToSocial(f"http://127.0.0.1:{port}", home, binary)
    try:
        log = open(home / "server.log", "wb")  # noqa: SIM115 (closed by stop)
        server.logs.append(log)
        server.procs.append(
            subprocess.Popen(
                [str(binary), "--config-path", str(home / "config.yaml"), "server", "start"],
                cwd=home,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        wait_for(
            "gotosocial",
            lambda: httpx.get(f"{server.url}/api/v1/instance", timeout=2).status_code == 200,
            60,
            server.procs[0],
        )
        yield server
    finally:
        server.stop()
