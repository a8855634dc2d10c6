"""Limits shared by every worker process, kept in Redis: token buckets and circuit breakers.

Waiting on a limit is deferral, not failure: an empty bucket raises ``RateLimited``, an
open breaker ``CircuitOpen`` (both ``Deferred(scope="call")``), with the time at which
trying again makes sense. A bucket also keeps its load (what it was asked for and what it
refused, lately): the back-pressure the decider reads (``fleet.core.back_pressure``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import redis

from fleet.core.back_pressure import LimiterLoad
from fleet.errors import CircuitOpen, RateLimited

# One atomic step on Redis's own clock (workers' clocks may differ): unless the breaker
# (KEYS[1] open flag, KEYS[2] failure count; '' for none) is open, refill each bucket
# (KEYS[3..]) and take what is wanted from all of them, or from none when one is short.
# ARGV: per bucket rate, burst, wanted, window, counted. The bucket's load is counted too
# (``fleet.core.back_pressure``): the tokens asked for and those refused, two sums decaying
# with the window as time constant; a refusal is not counted when ``counted`` is 0 (a
# batch's advance, whose calls then ask one by one). Returns {open ms left, seconds to
# wait, failures}.
_ADMIT = """
if KEYS[1] ~= '' then
  local open_ms = redis.call('PTTL', KEYS[1])
  if open_ms > 0 then return {open_ms, '0', 0} end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local levels = {}
local states = {}
local wait = 0
for i = 3, #KEYS do
  local j = (i - 3) * 5
  local rate, burst, wanted = tonumber(ARGV[j + 1]), tonumber(ARGV[j + 2]), tonumber(ARGV[j + 3])
  local state = redis.call('HMGET', KEYS[i], 'tokens', 'at', 'asked', 'refused', 'seen')
  local tokens = tonumber(state[1]) or burst
  local at = tonumber(state[2]) or now
  tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
  levels[i] = tokens
  states[i] = state
  if tokens < wanted then wait = math.max(wait, (wanted - tokens) / rate) end
end
for i = 3, #KEYS do
  local j = (i - 3) * 5
  local rate, burst, wanted = tonumber(ARGV[j + 1]), tonumber(ARGV[j + 2]), tonumber(ARGV[j + 3])
  local window, counted = tonumber(ARGV[j + 4]), tonumber(ARGV[j + 5])
  local tokens = levels[i]
  if wait == 0 then tokens = tokens - wanted end
  redis.call('HSET', KEYS[i], 'tokens', tokens, 'at', now)
  local ttl = math.ceil(burst / rate * 1000) + 1000
  if wait == 0 or counted == 1 then
    local state = states[i]
    local seen = tonumber(state[5]) or now
    local keep = math.exp(-math.max(0, now - seen) / window)
    local asked = (tonumber(state[3]) or 0) * keep + wanted
    local refused = (tonumber(state[4]) or 0) * keep
    if wait > 0 then refused = refused + wanted end
    redis.call('HSET', KEYS[i], 'asked', asked, 'refused', refused, 'seen', now)
  end
  ttl = math.max(ttl, math.ceil(window * 6000))
  redis.call('PEXPIRE', KEYS[i], ttl)
end
local failures = 0
if KEYS[2] ~= '' then failures = tonumber(redis.call('GET', KEYS[2]) or '0') end
return {0, tostring(wait), failures}
"""

# A bucket's load now: its sums decayed to now, and its tokens refilled (nothing written).
# ARGV: rate, burst, window. Returns {asked, refused, tokens} as strings.
_LOAD = """
local rate, burst, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at', 'asked', 'refused', 'seen')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local seen = tonumber(state[5]) or now
local keep = math.exp(-math.max(0, now - seen) / window)
local asked = (tonumber(state[3]) or 0) * keep
local refused = (tonumber(state[4]) or 0) * keep
return {tostring(asked), tostring(refused), tostring(tokens)}
"""

# Take tokens already spent (a call used more than it reserved), or give some back; the
# level may go below zero, and then the next takers wait until it has refilled, but never
# below minus one burst (``MAX_DEBT_BURSTS``): a count no call could cost (an upstream
# claiming 10^12 tokens) holds the bucket a refill of two bursts at the most, not years.
# ARGV: rate, burst, spent, window (the load's, whose sums the key keeps that long).
_SETTLE = """
local rate, burst, spent = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local window = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
local refilled = math.min(burst, tokens + math.max(0, now - at) * rate)
tokens = math.max(-burst, math.min(burst, refilled - spent))
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now)
redis.call('PEXPIRE', KEYS[1], math.max(math.ceil(burst / rate * 1000) + 1000, math.ceil(window * 6000)))
return tostring(tokens)
"""


# The deepest a bucket may go into debt, in bursts (``_SETTLE``).
MAX_DEBT_BURSTS = 1

# The time constant of a bucket's load, in seconds: what it was asked for and refused
# counts for about this long.
LOAD_WINDOW_SECONDS = 10.0


class TokenBucket:
    """``rate`` tokens a second, up to ``burst`` saved; shared under one Redis key, with
    its load over about ``window`` seconds (``load``)."""

    def __init__(
        self,
        client: redis.Redis,
        key: str,
        *,
        rate: float,
        burst: float,
        window: float = LOAD_WINDOW_SECONDS,
    ) -> None:
        if rate <= 0 or burst <= 0 or window <= 0:
            raise ValueError("a token bucket needs a positive rate, burst and load window")
        self.client = client
        self.key = key
        self.rate = rate
        self.burst = burst
        self.window = window
        self._admit: Any = client.register_script(_ADMIT)
        self._settle: Any = client.register_script(_SETTLE)
        self._load: Any = client.register_script(_LOAD)

    def wanted(self, tokens: float, *, refusal_counts: float = 1.0) -> list[float]:
        """The script arguments for taking ``tokens`` from this bucket, a refusal counted
        ``refusal_counts`` times in the bucket's load (0.0 for a batch's advance, whose
        calls then ask one by one)."""
        if tokens > self.burst:
            raise ValueError(f"cannot take {tokens} tokens from a bucket of {self.burst}")
        return [self.rate, self.burst, tokens, self.window, refusal_counts]

    def try_take(self, tokens: float = 1.0) -> float:
        """Take ``tokens`` now and return 0, or take none and return the seconds to wait."""
        _, wait, _ = self._admit(keys=["", "", self.key], args=self.wanted(tokens))
        return float(wait)

    def take(self, tokens: float = 1.0, *, what: str = "rate limit") -> None:
        """Take ``tokens`` or raise RateLimited saying when to come back."""
        wait = self.try_take(tokens)
        if wait > 0:
            until = datetime.now(UTC) + timedelta(seconds=wait)
            raise RateLimited(f"{what}: {self.key} is empty", until)

    def settle(self, spent: float) -> float:
        """Take ``spent`` more tokens without waiting (negative: give some back); the level."""
        args = [self.rate, self.burst, spent, self.window]
        return float(self._settle(keys=[self.key], args=args))

    def load(self) -> LimiterLoad:
        """What the bucket was asked for and refused lately, and the tokens it holds now:
        one round trip, nothing written."""
        asked, refused, tokens = self._load(
            keys=[self.key], args=[self.rate, self.burst, self.window]
        )
        return LimiterLoad(float(asked), float(refused), float(tokens), self.rate, self.window)


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
        self._script: Any = client.register_script(_ADMIT)

    def check(self) -> None:
        """Raise CircuitOpen while the circuit is open."""
        self.admit()

    def admit(self, *takes: tuple[TokenBucket, float], what: str = "rate limit") -> int:
        """Let one call through, in one round trip to Redis; returns the failures counted.

        Raises CircuitOpen while the circuit is open, or RateLimited when one of the
        buckets lacks what the call takes from it (then nothing is taken from any).
        """
        return self.admission(*takes, what=what)()

    def admit_in_advance(self, *takes: tuple[TokenBucket, float], what: str = "rate limit") -> int:
        """As ``admit``, for a batch's calls taken in advance: a refusal does not count in
        the buckets' load (its calls then ask one by one)."""
        return self.admission(*takes, what=what, refusal_counts=0.0)()

    def admission(
        self,
        *takes: tuple[TokenBucket, float],
        what: str = "rate limit",
        refusal_counts: float = 1.0,
    ) -> Callable[[], int]:
        """``admit`` made ready: the script's keys and arguments built, and each take checked
        against its bucket (``TokenBucket.wanted``), now; each call of what it returns
        admits one call as ``admit`` does. A caller whose every call takes the same (the
        gallery's one token a call) makes it once, not at each call."""
        keys = [self._open, self._failures]
        args: list[float] = []
        for bucket, tokens in takes:
            keys.append(bucket.key)
            args += bucket.wanted(tokens, refusal_counts=refusal_counts)
        return partial(self._through, keys, args, what)

    def _through(self, keys: list[str], args: list[float], what: str) -> int:
        left, wait, failures = self._script(keys=keys, args=args)
        if int(left) > 0:
            until = datetime.now(UTC) + timedelta(milliseconds=int(left))
            raise CircuitOpen(
                f"circuit {self._open.removesuffix(':open')} is open", until, scope="call"
            )
        if float(wait) > 0:
            until = datetime.now(UTC) + timedelta(seconds=float(wait))
            empty = ", ".join(keys[2:])
            raise RateLimited(f"{what}: {empty} cannot give what the call takes", until)
        return int(failures)

    def succeeded(self, failures_seen: int | None = None) -> None:
        """A call went through: the failure run is over.

        ``failures_seen`` (from ``admit``) at zero skips the write; a failure another
        worker counts meanwhile then stays counted, so under concurrency the breaker may
        open a little before ``threshold`` failures strictly in a row.
        """
        if failures_seen != 0:
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
