"""Beat's heartbeat in Redis: which beats publish now, for ``fleet status``.

Each beat process writes ``<prefix>fleet:beat:<host>:<pid>`` (its last publish, epoch
seconds) every ``EVERY`` seconds while it has published within ``FRESH`` seconds; the key
expires ``FRESH`` seconds later. So ``running`` lists the beats that published lately:
two after a failover that overlaps (harmless: the dispatcher's claims give each tick to
one of them), none once the only one is stopped, stuck or cut off from the broker.
"""

from __future__ import annotations

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


def key_of(prefix: str, host: str, pid: int) -> str:
    """The heartbeat key of the beat process ``pid`` on ``host``."""
    return _key(prefix, f"{host}:{pid}")


def beat_once(client: redis.Redis, key: str, since_publish: float) -> bool:
    """Write the heartbeat if beat published within ``FRESH`` seconds; whether written
    (Redis gone: not, which is what status should see)."""
    if since_publish >= FRESH:
        return False
    try:
        client.set(key, f"{time.time():.0f}", ex=FRESH)
    except (redis.RedisError, OSError):
        return False
    return True


def heartbeat(settings: Settings, since_publish: Callable[[], float]) -> None:
    """Write this beat's heartbeat every ``EVERY`` seconds, for ever (a daemon thread)."""
    client = redis.Redis.from_url(
        str(settings.redis_url), socket_timeout=2.0, socket_connect_timeout=2.0
    )
    key = key_of(settings.broker_key_prefix, socket.gethostname(), os.getpid())
    while True:
        beat_once(client, key, since_publish())
        time.sleep(EVERY)


def running(client: redis.Redis, prefix: str) -> list[str]:
    """The beats that published within ``FRESH`` seconds: ``host:pid`` each."""
    pattern = _key(prefix)
    start = len(pattern) - 1
    return sorted(
        (name.decode() if isinstance(name, bytes) else str(name))[start:]
        for name in client.scan_iter(match=pattern, count=1000)
    )
