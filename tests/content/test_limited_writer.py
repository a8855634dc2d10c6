"""The Anthropic writer behind the fleet's LLM limits, on the real Redis and a fake API."""

from __future__ import annotations

import pytest
import redis
from pydantic import SecretStr

from fleet.content.llm.anthropic import AnthropicWriter
from fleet.content.llm.base import ReplyRefused
from fleet.content.llm.fallback import ChainWriter
from fleet.content.llm.limited import LimitedWriter
from fleet.content.offline.writer import OfflineWriter
from fleet.errors import Deferred, TransientError
from fleet.infra.limits import CircuitBreaker, TokenBucket
from fleet.service.root import bootstrap
from fleet.settings import Settings
from tests.content.conftest import (
    API_KEY,
    AUTHOR,
    REDIS_URL,
    FakeAnthropic,
    error,
    message,
    persona,
    post_json,
)

GAME_DEV = persona("indie_game_dev")


def _limited(
    writer: AnthropicWriter,
    client: redis.Redis,
    prefix: str,
    *,
    requests: float = 10,
    tokens: float = 10_000,
    reserve: int = 1_000,
) -> tuple[LimitedWriter, TokenBucket, TokenBucket, CircuitBreaker]:
    # A slow refill: a test sees exactly what was taken.
    request_bucket = TokenBucket(client, f"{prefix}:requests", rate=1e-4, burst=requests)
    token_bucket = TokenBucket(client, f"{prefix}:tokens", rate=1e-4, burst=tokens)
    breaker = CircuitBreaker(client, f"{prefix}:breaker", threshold=2, open_seconds=30)
    limited = LimitedWriter(
        writer,
        requests=request_bucket,
        tokens=token_bucket,
        breaker=breaker,
        reserve_tokens=reserve,
    )
    return limited, request_bucket, token_bucket, breaker


def test_a_call_spends_one_request_and_the_tokens_it_really_used(
    api: FakeAnthropic, writer: AnthropicWriter, real_redis: redis.Redis, redis_keys: str
) -> None:
    limited, requests, tokens, _ = _limited(writer, real_redis, redis_keys, requests=3)
    api.queue(message(post_json(), input_tokens=300, output_tokens=200))
    draft = limited.write_post(GAME_DEV, AUTHOR, nonce=1)
    assert draft.usage.input_tokens + draft.usage.output_tokens == 500
    # 1,000 reserved, 500 used: the bucket holds 9,500, not 9,000.
    assert tokens.settle(0) == pytest.approx(9_500, abs=1)
    assert requests.settle(0) == pytest.approx(2, abs=0.01)


def test_a_repair_counts_as_a_second_request(
    api: FakeAnthropic, writer: AnthropicWriter, real_redis: redis.Redis, redis_keys: str
) -> None:
    limited, requests, _, _ = _limited(writer, real_redis, redis_keys, requests=3)
    api.queue(message("not json at all"), message(post_json()))
    draft = limited.write_post(GAME_DEV, AUTHOR, nonce=1)
    assert draft.usage.calls == 2
    assert requests.settle(0) == pytest.approx(1, abs=0.01)


def test_a_refused_writing_settles_the_buckets_with_what_its_calls_really_used(
    api: FakeAnthropic, writer: AnthropicWriter, real_redis: redis.Redis, redis_keys: str
) -> None:
    limited, requests, tokens, _ = _limited(writer, real_redis, redis_keys, requests=3)
    api.queue(
        message("no json", input_tokens=300, output_tokens=20),
        message("{still none", input_tokens=320, output_tokens=30),
    )
    with pytest.raises(ReplyRefused):
        limited.write_post(GAME_DEV, AUTHOR, nonce=1)
    # 1,000 reserved, 670 billed: the bucket holds 9,330; the repair took a second request.
    assert tokens.settle(0) == pytest.approx(9_330, abs=1)
    assert requests.settle(0) == pytest.approx(1, abs=0.01)


def test_out_of_requests_the_call_waits_without_reaching_the_api(
    api: FakeAnthropic, writer: AnthropicWriter, real_redis: redis.Redis, redis_keys: str
) -> None:
    limited, _, _, _ = _limited(writer, real_redis, redis_keys, requests=1)
    api.queue(message(post_json()))
    limited.write_post(GAME_DEV, AUTHOR, nonce=1)
    with pytest.raises(Deferred, match="LLM requests and tokens") as deferred:
        limited.write_post(GAME_DEV, AUTHOR, nonce=2)
    assert deferred.value.scope == "call" and deferred.value.until is not None
    assert len(api.requests) == 1


def test_out_of_tokens_the_call_waits_too(
    api: FakeAnthropic, writer: AnthropicWriter, real_redis: redis.Redis, redis_keys: str
) -> None:
    limited, _, _, _ = _limited(writer, real_redis, redis_keys, tokens=1_500, reserve=1_000)
    api.queue(message(post_json(), input_tokens=900, output_tokens=100))
    limited.write_post(GAME_DEV, AUTHOR, nonce=1)
    with pytest.raises(Deferred):
        limited.write_post(GAME_DEV, AUTHOR, nonce=2)
    assert len(api.requests) == 1


def test_transient_failures_open_the_llm_breaker_and_then_no_call_goes_out(
    api: FakeAnthropic, writer: AnthropicWriter, real_redis: redis.Redis, redis_keys: str
) -> None:
    limited, _, _, breaker = _limited(writer, real_redis, redis_keys)
    api.queue(error(529, "overloaded_error"), error(500, "api_error"))
    for nonce in (1, 2):
        with pytest.raises(TransientError):
            limited.write_post(GAME_DEV, AUTHOR, nonce=nonce)
    assert breaker.state()["open"] is True
    with pytest.raises(Deferred, match="is open"):
        limited.write_post(GAME_DEV, AUTHOR, nonce=3)
    assert len(api.requests) == 2


def test_the_apis_own_rate_limit_is_a_wait_not_a_breaker_failure(
    api: FakeAnthropic, writer: AnthropicWriter, real_redis: redis.Redis, redis_keys: str
) -> None:
    limited, _, _, breaker = _limited(writer, real_redis, redis_keys)
    for nonce in (1, 2, 3):
        api.queue(error(429, "rate_limit_error", {"retry-after": "5"}))
        with pytest.raises(Deferred):
            limited.write_post(GAME_DEV, AUTHOR, nonce=nonce)
    assert breaker.state() == {"open": False, "failures": 0, "open_ms_left": 0}


def test_the_composition_root_limits_the_llm_writer_and_not_the_offline_one(
    redis_keys: str,
) -> None:
    common = {
        "database_url": "sqlite://",
        "redis_url": REDIS_URL,
        "broker_key_prefix": redis_keys,
    }
    online = bootstrap(Settings(**common, ANTHROPIC_API_KEY=SecretStr(API_KEY)))  # type: ignore[arg-type]
    offline = bootstrap(Settings(**common))  # type: ignore[arg-type]
    try:
        chain = online.action_kit.writer
        assert isinstance(chain, ChainWriter)
        assert [type(writer) for writer in chain.writers] == [LimitedWriter]
        assert isinstance(offline.action_kit.writer, OfflineWriter)
    finally:
        online.close()
        offline.close()
