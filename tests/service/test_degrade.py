"""The tick's budget check (``Fleet.degrade``): only a kind that calls the LLM asks the
budget, and over budget it becomes its fallback; the others pass as they are."""

from __future__ import annotations

from fleet.content.llm.budget import FALLBACK, Degradation
from fleet.core.kinds import Action
from fleet.service.root import Fleet
from fleet.settings import Settings


class Ledger:
    """A budget spent for every agent, that notes whom it was asked about."""

    def __init__(self) -> None:
        self.asked: list[tuple[int, Action]] = []

    def decide(self, agent_id: int, action: Action) -> Degradation:
        self.asked.append((agent_id, action))
        fallback = FALLBACK[action]
        return Degradation(fallback, True, f"{action.value} degraded", "agent")


def test_only_the_kinds_that_call_the_llm_ask_the_budget() -> None:
    fleet = Fleet(Settings(redis_url="redis://127.0.0.1:6379/0", broker_url="memory://"))
    ledger = Ledger()
    fleet.__dict__["spend_ledger"] = ledger  # the cached property, given
    adjust = fleet.degrade
    assert adjust is not None
    for action in Action:
        fallback = FALLBACK.get(action)
        if fallback is None:
            assert adjust(1, action.value) == (action.value, None)
        else:
            assert adjust(1, action.value) == (fallback.value, f"{action.value} degraded")
    assert ledger.asked == [(1, action) for action in Action if action in FALLBACK]
    assert ledger.asked  # the registry has kinds that call the LLM


def test_without_redis_nothing_degrades() -> None:
    assert Fleet(Settings(redis_url=None)).degrade is None
