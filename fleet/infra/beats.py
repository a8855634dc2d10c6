"""Beat's heartbeat in Redis: which beats publish now, for ``fleet status``.

Each beat process writes ``<prefix>fleet:beat:<host>:<pid>`` (its last publish, epoch
seconds) every ``EVERY`` seconds while it has published within ``FRESH`` seconds; the key
expires ``FRESH`` seconds later. So ``running`` lists the beats that published lately:
two after a failover that overlaps (harmless: the dispatcher's claims give each tick to
one of them), none once the only one is stopped, stuck or cut off from the broker.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Callable

import redis

from fleet.settings import Settings

EVERY = 3.0
FRESH = 15


def _key(prefix: str, name: str = "*") -> str:
    return f"{prefix}fleet:beat:{name}"


def heartbeat(settings: Settings, since_publish: Callable[[], float]) -> None:
    """Write this beat's heartbeat for ever (a daemon thread's target)."""
    client = redis.Redis.from_url(
        str(settings.redis_url), socket_timeout=2.0, socket_connect_timeout=2.0
    )
    key = _key(settings.broker_key_prefix, f"{socket.gethostname()}:{os.getpid()}")
    while True:
        if since_publish() < FRESH:
            # Redis gone: no heartbeat, which is what status should see.
            with contextlib.suppress(redis.RedisError):
                client.set(key, f"{time.time():.0f}", ex=FRESH)
        time.sleep(EVERY)


def running(client: redis.Redis, prefix: str) -> list[str]:
    """The beats that published within ``FRESH`` seconds: ``host:pid`` each."""
    pattern = _key(prefix)
    start = len(pattern) - 1
    return sorted(
        (key.decode() if isinstance(key, bytes) else str(key))[start:]
        for key in client.scan_iter(match=pattern, count=1000)
    )
