"""Redis and Postgres servers of a test's own: a temporary directory, a free port.

Tests that stop, kill or restart a server use these, never the machine's: a developer's
fleet may be running on the machine's Redis and Postgres, and a ``shutdown nosave``
there would wipe its queues. Each server runs in the foreground as a child process and
is stopped (and its directory removed) when the ``with`` block ends.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
from pathlib import Path
from types import TracebackType
from typing import Self

import psycopg
import redis

from tests.e2e.conftest import wait_for


def free_port() -> int:
    """A TCP port nothing listens on now (the kernel's pick)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Server:
    """Started on entering the ``with`` block; stopped, and its directory removed, on
    leaving it."""

    directory: Path

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)


class PrivateRedis(_Server):
    """A redis-server on a free port that keeps nothing on disk; on 127.0.0.1, and on
    ``also`` (addresses of a test's own, as ``tests.netns.Hosts.server``)."""

    def __init__(self, also: tuple[str, ...] = ()) -> None:
        self.also = also
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.directory = Path(tempfile.mkdtemp(prefix="fleet-test-redis-"))
        self.process: subprocess.Popen[bytes] | None = None

    def up(self) -> bool:
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False
        finally:
            client.close()

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed")
        with (self.directory / "redis.log").open("ab") as log:
            # The child keeps its own copy of the descriptor.
            self.process = subprocess.Popen(
                [
                    binary,
                    *("--port", str(self.port), "--bind", "127.0.0.1", *self.also),
                    # Only the test's own addresses reach it (its namespaces' server
                    # address): protected mode would refuse them as remote.
                    *(("--protected-mode", "no") if self.also else ()),
                    *("--save", "", "--appendonly", "no", "--dir", str(self.directory)),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for(self.up, 30, f"the test's Redis on port {self.port}")

    def kill(self) -> None:
        """SIGKILL, as when the server's host or container dies: clients' sockets are left
        for the kernel to reset, and everything it held is gone (it keeps nothing on disk)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """``shutdown nosave``: everything it held is gone, as when a server dies."""
        if self.process is None or self.process.poll() is not None:
            return
        subprocess.run(
            ["redis-cli", "-p", str(self.port), "shutdown", "nosave"],
            check=False,
            capture_output=True,
            timeout=10,
        )
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def _postgres_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    binary = shutil.which(name)
    if binary is None:
        raise RuntimeError(f"{name} is not installed (Postgres server binaries)")
    return binary


class PrivatePostgres(_Server):
    """A Postgres cluster of its own: initdb in a temporary directory, a free port, trust
    auth, its socket in that directory, listening on 127.0.0.1 and on ``also``. As root,
    it runs as the ``postgres`` user (initdb refuses root)."""

    def __init__(self, also: tuple[str, ...] = ()) -> None:
        self.also = also
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="fleet-test-pg-"))
        self.data = self.directory / "data"
        self.user = "postgres"
        self.admin_url = f"postgresql://{self.user}@127.0.0.1:{self.port}/postgres"
        self._as: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.directory, user="postgres")
            self._as = ["runuser", "-u", "postgres", "--"]

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str, timeout: float = 120) -> None:
        subprocess.run([*self._as, *command], check=True, capture_output=True, timeout=timeout)

    def up(self) -> bool:
        try:
            with psycopg.connect(self.admin_url, connect_timeout=1):
                return True
        except psycopg.OperationalError:
            return False

    def start(self) -> None:
        if not self.data.exists():
            self._run(
                _postgres_bin("initdb"),
                *("-D", str(self.data), "-U", self.user, "-A", "trust", "--no-sync"),
            )
            if self.also:  # trust from the test's own addresses too (its namespaces)
                with (self.data / "pg_hba.conf").open("a", encoding="utf-8") as hba:
                    hba.write("host all all 10.0.0.0/8 trust\n")
        listen = ",".join(("127.0.0.1", *self.also))
        self._run(
            _postgres_bin("pg_ctl"),
            *("-D", str(self.data), "-l", str(self.directory / "postgres.log")),
            *("-o", f"-p {self.port} -k {self.directory} -c listen_addresses={listen}"),
            *("-w", "-t", "60", "start"),
        )
        wait_for(self.up, 60, f"the test's Postgres on port {self.port}")

    def stop(self) -> None:
        """A fast shutdown: connections are cut, as when the server goes away."""
        if (self.data / "postmaster.pid").exists():
            self._run(_postgres_bin("pg_ctl"), *("-D", str(self.data), "-m", "fast", "-w", "stop"))

    def kill(self) -> None:
        """SIGKILL the postmaster and every server process, as when its host or container
        dies: no shutdown checkpoint, and the next start recovers from the WAL."""
        pid_file = self.data / "postmaster.pid"
        if not pid_file.exists():
            return
        postmaster = int(pid_file.read_text().split()[0])
        children = subprocess.run(
            ["pgrep", "-P", str(postmaster)], capture_output=True, text=True, check=False
        ).stdout.split()
        for pid in (postmaster, *map(int, children)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not _alive(postmaster, *map(int, children)), 30, "Postgres to die")

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _alive(*pids: int) -> bool:
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        # A zombie (killed, not yet reaped by its parent) is gone for this purpose.
        with contextlib.suppress(OSError):
            if Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z":
                continue
        return True
    return False


class PrivateRabbitMQ(_Server):
    """A rabbitmq-server of its own, never the machine's (5672): its node name, AMQP
    port, distribution port and epmd port (``ERL_EPMD_PORT``: an epmd of its own, killed
    at the end), its Mnesia, logs and Erlang cookie (``HOME``) in a temporary directory.
    It listens on 127.0.0.1 and on ``also``. Starting takes 5-30 s (the Erlang VM)."""

    SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"

    def __init__(self, also: tuple[str, ...] = ()) -> None:
        self.also = also
        self.port = free_port()
        self.epmd_port = free_port()
        self.dist_port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="fleet-test-rabbitmq-"))
        self.node = f"fleet-test-{self.port}@localhost"
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}//"
        self.process: subprocess.Popen[bytes] | None = None

    def url_at(self, host: str) -> str:
        return f"amqp://guest:guest@{host}:{self.port}//"

    def _env(self) -> dict[str, str]:
        base = self.directory
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL_"))},
            "HOME": str(base),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "ERL_EPMD_PORT": str(self.epmd_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(base / "log"),
            "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
            "RABBITMQ_ENABLED_PLUGINS": "",
            "RABBITMQ_PID_FILE": str(base / "rabbitmq.pid"),
        }

    def up(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def start(self) -> None:
        if not Path(self.SERVER).exists():
            raise RuntimeError(f"{self.SERVER} is not installed (rabbitmq-server)")
        listeners = [
            f"listeners.tcp.{n} = {host}:{self.port}"
            for n, host in enumerate(("127.0.0.1", *self.also), start=1)
        ]
        (self.directory / "rabbitmq.conf").write_text(
            "\n".join([*listeners, "loopback_users = none"]) + "\n", encoding="utf-8"
        )
        with (self.directory / "rabbitmq.out").open("ab") as log:
            self.process = subprocess.Popen(
                [self.SERVER],
                env=self._env(),
                cwd=self.directory,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for(self.up, 120, f"the test's RabbitMQ on port {self.port}")

    def stop(self) -> None:
        """SIGKILL the node, then its epmd: nothing of it is kept."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        subprocess.run(
            ["epmd", "-kill"],
            env=self._env(),
            check=False,
            capture_output=True,
            timeout=10,
        )


class Blackhole:
    """A TCP proxy to ``port`` on 127.0.0.1 that can go silent without closing anything:
    after ``cut()`` no byte crosses either way (they wait in the sockets' buffers, as
    packets do in TCP's retransmissions when a host is cut off by a firewall or a failed
    link: no reset, no refusal, only silence) until ``heal()``, when everything held goes
    through and the connections live on."""

    def __init__(self, port: int) -> None:
        self.upstream = port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.forwarding = threading.Event()
        self.forwarding.set()
        self.closed = False
        self.sockets: list[socket.socket] = [self.listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, database: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{database}"

    def cut(self) -> None:
        self.forwarding.clear()

    def heal(self) -> None:
        self.forwarding.set()

    def close(self) -> None:
        self.closed = True
        self.forwarding.set()
        for each in self.sockets:
            with contextlib.suppress(OSError):
                each.close()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.forwarding.wait()  # a connection made during the cut waits for the heal
            if self.closed:
                client.close()
                return
            server = socket.create_connection(("127.0.0.1", self.upstream))
            self.sockets += [client, server]
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        while True:
            self.forwarding.wait()
            try:
                data = source.recv(65536)
            except OSError:
                return
            if not data:
                with contextlib.suppress(OSError):
                    target.shutdown(socket.SHUT_WR)
                return
            self.forwarding.wait()
            try:
                target.sendall(data)
            except OSError:
                return
