"""Daily LLM spend caps, per agent and fleet-wide, kept in Redis; and the degrade policy.

``SpendLedger`` is the actions' ``Spending`` port: ``refusal`` before a call, ``record``
after it.

The ledger counts micro-dollars per UTC day in two hashes (the fleet's and the agent's),
incremented together in one MULTI/EXEC transaction and expiring two days later. It is
checked before each LLM call; concurrent workers may overshoot a cap by the calls
already in flight, never more. Over a cap, ``degrade`` turns a post into a browse and a
comment into a like (no LLM), and the ledger counts each degradation so it is visible.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Literal

import redis

from fleet.content.port import Usage
from fleet.core.kinds import KINDS, Action
from fleet.infra.clocks import utcnow
from fleet.settings import LLMSettings

MICRO = 1_000_000
TTL_SECONDS = 2 * 24 * 3600
FALLBACK: Mapping[Action, Action] = {
    kind.action: kind.degrades_to for kind in KINDS.values() if kind.degrades_to is not None
}


def usage_record(usage: Usage) -> dict[str, str | int | float]:
    """Usage as the activity row's JSON column keeps it (``provider`` only when said)."""
    record = asdict(usage)
    if not record["provider"]:
        del record["provider"]
    return record


@dataclass(frozen=True, slots=True)
class BudgetState:
    """Today's spend against the caps, in US dollars."""

    agent_usd: float
    fleet_usd: float
    agent_cap_usd: float
    fleet_cap_usd: float

    @property
    def scope(self) -> Literal["agent", "fleet"] | None:
        """Whose cap is reached: the fleet's first, then the agent's; None when neither."""
        if self.fleet_usd >= self.fleet_cap_usd:
            return "fleet"
        if self.agent_usd >= self.agent_cap_usd:
            return "agent"
        return None

    @property
    def allowed(self) -> bool:
        """True when an LLM call may be made."""
        return self.scope is None

    @property
    def reason(self) -> str | None:
        """Why no LLM call may be made, or None."""
        if self.scope == "fleet":
            return (
                f"fleet LLM budget spent: ${self.fleet_usd:.4f} of ${self.fleet_cap_usd:.2f} today"
            )
        if self.scope == "agent":
            return (
                f"agent LLM budget spent: ${self.agent_usd:.4f} of ${self.agent_cap_usd:.2f} today"
            )
        return None


@dataclass(frozen=True, slots=True)
class Degradation:
    """The action to take instead, and why; ``degraded`` is False when nothing changed."""

    action: Action
    degraded: bool = False
    reason: str | None = None
    scope: Literal["agent", "fleet"] | None = None


def degrade(action: Action, state: BudgetState) -> Degradation:
    """Over budget, a post becomes a browse and a comment a like; others are unchanged."""
    fallback = FALLBACK.get(action)
    scope = state.scope
    if fallback is None or scope is None:
        return Degradation(action)
    reason = f"{action.value} degraded to {fallback.value}: {state.reason}"
    return Degradation(fallback, True, reason, scope)


@dataclass(frozen=True, slots=True)
class SpendReport:
    """Today's fleet-wide figures, for status screens."""

    day: str
    fleet_usd: float
    fleet_cap_usd: float
    calls: int
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    degraded: dict[str, int]


_FLEET_FIELDS = ("micro_usd", "calls", "input_tokens", "output_tokens", "cached_tokens")


class SpendLedger:
    """Per-agent and fleet-wide daily LLM spend in Redis (works with fakeredis too)."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        agent_cap_usd: float,
        fleet_cap_usd: float,
        prefix: str = "fleet:llm",
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self._redis = client
        self.agent_cap_usd = agent_cap_usd
        self.fleet_cap_usd = fleet_cap_usd
        self._prefix = prefix
        self._now = now

    @classmethod
    def from_settings(
        cls, client: redis.Redis, settings: LLMSettings, *, prefix: str = "fleet:llm"
    ) -> SpendLedger:
        """A ledger with the caps of the LLM settings."""
        return cls(
            client,
            agent_cap_usd=settings.agent_daily_budget_usd,
            fleet_cap_usd=settings.daily_budget_usd,
            prefix=prefix,
        )

    def _day(self) -> str:
        return self._now().astimezone(UTC).strftime("%Y-%m-%d")

    def _keys(self, agent_id: int | str) -> tuple[str, str]:
        base = f"{self._prefix}:spend:{self._day()}"
        return f"{base}:fleet", f"{base}:agent:{agent_id}"

    def check(self, agent_id: int | str) -> BudgetState:
        """Today's spend of the agent and the fleet against their caps (one round trip)."""
        fleet_key, agent_key = self._keys(agent_id)
        pipe = self._redis.pipeline(transaction=False)
        pipe.hget(fleet_key, "micro_usd")
        pipe.hget(agent_key, "micro_usd")
        fleet_micro, agent_micro = pipe.execute()
        return BudgetState(
            agent_usd=int(agent_micro or 0) / MICRO,
            fleet_usd=int(fleet_micro or 0) / MICRO,
            agent_cap_usd=self.agent_cap_usd,
            fleet_cap_usd=self.fleet_cap_usd,
        )

    def refusal(self, agent_id: int | str) -> str | None:
        """Why the agent may not call the LLM now (a cap is reached), or None."""
        return self.check(agent_id).reason

    def record(self, agent_id: int | str, usage: Usage) -> None:
        """Add a call's cost and tokens to today's counters, in one transaction."""
        self.record_many([(agent_id, usage)])

    def record_many(self, spent: Sequence[tuple[int | str, Usage]]) -> None:
        """``record`` for many calls at once (a batch's), in one transaction: the fleet's
        counters once with the sums, each agent's with its own."""
        if not spent:
            return
        fleet_key, _ = self._keys(0)
        agents: dict[str, list[int]] = {}
        totals = [0, 0, 0, 0, 0]
        for agent_id, usage in spent:
            # Round first so float noise (123.00000000000001) does not add a micro-dollar.
            micro = math.ceil(round(max(usage.cost_usd, 0.0) * MICRO, 6))
            figures = (micro, usage.calls, usage.input_tokens, usage.output_tokens)
            totals = list(map(operator.add, totals, (*figures, usage.cached_tokens)))
            mine = agents.setdefault(self._keys(agent_id)[1], [0, 0])
            mine[0] += micro
            mine[1] += usage.calls
        pipe = self._redis.pipeline(transaction=True)
        for name, value in zip(_FLEET_FIELDS, totals, strict=True):
            pipe.hincrby(fleet_key, name, value)
        pipe.expire(fleet_key, TTL_SECONDS)
        for agent_key, (micro, calls) in agents.items():
            pipe.hincrby(agent_key, "micro_usd", micro)
            pipe.hincrby(agent_key, "calls", calls)
            pipe.expire(agent_key, TTL_SECONDS)
        pipe.execute()

    def note_degraded(self, original: Action, outcome: Degradation) -> None:
        """Count a degradation in today's figures (by scope and action change)."""
        if not outcome.degraded:
            return
        key = f"{self._prefix}:spend:{self._day()}:degraded"
        field = f"{outcome.scope or 'budget'}:{original.value}->{outcome.action.value}"
        pipe = self._redis.pipeline(transaction=True)
        pipe.hincrby(key, field, 1)
        pipe.expire(key, TTL_SECONDS)
        pipe.execute()

    def decide(self, agent_id: int | str, action: Action) -> Degradation:
        """Check the budget before an LLM action, apply the policy, count a degradation."""
        if action not in FALLBACK:
            return Degradation(action)
        outcome = degrade(action, self.check(agent_id))
        if outcome.degraded:
            self.note_degraded(action, outcome)
        return outcome

    def report(self) -> SpendReport:
        """Today's fleet-wide spend, tokens and degradations."""
        base = f"{self._prefix}:spend:{self._day()}"
        pipe = self._redis.pipeline(transaction=False)
        pipe.hgetall(f"{base}:fleet")
        pipe.hgetall(f"{base}:degraded")
        fleet_raw, degraded_raw = pipe.execute()
        fleet = {_text(k): int(v) for k, v in fleet_raw.items()}
        return SpendReport(
            day=self._day(),
            fleet_usd=fleet.get("micro_usd", 0) / MICRO,
            fleet_cap_usd=self.fleet_cap_usd,
            calls=fleet.get("calls", 0),
            input_tokens=fleet.get("input_tokens", 0),
            output_tokens=fleet.get("output_tokens", 0),
            cached_tokens=fleet.get("cached_tokens", 0),
            degraded={_text(k): int(v) for k, v in degraded_raw.items()},
        )


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
