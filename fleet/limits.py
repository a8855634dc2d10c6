"""Limits shared by every worker process, kept in Redis: token buckets and circuit breakers.

Waiting on a limit is deferral, not failure: both raise ``Deferred(scope="call")`` with
the time at which trying again makes sense.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import redis

from fleet.errors import Deferred

# Refill and take in one atomic step, on Redis's own clock (workers' clocks may differ).
_TAKE = """
local key = KEYS[1]
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local wanted = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', key, 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= wanted then
  tokens = tokens - wanted
else
  wait = (wanted - tokens) / rate
end
redis.call('HSET', key, 'tokens', tokens, 'at', now)
redis.call('PEXPIRE', key, math.ceil(burst / rate * 1000) + 1000)
return tostring(wait)
"""


class TokenBucket:
    """``rate`` tokens a second, up to ``burst`` saved; shared under one Redis key."""

    def __init__(self, client: redis.Redis, key: str, *, rate: float, burst: float) -> None:
        if rate <= 0 or burst <= 0:
            raise ValueError("a token bucket needs a positive rate and burst")
        self._client = client
        self._key = key
        self._rate = rate
        self._burst = burst
        self._script: Any = client.register_script(_TAKE)

    def try_take(self, tokens: float = 1.0) -> float:
        """Take ``tokens`` now and return 0, or take none and return the seconds to wait."""
        if tokens > self._burst:
            raise ValueError(f"cannot take {tokens} tokens from a bucket of {self._burst}")
        return float(self._script(keys=[self._key], args=[self._rate, self._burst, tokens]))

    def take(self, tokens: float = 1.0, *, what: str = "rate limit") -> None:
        """Take ``tokens`` or raise Deferred saying when to come back."""
        wait = self.try_take(tokens)
        if wait > 0:
            until = datetime.now(UTC) + timedelta(seconds=wait)
            raise Deferred(f"{what}: {self._key} is empty", until, scope="call")


class CircuitBreaker:
    """Opens after ``threshold`` failures in a row, for ``open_seconds``, for every worker.

    After it closes again it is half-open: one more failure opens it at once.
    """

    def __init__(
        self, client: redis.Redis, key: str, *, threshold: int = 5, open_seconds: float = 30.0
    ) -> None:
        self._client = client
        self._failures = f"{key}:failures"
        self._open = f"{key}:open"
        self._threshold = threshold
        self._open_ms = int(open_seconds * 1000)

    def check(self) -> None:
        """Raise Deferred while the circuit is open."""
        left = int(self._client.pttl(self._open))
        if left > 0:
            until = datetime.now(UTC) + timedelta(milliseconds=left)
            raise Deferred(
                f"circuit {self._open.removesuffix(':open')} is open", until, scope="call"
            )

    def succeeded(self) -> None:
        """A call went through: the failure run is over."""
        self._client.delete(self._failures)

    def failed(self) -> bool:
        """Count a failure; returns True when this one opened the circuit."""
        failures = int(self._client.incr(self._failures))
        if failures < self._threshold:
            return False
        pipe = self._client.pipeline()
        pipe.set(self._open, "1", px=self._open_ms)
        # Half-open afterwards: the next single failure re-opens it.
        pipe.set(self._failures, self._threshold - 1)
        pipe.execute()
        return True

    def state(self) -> dict[str, Any]:
        """For `fleet status`: open or closed, failures counted, milliseconds left open."""
        left = int(self._client.pttl(self._open))
        failures = int(self._client.get(self._failures) or 0)
        return {"open": left > 0, "failures": failures, "open_ms_left": max(left, 0)}
