"""The Redis broker's transport: a worker's connection closed while Redis is down.

Kombu 5.7's Redis transport stopped closing a connection's channels at the first that
failed (handing its unacknowledged messages back needs Redis), dropped its link to the
connection, and the next close of a channel left open raised ``AttributeError:
'NoneType' object has no attribute 'hostname'``: the error that stopped Celery workers
at a Redis restart (issue 52). ``fleet.infra.broker.RedisTransport`` closes them all.
"""

from __future__ import annotations

import threading
import time

import pytest
import redis
from kombu import Connection, Producer, Queue

from fleet.infra.broker import REDIS_TRANSPORT, RedisTransport
from fleet.infra.queue import create_app
from fleet.settings import Settings
from tests.servers import Blackhole, PrivateRedis

pytestmark = pytest.mark.redis


def _holding_a_message(connection: Connection, queue: str) -> object:
    """A channel that took a message and has not acknowledged it."""
    channel = connection.channel()
    bound = Queue(queue, channel=channel)
    bound.declare()
    Producer(channel).publish({"n": 1}, routing_key=queue)
    assert bound.get(no_ack=False) is not None
    return channel


def test_a_connection_closed_while_redis_is_down_closes_every_channel() -> None:
    with PrivateRedis() as server:
        connection = Connection(server.url, transport=RedisTransport)
        connection.connect()
        first = _holding_a_message(connection, "first")
        second = _holding_a_message(connection, "second")
        server.stop()
        # Celery's consumer on "Connection to broker lost": the messages cannot go back.
        connection.close()
        assert getattr(first, "closed", False) and getattr(second, "closed", False)
        # And on its restart it closes what it held again: nothing left to reach Redis.
        for channel in (first, second):
            channel.close()  # type: ignore[attr-defined]


def test_the_fleets_celery_app_uses_it_on_redis_only() -> None:
    on_redis = create_app(Settings(broker_url="redis://127.0.0.1:6379/0"))
    assert on_redis.conf.broker_transport == REDIS_TRANSPORT
    assert on_redis.connection_for_write().transport_cls == REDIS_TRANSPORT
    in_memory = create_app(Settings(broker_url="memory://", redis_url="none"))
    assert in_memory.conf.broker_transport is None


def test_a_publish_to_a_broker_gone_silent_fails_in_bounded_time_and_works_once_healed() -> None:
    """A host cut off from Redis without a reset (``Blackhole``): kombu's Redis client
    waits forever for the answer to a publish unless a socket timeout is set, and Celery's
    default retry policy tries four times on new connections (50 s with a 10 s timeout).
    Fleet's Celery app bounds both: a task's publish, as Celery sends it, fails within
    ``publish_bound_seconds``, far inside the soft time limit, and once the link is back
    a publish goes through on a new connection."""
    with PrivateRedis() as server:
        link = Blackhole(server.port)
        try:
            settings = Settings(broker_url=link.url(), redis_url="none")
            bound = settings.tasks.publish_bound_seconds
            assert bound < settings.tasks.soft_time_limit_seconds / 2
            app = create_app(settings)
            app.send_task("fleet.noop", queue="engage")  # the pool's connection
            link.cut()
            ended: list[BaseException | None] = []

            def publish() -> None:
                try:
                    app.send_task("fleet.noop", queue="engage")
                    ended.append(None)
                except Exception as error:
                    ended.append(error)

            began = time.monotonic()
            publisher = threading.Thread(target=publish, daemon=True)
            publisher.start()
            publisher.join(timeout=bound + 30)
            assert not publisher.is_alive(), "a publish to a silent broker never ended"
            assert ended and ended[0] is not None, "a publish through a cut link succeeded"
            waited = time.monotonic() - began
            link.heal()
            app.send_task("fleet.noop", queue="engage")  # retries on a new connection
            client = redis.Redis.from_url(server.url)
            try:
                # The one before the cut, the one after the heal, and perhaps the failed
                # one's tries: their bytes were held in the link, not lost (Fleet's tasks
                # carry keys: a copy does no second work).
                assert 2 <= client.llen("engage") <= 2 + 2, "the publish after the heal"
            finally:
                client.close()
            # It retried (more than one timeout) and stopped at its bound; a second more
            # for two cores busy with the rest of the suite.
            assert settings.tasks.redis_timeout_seconds < waited < bound + 1, waited
        finally:
            link.close()
