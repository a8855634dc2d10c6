"""Fleet's own Redis (limits, breakers, the LLM ledger, the activity feed) on a link that
goes silent: a command fails within its bound (the socket timeout, tried once more on a
new connection) instead of holding a worker's rate-limiter call, or an admin's command,
forever; healed, it works again."""

from __future__ import annotations

import threading
import time

import pytest
import redis

from fleet.service.root import Fleet
from fleet.settings import Settings
from tests.servers import Blackhole, PrivateRedis

pytestmark = pytest.mark.redis


def test_a_command_to_a_silent_redis_fails_in_bounded_time_and_works_once_healed() -> None:
    with PrivateRedis() as server:
        link = Blackhole(server.port)
        try:
            settings = Settings(redis_url=link.url(), broker_url="memory://")
            bound = settings.tasks.publish_bound_seconds
            fleet = Fleet(settings)
            client = fleet.redis
            assert client.ping()
            link.cut()
            ended: list[BaseException | None] = []

            def ping() -> None:
                try:
                    client.ping()
                    ended.append(None)
                except redis.RedisError as error:
                    ended.append(error)

            began = time.monotonic()
            pinger = threading.Thread(target=ping, daemon=True)
            pinger.start()
            pinger.join(timeout=bound + 30)
            assert not pinger.is_alive(), "a command to a silent Redis never ended"
            assert ended and isinstance(ended[0], redis.TimeoutError), ended
            waited = time.monotonic() - began
            # The bound, and a second for two cores busy with the rest of the suite.
            assert settings.tasks.redis_timeout_seconds <= waited < bound + 1, waited
            link.heal()
            assert client.ping(), "the client did not work again once the link healed"
        finally:
            link.close()
