"""Back-pressure from the shared limiter's load to the decider (pure)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fleet.core.back_pressure import (
    FLOOR,
    NO_PRESSURE,
    LimiterLoad,
    acts,
    back_pressure,
    decide_share,
)


def _load(asked: float, refused: float, *, tokens: float = 0.0) -> LimiterLoad:
    return LimiterLoad(asked=asked, refused=refused, tokens=tokens, rate=5.0, window=10.0)


def test_a_limiter_that_refuses_nothing_lets_every_tick_act() -> None:
    pressure = back_pressure(_load(40.0, 0.0, tokens=5.0))
    assert pressure.refused_share == 0.0 and pressure.decide_share == 1.0
    assert not pressure.saturated and pressure.wait_seconds == 0.0
    assert pressure.asked_per_second == 4.0


def test_the_decider_acts_at_the_share_the_limiter_admits() -> None:
    pressure = back_pressure(_load(100.0, 60.0))
    assert pressure.refused_share == 0.6
    assert pressure.decide_share == pytest.approx(0.4)
    assert pressure.saturated
    assert pressure.wait_seconds == pytest.approx(0.2), "one token at 5 a second"


def test_a_limiter_refusing_everything_leaves_the_floor() -> None:
    assert decide_share(1.0) == FLOOR
    assert decide_share(0.97, floor=0.25) == 0.25


def test_a_limiter_hardly_asked_lately_has_nothing_to_say() -> None:
    assert _load(0.5, 0.5).refused_share == 0.0
    assert _load(math.nan, 1.0).refused_share == 0.0
    assert NO_PRESSURE.decide_share == 1.0


@pytest.mark.parametrize("floor", [0.0, -1.0, 1.5, math.nan])
def test_a_floor_outside_0_1_is_refused(floor: float) -> None:
    with pytest.raises(ValueError, match="floor"):
        decide_share(0.5, floor=floor)


@given(st.floats(allow_nan=True), st.floats(min_value=0.01, max_value=1.0))
def test_the_decide_share_stays_between_the_floor_and_1(refused: float, floor: float) -> None:
    share = decide_share(refused, floor=floor)
    assert floor <= share <= 1.0


def test_a_ticks_draw_is_its_own_and_the_same_every_time() -> None:
    ticks = [(seed, 1_800_000_000 + second) for seed in range(20) for second in range(100)]
    at_half = [acts(seed, due, 0.5) for seed, due in ticks]
    assert at_half == [acts(seed, due, 0.5) for seed, due in ticks], "deterministic"
    assert 0.45 < sum(at_half) / len(ticks) < 0.55
    at_fifth = sum(acts(seed, due, 0.2) for seed, due in ticks) / len(ticks)
    assert 0.17 < at_fifth < 0.23
    assert all(acts(seed, due, 1.0) for seed, due in ticks)
    # A tick that acts at a share acts at every larger one: shedding is monotone.
    assert all(acts(s, d, 0.8) for s, d in ticks if acts(s, d, 0.3))
