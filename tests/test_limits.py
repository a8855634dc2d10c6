"""Shared limits on the real Redis, under a key prefix of each test's own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

from fleet.errors import Deferred
from fleet.limits import CircuitBreaker, TokenBucket

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    """The real Redis: the bucket is a Lua script on Redis's own clock."""
    real = redis.Redis.from_url(REDIS_URL)
    yield real
    real.close()


@pytest.fixture
def key(client: redis.Redis) -> Iterator[str]:
    prefix = f"fleet-test-{uuid.uuid4().hex[:8]}"
    yield prefix
    for name in client.scan_iter(match=f"{prefix}*"):
        client.delete(name)


def test_a_bucket_gives_its_burst_then_says_how_long_to_wait(client: redis.Redis, key: str) -> None:
    bucket = TokenBucket(client, f"{key}:gallery", rate=10, burst=5)
    assert [bucket.try_take() for _ in range(5)] == [0.0] * 5
    wait = bucket.try_take()
    assert 0.05 < wait <= 0.1 + 1e-6
    with pytest.raises(Deferred) as deferred:
        bucket.take(what="gallery requests")
    assert deferred.value.scope == "call" and deferred.value.until is not None


def test_two_buckets_on_one_key_share_the_tokens(client: redis.Redis, key: str) -> None:
    one = TokenBucket(client, f"{key}:llm", rate=1, burst=3)
    other = TokenBucket(client, f"{key}:llm", rate=1, burst=3)
    taken = [one.try_take() == 0, other.try_take() == 0, one.try_take() == 0, other.try_take() == 0]
    assert taken == [True, True, True, False]


def test_a_breaker_opens_after_a_run_of_failures_and_reopens_on_the_first_failure_after(
    client: redis.Redis, key: str
) -> None:
    breaker = CircuitBreaker(client, f"{key}:breaker", threshold=3, open_seconds=0.2)
    breaker.check()
    assert [breaker.failed() for _ in range(3)] == [False, False, True]
    with pytest.raises(Deferred, match="is open"):
        breaker.check()
    assert breaker.state()["open"] is True
    client.delete(f"{key}:breaker:open")  # the open period ends
    breaker.check()
    assert breaker.failed() is True, "half-open: one failure re-opens"


def test_a_success_ends_the_failure_run(client: redis.Redis, key: str) -> None:
    breaker = CircuitBreaker(client, f"{key}:breaker", threshold=2)
    breaker.failed()
    breaker.succeeded()
    assert breaker.failed() is False
    breaker.check()
