"""Memory scoring in the pure core: recall by similarity and recency, the person answered
first, forgetting the least relevant, the no-echo comparison."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from fleet.core.memory import (
    Memory,
    MemoryKind,
    bounded,
    echo_of,
    recall,
    recency,
    relevance,
    to_forget,
)
from fleet.core.vectors import unit

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _days(n: float) -> datetime:
    return NOW - timedelta(days=n)


def test_recency_halves_every_half_life_and_the_future_counts_as_now() -> None:
    assert recency(NOW, NOW, half_life_days=7) == 1.0
    assert abs(recency(_days(7), NOW, half_life_days=7) - 0.5) < 1e-9
    assert abs(recency(_days(14), NOW, half_life_days=7) - 0.25) < 1e-9
    assert recency(NOW + timedelta(days=1), NOW, half_life_days=7) == 1.0


def test_a_similar_older_memory_outranks_a_fresh_unrelated_one() -> None:
    query = unit([1.0, 0.0, 0.0])
    similar = Memory(MemoryKind.POSTED, "slime boss sprite, part 1", _days(3), vector=query)
    unrelated = Memory(MemoryKind.POSTED, "a coffee mug", NOW, vector=unit([-1.0, 0.2, 0.0]))
    ranked = recall([unrelated, similar], now=NOW, query=query, limit=2, half_life_days=7)
    assert ranked == [similar, unrelated]


def test_without_vectors_recall_is_by_recency() -> None:
    old = Memory(MemoryKind.SAID, "old", _days(5))
    new = Memory(MemoryKind.SAID, "new", _days(1))
    query = unit([1.0, 0.0])
    assert recall([old, new], now=NOW, query=query, limit=5, half_life_days=7) == [new, old]
    assert recall([old, new], now=NOW, limit=1, half_life_days=7) == [new]
    assert recall([old, new], now=NOW, limit=0, half_life_days=7) == []


def test_an_earlier_exchange_with_the_person_answered_comes_first() -> None:
    with_maya = Memory(MemoryKind.SAID, "the shadows are two layers", _days(20), other="maya")
    fresh = Memory(MemoryKind.POSTED, "new tileset", NOW)
    ranked = recall([fresh, with_maya], now=NOW, person="maya", limit=2, half_life_days=7)
    assert ranked[0] is with_maya
    assert "to @maya" in with_maya.line()


def test_relevance_maps_cosine_into_zero_to_one() -> None:
    v = unit([0.0, 1.0])
    same = Memory(MemoryKind.POSTED, "x", NOW, vector=v)
    opposite = Memory(MemoryKind.POSTED, "x", NOW, vector=unit([0.0, -1.0]))
    assert abs(relevance(same, v, NOW, half_life_days=7) - 1.0) < 1e-6
    assert abs(relevance(opposite, v, NOW, half_life_days=7)) < 1e-6


def test_forgetting_drops_the_oldest_and_a_like_before_what_was_said() -> None:
    kept = [
        (1, Memory(MemoryKind.SAID, "", _days(3))),
        (2, Memory(MemoryKind.LIKED, "", _days(3))),
        (3, Memory(MemoryKind.POSTED, "", _days(30))),
        (4, Memory(MemoryKind.POSTED, "", NOW)),
    ]
    assert to_forget(kept, keep=4, now=NOW, half_life_days=7) == []
    assert to_forget(kept, keep=2, now=NOW, half_life_days=7) == [3, 2]


@given(st.integers(0, 40), st.integers(1, 40))
def test_forgetting_leaves_exactly_the_bound(count: int, keep: int) -> None:
    kept = [(i, Memory(MemoryKind.LIKED, "", _days(i % 9))) for i in range(count)]
    doomed = to_forget(kept, keep=keep, now=NOW, half_life_days=7)
    assert len(doomed) == max(0, count - keep)
    assert len(set(doomed)) == len(doomed)


def test_an_echo_is_the_closest_published_text_at_or_over_the_threshold() -> None:
    rng = np.random.default_rng(7)
    base = unit(rng.normal(size=16))
    near = unit(base + 0.05 * rng.normal(size=16))
    far = unit(rng.normal(size=16))
    published = [("far", far), ("near", near)]
    echo = echo_of(base, published, threshold=0.92)
    assert echo is not None and echo.text == "near" and echo.similarity >= 0.92
    assert echo_of(base, [("far", far)], threshold=0.92) is None
    assert echo_of(base, [], threshold=0.92) is None


def test_a_memory_text_is_one_bounded_line() -> None:
    assert bounded("a  b\nc", 40) == "a b c"
    cut = bounded("word " * 100, 40)
    assert len(cut) == 40 and cut.endswith("…")
