"""Worker "hosts" for ``bench.capacity``: network namespaces joined to this machine by veth
pairs, and a private Postgres and Redis listening on the host side of them.

Host ``n`` (1, 2, ...) is the namespace ``fleet-cap-<tag>-<n>``, with a veth pair whose
outside end holds ``10.231.<n>.1/24`` and whose inside end ``10.231.<n>.2/24``, and a
default route out through it. The servers listen on ``10.231.0.1`` only, an address of a
interface of this machine made for the run (one end of a veth pair) (``server_address``): a worker in a
host reaches them through its own veth pair and this machine's routing, every packet
crossing the pair as it would a network card; processes outside the namespaces reach the
same address directly. Nothing of the
machine's own servers or interfaces is touched; everything is removed at the end.
Creating a namespace needs CAP_NET_ADMIN (root): ``unavailable`` says why not.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import psycopg
import redis

SUBNET = "10.231"
SERVER_ADDRESS = f"{SUBNET}.0.1"


def _ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")


def unavailable() -> str | None:
    """Why namespaces cannot be made here, or None."""
    if shutil.which("ip") is None:
        return "the ip command (iproute2) is not installed"
    if shutil.which("taskset") is None:
        return "taskset (util-linux) is not installed"
    name = f"fleet-cap-probe-{uuid.uuid4().hex[:6]}"
    try:
        _ip("netns", "add", name)
    except RuntimeError as error:
        return f"cannot create a network namespace: {error}"
    _ip("netns", "del", name)
    return None


@contextmanager
def server_address() -> Iterator[str]:
    """``SERVER_ADDRESS`` on a dummy interface for the run, or 127.0.0.1 when it cannot be
    made (then no namespace can reach the servers: ``unavailable`` says so)."""
    name = f"fcs{uuid.uuid4().hex[:6]}"
    try:
        # A veth pair whose both ends stay here (a dummy interface needs a kernel module
        # this machine may not have): the address is this machine's, on an interface of
        # the run's own.
        _ip("link", "add", name, "type", "veth", "peer", "name", f"{name}p")
    except RuntimeError:
        yield "127.0.0.1"
        return
    try:
        _ip("addr", "add", f"{SERVER_ADDRESS}/32", "dev", name)
        _ip("link", "set", name, "up")
        _ip("link", "set", f"{name}p", "up")
        yield SERVER_ADDRESS
    finally:
        subprocess.run(["ip", "link", "del", name], capture_output=True, check=False)


class Hosts:
    """``count`` namespaces, each a worker host; ``prefix(n)`` runs a command in host n."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.tag = uuid.uuid4().hex[:5]
        self.made: list[tuple[str, str]] = []  # (namespace, outside veth)

    def namespace(self, n: int) -> str:
        return f"fleet-cap-{self.tag}-{n}"

    def prefix(self, n: int) -> list[str]:
        return ["ip", "netns", "exec", self.namespace(n)]

    def __enter__(self) -> Hosts:
        try:
            for n in range(1, self.count + 1):
                ns, outside, inside = self.namespace(n), f"fc{self.tag}o{n}", f"fc{self.tag}i{n}"
                _ip("netns", "add", ns)
                self.made.append((ns, ""))
                _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
                self.made[-1] = (ns, outside)
                _ip("link", "set", inside, "netns", ns)
                _ip("addr", "add", f"{SUBNET}.{n}.1/24", "dev", outside)
                _ip("link", "set", outside, "up")
                _ip("-n", ns, "addr", "add", f"{SUBNET}.{n}.2/24", "dev", inside)
                _ip("-n", ns, "link", "set", inside, "up")
                _ip("-n", ns, "link", "set", "lo", "up")
                _ip("-n", ns, "route", "add", "default", "via", f"{SUBNET}.{n}.1")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *_: object) -> None:
        for ns, outside in reversed(self.made):
            if outside:
                subprocess.run(["ip", "link", "del", outside], capture_output=True, check=False)
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)
        self.made.clear()


def _postgres_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    binary = shutil.which(name)
    if binary is None:
        raise RuntimeError(f"{name} is not installed (Postgres server binaries)")
    return binary


def _wait(check: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not come up in {seconds:.0f} s")


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def private_servers(address: str) -> Iterator[tuple[str, str]]:
    """A Postgres cluster and a redis-server of the bench's own, listening on ``address``
    (and Postgres on its socket directory), trust auth for the hosts' subnet; yields
    (Postgres admin URL, Redis URL). Stopped and removed at the end."""
    directory = Path(tempfile.mkdtemp(prefix="fleet-bench-capacity-"))
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(directory, user="postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    data = directory / "data"
    pg_port, redis_port = _free_port(), _free_port()
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, directory, True)
        subprocess.run(
            [
                *as_postgres,
                _postgres_bin("initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
        )
        with (data / "pg_hba.conf").open("a") as hba:
            hba.write(f"host all all {SUBNET}.0.0/16 trust\n")
        options = (
            f"-p {pg_port} -k {directory} -c listen_addresses={address} "
            "-c max_connections=300 -c fsync=off -c synchronous_commit=off"
        )
        subprocess.run(
            [
                *as_postgres,
                _postgres_bin("pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(directory / "postgres.log"),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ],
            check=True,
            capture_output=True,
        )
        stack.callback(
            subprocess.run,
            [*as_postgres, _postgres_bin("pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
            capture_output=True,
            check=False,
        )
        admin = f"postgresql://postgres@{address}:{pg_port}/postgres"

        def pg_up() -> bool:
            try:
                with psycopg.connect(admin, connect_timeout=1):
                    return True
            except psycopg.OperationalError:
                return False

        _wait(pg_up, 60, "the private Postgres")
        server = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(redis_port),
                "--bind",
                address,
                # Only the run's own address, on its own interfaces: no password needed.
                "--protected-mode",
                "no",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def stop_redis() -> None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()

        stack.callback(stop_redis)
        redis_url = f"redis://{address}:{redis_port}/0"

        def redis_up() -> bool:
            client = redis.Redis.from_url(redis_url, socket_connect_timeout=0.5)
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                return False
            finally:
                client.close()

        _wait(redis_up, 30, "the private Redis")
        yield admin, redis_url
