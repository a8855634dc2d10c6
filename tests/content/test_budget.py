"""Daily LLM budgets on fakeredis and on the real Redis; the pure degrade policy."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import redis
from hypothesis import given
from hypothesis import strategies as st

from fleet.content.llm.budget import (
    TTL_SECONDS,
    BudgetState,
    Degradation,
    SpendLedger,
    degrade,
    usage_record,
)
from fleet.content.port import Usage
from fleet.core.kinds import KINDS
from fleet.core.persona import Action
from fleet.settings import LLMSettings

NOON = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


class Clock:
    """A settable clock."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def ledger(client: redis.Redis, prefix: str, clock: Clock | None = None) -> SpendLedger:
    return SpendLedger(
        client, agent_cap_usd=0.10, fleet_cap_usd=0.25, prefix=prefix, now=clock or Clock(NOON)
    )


def spent(usd: float) -> Usage:
    return Usage("claude-haiku-4-5", 1000, 100, 800, 1.0, usd)


def test_an_agent_under_its_cap_may_call_the_llm(redis_client: redis.Redis, prefix: str) -> None:
    book = ledger(redis_client, prefix)
    book.record(1, spent(0.04))
    state = book.check(1)
    assert state.allowed and state.reason is None and book.refusal(1) is None
    assert (state.agent_usd, state.fleet_usd) == (0.04, 0.04)


def test_an_agent_at_its_cap_is_refused_and_others_are_not(
    redis_client: redis.Redis, prefix: str
) -> None:
    book = ledger(redis_client, prefix)
    book.record(1, spent(0.06))
    book.record(1, spent(0.04))
    assert book.check(1).scope == "agent"
    assert book.refusal(1) == "agent LLM budget spent: $0.1000 of $0.10 today"
    assert book.refusal(2) is None


def test_the_fleet_cap_stops_every_agent(redis_client: redis.Redis, prefix: str) -> None:
    book = ledger(redis_client, prefix)
    for agent in range(1, 6):
        book.record(agent, spent(0.05))
    assert book.check(99).scope == "fleet"
    assert "fleet LLM budget spent: $0.2500 of $0.25" in (book.refusal(99) or "")


def test_spend_is_counted_per_utc_day_and_expires(redis_client: redis.Redis, prefix: str) -> None:
    clock = Clock(NOON)
    book = ledger(redis_client, prefix, clock)
    book.record(1, spent(0.10))
    assert not book.check(1).allowed
    clock.now = NOON + timedelta(hours=12)  # the next UTC day
    assert book.check(1).allowed
    ttls = [redis_client.ttl(key) for key in redis_client.scan_iter(match=f"{prefix}*")]
    assert ttls and all(0 < ttl <= TTL_SECONDS for ttl in ttls)


def test_concurrent_records_add_up_exactly(redis_client: redis.Redis, prefix: str) -> None:
    book = SpendLedger(
        redis_client, agent_cap_usd=100, fleet_cap_usd=100, prefix=prefix, now=Clock(NOON)
    )

    def spend() -> None:
        for _ in range(50):
            book.record(7, spent(0.000123))

    threads = [threading.Thread(target=spend) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    state = book.check(7)
    assert state.agent_usd == state.fleet_usd == pytest.approx(200 * 0.000123)
    assert book.report().calls == 200


def test_over_budget_a_post_becomes_a_browse_and_the_degradation_is_counted(
    redis_client: redis.Redis, prefix: str
) -> None:
    book = ledger(redis_client, prefix)
    assert book.decide(1, Action.POST) == Degradation(Action.POST)
    book.record(1, spent(0.10))
    outcome = book.decide(1, Action.POST)
    assert (outcome.action, outcome.degraded, outcome.scope) == (Action.BROWSE, True, "agent")
    assert outcome.reason is not None and outcome.reason.startswith("post degraded to browse")
    book.decide(1, Action.COMMENT)
    book.decide(1, Action.LIKE)
    report = book.report()
    assert report.degraded == {"agent:post->browse": 1, "agent:comment->like": 1}
    assert (report.fleet_usd, report.calls, report.cached_tokens) == (0.10, 1, 800)


def test_the_ledger_takes_its_caps_from_the_settings(
    redis_client: redis.Redis, prefix: str
) -> None:
    settings = LLMSettings(daily_budget_usd=3, agent_daily_budget_usd=0.5)
    book = SpendLedger.from_settings(redis_client, settings, prefix=prefix)
    assert (book.agent_cap_usd, book.fleet_cap_usd) == (0.5, 3)


def test_a_zero_cap_allows_no_llm_call() -> None:
    state = BudgetState(agent_usd=0, fleet_usd=0, agent_cap_usd=0, fleet_cap_usd=5)
    assert degrade(Action.COMMENT, state).action is Action.LIKE


AMOUNTS = st.floats(min_value=0, max_value=10, allow_nan=False)


@given(st.sampled_from(list(Action)), AMOUNTS, AMOUNTS, AMOUNTS, AMOUNTS)
def test_degrading_never_leads_to_an_llm_action_over_budget(
    action: Action, agent: float, fleet: float, agent_cap: float, fleet_cap: float
) -> None:
    state = BudgetState(agent, fleet, agent_cap, fleet_cap)
    outcome = degrade(action, state)
    if state.allowed:
        assert outcome == Degradation(action)
    else:
        assert not KINDS[outcome.action].spends_llm
        assert outcome.degraded == KINDS[action].spends_llm


def test_usage_is_kept_on_the_activity_as_plain_json() -> None:
    assert usage_record(Usage("m", 1, 2, 3, 4.5, 0.25, 2, 5)) == {
        "model": "m",
        "input_tokens": 1,
        "output_tokens": 2,
        "cached_tokens": 3,
        "latency_ms": 4.5,
        "cost_usd": 0.25,
        "calls": 2,
        "cache_write_tokens": 5,
    }
