"""Shared limits on the real Redis, under a key prefix of each test's own."""

from __future__ import annotations

import pytest
import redis

from fleet.errors import Deferred, RateLimited, TransientError
from fleet.gallery.limited import LimitedGallery
from fleet.infra.limits import CircuitBreaker, TokenBucket


def test_a_bucket_gives_its_burst_then_says_how_long_to_wait(
    real_redis: redis.Redis, redis_keys: str
) -> None:
    bucket = TokenBucket(real_redis, f"{redis_keys}:gallery", rate=10, burst=5)
    assert [bucket.try_take() for _ in range(5)] == [0.0] * 5
    wait = bucket.try_take()
    assert 0.05 < wait <= 0.1 + 1e-6
    with pytest.raises(Deferred) as deferred:
        bucket.take(what="gallery requests")
    assert deferred.value.scope == "call" and deferred.value.until is not None


def test_two_buckets_on_one_key_share_the_tokens(real_redis: redis.Redis, redis_keys: str) -> None:
    one = TokenBucket(real_redis, f"{redis_keys}:llm", rate=1, burst=3)
    other = TokenBucket(real_redis, f"{redis_keys}:llm", rate=1, burst=3)
    taken = [one.try_take() == 0, other.try_take() == 0, one.try_take() == 0, other.try_take() == 0]
    assert taken == [True, True, True, False]


def test_a_breaker_opens_after_a_run_of_failures_and_reopens_on_the_first_failure_after(
    real_redis: redis.Redis, redis_keys: str
) -> None:
    breaker = CircuitBreaker(real_redis, f"{redis_keys}:breaker", threshold=3, open_seconds=0.2)
    breaker.check()
    assert [breaker.failed() for _ in range(3)] == [False, False, True]
    with pytest.raises(Deferred, match="is open"):
        breaker.check()
    assert breaker.state()["open"] is True
    real_redis.delete(f"{redis_keys}:breaker:open")  # the open period ends
    breaker.check()
    assert breaker.failed() is True, "half-open: one failure re-opens"


def test_a_success_ends_the_failure_run(real_redis: redis.Redis, redis_keys: str) -> None:
    breaker = CircuitBreaker(real_redis, f"{redis_keys}:breaker", threshold=2)
    breaker.failed()
    breaker.succeeded()
    assert breaker.failed() is False
    breaker.check()


def test_a_call_takes_from_every_bucket_or_from_none(
    real_redis: redis.Redis, redis_keys: str
) -> None:
    breaker = CircuitBreaker(real_redis, f"{redis_keys}:breaker", threshold=2)
    requests = TokenBucket(real_redis, f"{redis_keys}:requests", rate=0.001, burst=5)
    tokens = TokenBucket(real_redis, f"{redis_keys}:tokens", rate=0.001, burst=1000)
    assert breaker.admit((requests, 1), (tokens, 600)) == 0
    with pytest.raises(Deferred, match="cannot give what the call takes") as deferred:
        breaker.admit((requests, 1), (tokens, 600))
    assert deferred.value.until is not None
    # The short bucket refused the call, so the other one kept its token.
    assert [requests.try_take() for _ in range(4)] == [0.0] * 4
    assert requests.try_take() > 0


def test_an_open_breaker_refuses_before_taking_a_token(
    real_redis: redis.Redis, redis_keys: str
) -> None:
    breaker = CircuitBreaker(real_redis, f"{redis_keys}:breaker", threshold=1, open_seconds=5)
    bucket = TokenBucket(real_redis, f"{redis_keys}:gallery", rate=0.001, burst=1)
    breaker.failed()
    with pytest.raises(Deferred, match="is open"):
        breaker.admit((bucket, 1))
    assert bucket.try_take() == 0.0


def test_admission_reports_the_failure_run_and_a_success_clears_it(
    real_redis: redis.Redis, redis_keys: str
) -> None:
    breaker = CircuitBreaker(real_redis, f"{redis_keys}:breaker", threshold=3)
    assert breaker.admit() == 0
    breaker.succeeded(0)  # nothing to clear: no write
    assert real_redis.exists(f"{redis_keys}:breaker:failures") == 0
    breaker.failed()
    breaker.failed()
    assert breaker.admit() == 2
    breaker.succeeded(2)
    assert breaker.admit() == 0


def test_settling_takes_what_was_spent_beyond_the_reservation(
    real_redis: redis.Redis, redis_keys: str
) -> None:
    bucket = TokenBucket(real_redis, f"{redis_keys}:tokens", rate=0.001, burst=100)
    assert bucket.try_take(60) == 0.0
    # The call used 90 tokens, not 60: the level goes below zero and takers wait.
    assert bucket.settle(30) == pytest.approx(10, abs=0.01)
    assert bucket.settle(20) == pytest.approx(-10, abs=0.01)
    assert bucket.try_take(1) > 0
    # A call that used less gives the rest back, never above the burst.
    assert bucket.settle(-500) == pytest.approx(100, abs=0.01)


def test_a_bucket_s_debt_is_bounded_by_one_burst_whatever_a_call_claims(
    real_redis: redis.Redis, redis_keys: str
) -> None:
    bucket = TokenBucket(real_redis, f"{redis_keys}:tokens", rate=1_000 / 60, burst=1_000)
    # An upstream claimed 10^12 tokens: the bucket goes one burst into debt, no deeper,
    # and the wait it says is a refill of two bursts at the most (two minutes), not years.
    assert bucket.settle(10**12) == pytest.approx(-1_000, abs=1)
    assert 0 < bucket.try_take(1_000) <= 2 * 60 + 1
    assert bucket.load().tokens >= -1_000


class _Calls:
    """A gallery stand-in for ``LimitedGallery``: its ``feed`` answers, or fails."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.calls = 0

    def feed(self, **_: object) -> list[object]:
        self.calls += 1
        if self.fail:
            raise TransientError("down")
        return []


def _level(client: redis.Redis, key: str) -> float:
    return float(client.hget(key, "tokens") or 0)


def test_a_batch_is_admitted_at_once_and_gives_back_what_it_did_not_spend(
    real_redis: redis.Redis, redis_keys: str
) -> None:
    bucket = TokenBucket(real_redis, f"{redis_keys}:gallery", rate=0.001, burst=10)
    breaker = CircuitBreaker(real_redis, f"{redis_keys}:breaker", threshold=2)
    inner = _Calls()
    gallery = LimitedGallery(inner, bucket, breaker)  # type: ignore[arg-type]
    with gallery.admitted(4) as batch:
        assert batch is gallery  # the gallery's own state while the batch runs
        assert 5.9 < _level(real_redis, bucket.key) < 6.1, "four taken in one step"
        for _ in range(3):
            batch.feed(agent="a")
        assert 5.9 < _level(real_redis, bucket.key) < 6.1, "each call spent one taken"
    assert inner.calls == 3
    assert 6.9 < _level(real_redis, bucket.key) < 7.1, "the unspent one came back"


def test_batches_that_overlap_give_each_unspent_token_back_once(
    real_redis: redis.Redis, redis_keys: str
) -> None:
    bucket = TokenBucket(real_redis, f"{redis_keys}:gallery", rate=0.001, burst=10)
    breaker = CircuitBreaker(real_redis, f"{redis_keys}:breaker", threshold=2)
    inner = _Calls()
    gallery = LimitedGallery(inner, bucket, breaker)  # type: ignore[arg-type]
    with gallery.admitted(3):
        with gallery.admitted(3):
            for _ in range(4):  # the process's calls spend either batch's tokens
                gallery.feed(agent="a")
        # The inner batch gave back the two no call spent: the outer one has none left.
        assert 5.9 < _level(real_redis, bucket.key) < 6.1
        gallery.feed(agent="a")  # admitted on its own
    assert inner.calls == 5
    assert 4.9 < _level(real_redis, bucket.key) < 5.1, "five calls, five tokens"


def test_a_batch_the_bucket_cannot_cover_is_admitted_call_by_call(
    real_redis: redis.Redis, redis_keys: str
) -> None:
    bucket = TokenBucket(real_redis, f"{redis_keys}:gallery", rate=0.001, burst=3)
    breaker = CircuitBreaker(real_redis, f"{redis_keys}:breaker", threshold=2)
    gallery = LimitedGallery(_Calls(), bucket, breaker)  # type: ignore[arg-type]
    with gallery.admitted(5) as batch:
        assert batch is gallery  # more than the burst: each call on its own
    bucket.take(2)
    with gallery.admitted(2) as batch:
        assert batch is gallery  # one token left for two calls
        batch.feed(agent="a")
        with pytest.raises(Deferred):
            batch.feed(agent="a")


def test_a_failing_call_of_a_batch_sends_the_rest_back_to_the_breaker(
    real_redis: redis.Redis, redis_keys: str
) -> None:
    bucket = TokenBucket(real_redis, f"{redis_keys}:gallery", rate=0.001, burst=10)
    breaker = CircuitBreaker(real_redis, f"{redis_keys}:breaker", threshold=1, open_seconds=30)
    inner = _Calls(fail=True)
    gallery = LimitedGallery(inner, bucket, breaker)  # type: ignore[arg-type]
    with gallery.admitted(5) as batch:
        with pytest.raises(TransientError):
            batch.feed(agent="a")
        with pytest.raises(Deferred, match="is open"):
            batch.feed(agent="a")  # admitted on its own again: the breaker opened
    assert inner.calls == 1
    assert 8.9 < _level(real_redis, bucket.key) < 9.1, "only the call made kept its token"


def test_a_bucket_keeps_its_load_what_it_was_asked_for_and_refused(
    real_redis: redis.Redis, redis_keys: str
) -> None:
    bucket = TokenBucket(real_redis, f"{redis_keys}:gallery", rate=0.01, burst=4, window=60)
    quiet = bucket.load()
    assert (quiet.asked, quiet.refused, quiet.refused_share) == (0.0, 0.0, 0.0)
    assert quiet.tokens == 4
    waits = [bucket.try_take() for _ in range(10)]
    assert waits.count(0.0) == 4
    load = bucket.load()
    assert load.asked == pytest.approx(10, rel=0.01)
    assert load.refused == pytest.approx(6, rel=0.01)
    assert load.refused_share == pytest.approx(0.6, rel=0.01)
    assert load.wait_seconds == pytest.approx(100, rel=0.01), "one token at 0.01 a second"
    with pytest.raises(RateLimited):
        bucket.take()


def test_a_batch_refused_whole_is_not_counted_its_calls_are(
    real_redis: redis.Redis, redis_keys: str
) -> None:
    bucket = TokenBucket(real_redis, f"{redis_keys}:gallery", rate=0.01, burst=3)
    breaker = CircuitBreaker(real_redis, f"{redis_keys}:breaker")
    assert bucket.try_take() == 0.0
    with pytest.raises(RateLimited):
        breaker.admit_in_advance((bucket, 3.0))
    assert bucket.load().asked == pytest.approx(1, rel=0.01)
    breaker.admit_in_advance((bucket, 2.0))
    load = bucket.load()
    assert load.asked == pytest.approx(3, rel=0.01), "an admitted batch counts"
    assert load.refused == 0.0
