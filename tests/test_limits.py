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


def test_a_call_takes_from_every_bucket_or_from_none(client: redis.Redis, key: str) -> None:
    breaker = CircuitBreaker(client, f"{key}:breaker", threshold=2)
    requests = TokenBucket(client, f"{key}:requests", rate=0.001, burst=5)
    tokens = TokenBucket(client, f"{key}:tokens", rate=0.001, burst=1000)
    assert breaker.admit((requests, 1), (tokens, 600)) == 0
    with pytest.raises(Deferred, match="cannot give what the call takes") as deferred:
        breaker.admit((requests, 1), (tokens, 600))
    assert deferred.value.until is not None
    # The short bucket refused the call, so the other one kept its token.
    assert [requests.try_take() for _ in range(4)] == [0.0] * 4
    assert requests.try_take() > 0


def test_an_open_breaker_refuses_before_taking_a_token(client: redis.Redis, key: str) -> None:
    breaker = CircuitBreaker(client, f"{key}:breaker", threshold=1, open_seconds=5)
    bucket = TokenBucket(client, f"{key}:gallery", rate=0.001, burst=1)
    breaker.failed()
    with pytest.raises(Deferred, match="is open"):
        breaker.admit((bucket, 1))
    assert bucket.try_take() == 0.0


def test_admission_reports_the_failure_run_and_a_success_clears_it(
    client: redis.Redis, key: str
) -> None:
    breaker = CircuitBreaker(client, f"{key}:breaker", threshold=3)
    assert breaker.admit() == 0
    breaker.succeeded(0)  # nothing to clear: no write
    assert client.exists(f"{key}:breaker:failures") == 0
    breaker.failed()
    breaker.failed()
    assert breaker.admit() == 2
    breaker.succeeded(2)
    assert breaker.admit() == 0


def test_settling_takes_what_was_spent_beyond_the_reservation(
    client: redis.Redis, key: str
) -> None:
    bucket = TokenBucket(client, f"{key}:tokens", rate=0.001, burst=100)
    assert bucket.try_take(60) == 0.0
    # The call used 90 tokens, not 60: the level goes below zero and takers wait.
    assert bucket.settle(30) == pytest.approx(10, abs=0.01)
    assert bucket.settle(20) == pytest.approx(-10, abs=0.01)
    assert bucket.try_take(1) > 0
    # A call that used less gives the rest back, never above the burst.
    assert bucket.settle(-500) == pytest.approx(100, abs=0.01)
