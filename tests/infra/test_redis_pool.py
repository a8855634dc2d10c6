"""Fleet's Redis pool (``fleet.infra.redis_pool``) never hands out a connection an
interrupt cut between a command's send and its reply: redis-py's own pool would, and the
next command would read the cut one's reply (its check at checkout misses a reply still
on its way)."""

from __future__ import annotations

import pytest
import redis

from fleet.errors import TimeLimitExceeded
from fleet.infra.redis_pool import InterruptSafePool
from tests.conftest import REDIS_URL

pytestmark = pytest.mark.redis


def _cut_mid_command(pool: redis.ConnectionPool, key: str) -> None:
    """A command sent whose reply comes 0.3 s later (BLPOP on an empty list), the time
    limit landing before its read, the connection given back in a ``finally`` (as
    redis-py's ``_execute_command`` does)."""
    connection = pool.get_connection()
    with pytest.raises(TimeLimitExceeded):
        try:
            connection.send_command("BLPOP", key, 0.3)
            raise TimeLimitExceeded()
        finally:
            pool.release(connection)


@pytest.mark.parametrize("pool_class", [InterruptSafePool, redis.ConnectionPool])
def test_the_next_command_reads_its_own_reply(pool_class: type, redis_keys: str) -> None:
    pool = pool_class.from_url(REDIS_URL, max_connections=1)
    client = redis.Redis(connection_pool=pool)
    try:
        _cut_mid_command(pool, f"{redis_keys}:empty")
        answer = client.echo("mine")
    finally:
        client.close()
        pool.disconnect()
    if pool_class is InterruptSafePool:
        assert answer == b"mine"
    else:  # what Fleet's pool is for: redis-py's answers the next command with the cut one's
        assert answer is None
