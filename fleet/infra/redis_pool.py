"""A Redis connection pool that never hands out a connection an interrupt cut mid-command.

redis-py gives a connection back to its pool in a ``finally``, whatever ended the
command. An exception raised into the thread from outside it (the threads pool's time
limit, ``fleet.errors.Interrupt``) can land after a command was sent and before its
reply was read (the first instruction of ``read_response``, before its own guard): the
connection goes back with the reply still on its way, and the pool's check at the next
checkout (``can_read``) misses a reply not yet arrived, so the next command would read
the previous one's answer. Here a connection given back while such an exception is
propagating is disconnected first: the next checkout opens it afresh.
"""

from __future__ import annotations

import sys
from typing import Any

import redis


class InterruptSafePool(redis.ConnectionPool):
    """redis-py's pool, disconnecting a connection given back during an interrupt."""

    def release(self, connection: Any) -> None:
        propagating = sys.exc_info()[1]
        if propagating is not None and not isinstance(propagating, Exception):
            # An interrupt (or KeyboardInterrupt, SystemExit): the command's state unknown.
            connection.disconnect()
        super().release(connection)


def interrupt_safe_client(url: str, **kwargs: Any) -> redis.Redis:
    """``redis.Redis.from_url(url, **kwargs)`` on an ``InterruptSafePool``."""
    return redis.Redis.from_pool(InterruptSafePool.from_url(url, **kwargs))
