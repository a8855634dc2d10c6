"""The sandbox's newcomers: their return depends on the welcome they got, by the planted
lift (``fleet_sandbox.behaviour``)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from fleet_sandbox.behaviour import Newcomers

T = datetime(2026, 11, 2, 12, tzinfo=UTC)


def _returned(model: Newcomers, after: timedelta | None, n: int = 20_000) -> float:
    rng = random.Random(1)
    back = 0
    for _ in range(n):
        done = model.actions(rng, T, after)
        back += any(timedelta(days=1) <= at - T < timedelta(days=7) for _, at in done)
    return back / n


def test_a_first_comment_within_a_day_raises_returns_by_the_planted_lift() -> None:
    model = Newcomers()
    welcomed = _returned(model, timedelta(hours=1))
    ignored = _returned(model, None)
    late = _returned(model, timedelta(days=2))
    assert welcomed - ignored == pytest.approx(0.12, abs=0.015)
    assert late == pytest.approx(ignored, abs=0.015)
    none = Newcomers(welcome_lift=0.0)
    assert _returned(none, timedelta(hours=1)) == pytest.approx(_returned(none, None), abs=0.015)


@pytest.mark.parametrize(
    "bad", [{"base_return": 1.2}, {"welcome_lift": 0.9}, {"more_actions": -1.0}]
)
def test_an_impossible_model_is_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="newcomers"):
        Newcomers(**bad)  # type: ignore[arg-type]
