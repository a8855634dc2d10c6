"""Worker "hosts" of a test's own: one Linux network namespace each, linked to the servers.

``Hosts(2)`` makes, inside the test's sandbox and with addresses of its own:

- a server address (``Hosts.server``, 10.x.y.1 on a veth pair whose two ends stay in the
  machine's namespace: a loopback of the test's own), where the servers the test starts
  listen beside 127.0.0.1;
- per host, a network namespace ``<tag>-h<n>`` joined to the machine's by a veth pair
  (10.x.y.(4n+1) on the machine's end, 10.x.y.(4n+2) in the namespace, the namespace's
  default route through it). A process started with ``wrap(n)`` before its command runs
  in that namespace and reaches the servers only at ``server``.

``cut(n)`` sets the machine's end of host n's link down: from then no packet crosses it
either way, and nothing is reset or refused (connections made before wait in TCP's
retransmissions; a new one finds no neighbour and fails after a few seconds), as when a
host's switch port or a cloud's route fails. ``heal(n)`` sets it up again. Nothing but
the test's own addresses and namespaces is touched; everything is removed on leaving the
``with`` block. Without the permission (not root, no ``ip``, no veth) ``Hosts`` raises
``NoNamespaces`` with the reason, for the test to skip: never a fallback to anything else.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import subprocess
from types import TracebackType
from typing import Self


class NoNamespaces(RuntimeError):
    """The test cannot make its namespaces here (the reason is the message)."""


def _ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30, check=False)
    if done.returncode != 0:
        raise NoNamespaces(f"ip {' '.join(args)}: {done.stderr.strip()[:200]}")


def _addresses_in_use() -> str:
    done = subprocess.run(["ip", "-4", "addr"], capture_output=True, text=True, check=False)
    return done.stdout


class Hosts:
    """``count`` namespaced worker hosts and a server address (see the module)."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.tag = f"fl{os.getpid() % 100000}"
        self.made: list[tuple[str, str]] = []  # ("link" | "netns", name) to remove
        self.subnet = ""
        self.server = ""

    def namespace(self, host: int) -> str:
        return f"{self.tag}-h{host}"

    def _link(self, host: int) -> str:
        return f"{self.tag}h{host}"  # the machine's end (interface names: 15 characters)

    def wrap(self, host: int) -> list[str]:
        """The words to put before a command to run it on host ``host``."""
        return ["ip", "netns", "exec", self.namespace(host)]

    def _pick_subnet(self) -> str:
        used = _addresses_in_use()
        for _ in range(50):
            candidate = f"10.{random.randint(200, 250)}.{random.randint(0, 255)}"
            if f" {candidate}." not in used:
                return candidate
        raise NoNamespaces("no free 10.x.y.0/24 for the test's own addresses")

    def __enter__(self) -> Self:
        if os.geteuid() != 0:
            raise NoNamespaces("network namespaces need root (CAP_NET_ADMIN); not root here")
        if shutil.which("ip") is None:
            raise NoNamespaces("the ip command (iproute2) is not installed")
        try:
            self._make()
        except BaseException:
            self._remove()
            raise
        return self

    def _make(self) -> None:
        self.subnet = self._pick_subnet()
        self.server = f"{self.subnet}.1"
        # The server address: on one end of a veth pair kept in this namespace, both ends
        # up (a local address stays reachable from every host whatever their links do).
        lo, peer = f"{self.tag}s0", f"{self.tag}s1"
        _ip("link", "add", lo, "type", "veth", "peer", "name", peer)
        self.made.append(("link", lo))
        _ip("link", "set", peer, "up")
        _ip("addr", "add", f"{self.server}/32", "dev", lo)
        _ip("link", "set", lo, "up")
        for host in range(1, self.count + 1):
            namespace, outside, inside = (
                self.namespace(host),
                self._link(host),
                f"{self.tag}n{host}",
            )
            gateway, own = f"{self.subnet}.{4 * host + 1}", f"{self.subnet}.{4 * host + 2}"
            _ip("netns", "add", namespace)
            self.made.append(("netns", namespace))
            _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
            self.made.append(("link", outside))
            _ip("link", "set", inside, "netns", namespace)
            _ip("addr", "add", f"{gateway}/30", "dev", outside)
            _ip("link", "set", outside, "up")
            inns = ("-n", namespace)
            _ip(*inns, "link", "set", "lo", "up")
            _ip(*inns, "addr", "add", f"{own}/30", "dev", inside)
            _ip(*inns, "link", "set", inside, "up")
            _ip(*inns, "route", "add", "default", "via", gateway)

    def cut(self, host: int) -> None:
        _ip("link", "set", self._link(host), "down")

    def heal(self, host: int) -> None:
        _ip("link", "set", self._link(host), "up")

    def _remove(self) -> None:
        for kind, name in reversed(self.made):
            with contextlib.suppress(NoNamespaces):
                _ip(*(("link", "del", name) if kind == "link" else ("netns", "del", name)))
        self.made.clear()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._remove()
