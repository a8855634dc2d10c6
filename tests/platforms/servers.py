"""Real Mastodon-client-API servers as test counterparts: Takahē 0.11 and GoToSocial.

Each runs from a copy of ``../shared/platforms/<name>/`` in a temporary directory, on a
free port of 127.0.0.1, with a database of its own (Takahē: a Postgres database created
and dropped here on the machine's server; GoToSocial: SQLite in its directory), and is
stopped and removed at the end. Nothing else of the machine's servers is touched.
Where ``../shared/platforms`` is absent the fixtures skip with the reason.

Takahē is started by Fleet's own launcher (``fleet.demo.takahe``, which ``fleet demo
--platform takahe`` uses too); its Python environment is built once and cached under the
temporary directory, keyed by a hash of its requirements, so a second run starts in
seconds.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from fleet.demo import takahe
from fleet.demo.takahe import CACHE, HOST, Takahe, free_port, stop_process, wait_for

ROOT = Path(__file__).resolve().parents[2]
# The worktree's ../shared (a developer's checkout) or the repository's ../shared (CI).
SHARED = Path(os.environ.get("FLEET_PLATFORMS_DIR", ROOT.parent / "shared" / "platforms"))
PG = "postgres://postgres@127.0.0.1:5432"
__all__ = ["HOST", "Takahe", "absent", "free_port", "running_gotosocial", "running_takahe"]


def absent(name: str) -> str | None:
    """Why the server ``name`` cannot run here (None: it can)."""
    where = SHARED / name
    if not where.is_dir():
        return f"{where} is absent: the real-platform tests need ../shared/platforms"
    return None


@contextlib.contextmanager
def running_takahe() -> Iterator[Takahe]:
    """Takahē from ``../shared/platforms/takahe`` (Fleet's own launcher, the demo's)."""
    with takahe.running_takahe(SHARED / "takahe", PG) as server:
        yield server


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
            stop_process(proc)
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
