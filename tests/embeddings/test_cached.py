"""The vector cache in front of an embedder: a text embedded once, the cache bounded, the
newest kept, a purpose apart, failures never kept, and the vectors the same as without it."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import pytest

from fleet.core.vectors import Vector, unit
from fleet.embeddings import EmbeddingUnavailable, Purpose
from fleet.embeddings.cached import CachedEmbedder
from fleet.embeddings.degrading import DegradingEmbedder
from fleet.embeddings.factory import start_embedder
from fleet.settings import EmbeddingSettings


class Counting:
    """An embedder whose vector of a text is drawn from the text (and its purpose), and
    which keeps every call it was asked."""

    model = "counting"
    dimensions = 8

    def __init__(self) -> None:
        self.asked: list[tuple[Purpose, list[str]]] = []
        self.broken = False
        self.garbage = False

    def embed(self, texts: Sequence[str], *, purpose: Purpose = "passage") -> list[Vector]:
        self.asked.append((purpose, list(texts)))
        if self.broken:
            raise EmbeddingUnavailable("down")
        out = []
        for text in texts:
            rng = np.random.default_rng(abs(hash((purpose, text))) % 2**32)
            vector = unit(rng.normal(size=self.dimensions))
            if self.garbage:
                vector = np.full(self.dimensions, np.nan, dtype=np.float32)
            out.append(vector)
        return out

    def texts_asked(self) -> list[str]:
        return [text for _, texts in self.asked for text in texts]


def test_a_text_is_embedded_once_and_gets_the_same_vector() -> None:
    inner = Counting()
    cached = CachedEmbedder(inner, size=16)
    first = cached.embed(["a caption", "a comment"])
    again = cached.embed(["a comment", "a new one", "a caption"])
    assert inner.texts_asked() == ["a caption", "a comment", "a new one"]
    assert np.array_equal(first[1], again[0]) and np.array_equal(first[0], again[2])
    plain = Counting().embed(["a comment", "a new one", "a caption"])
    assert all(np.array_equal(a, b) for a, b in zip(again, plain, strict=True))
    assert (cached.hits, cached.misses) == (2, 3)


def test_texts_repeated_in_one_call_are_embedded_once_and_answered_in_order() -> None:
    inner = Counting()
    cached = CachedEmbedder(inner)
    out = cached.embed(["x", "y", "x"])
    assert inner.asked == [("passage", ["x", "y"])]
    assert np.array_equal(out[0], out[2]) and not np.array_equal(out[0], out[1])


def test_a_query_and_a_passage_of_one_text_are_kept_apart() -> None:
    inner = Counting()
    cached = CachedEmbedder(inner)
    passage = cached.embed(["the harbour at dusk"], purpose="passage")[0]
    query = cached.embed(["the harbour at dusk"], purpose="query")[0]
    assert inner.asked == [("passage", ["the harbour at dusk"]), ("query", ["the harbour at dusk"])]
    assert not np.array_equal(passage, query)


def test_the_cache_is_bounded_and_forgets_the_least_lately_used() -> None:
    inner = Counting()
    cached = CachedEmbedder(inner, size=3)
    cached.embed(["a", "b", "c"])
    cached.embed(["a"])  # used lately: "b" is now the oldest
    cached.embed(["d"])
    assert len(cached) == 3
    inner.asked.clear()
    cached.embed(["a", "c", "d"])
    assert inner.asked == []
    cached.embed(["b"])
    assert inner.texts_asked() == ["b"]
    for n in range(50):
        cached.embed([f"text {n}"])
    assert len(cached) == 3


def test_a_failure_is_never_kept_and_the_next_call_asks_again() -> None:
    inner = Counting()
    cached = CachedEmbedder(inner)
    inner.broken = True
    with pytest.raises(EmbeddingUnavailable):
        cached.embed(["a"])
    assert len(cached) == 0
    inner.broken, inner.garbage = False, True
    with pytest.raises(EmbeddingUnavailable, match="not finite"):
        cached.embed(["a"])  # neither handed on nor kept
    assert len(cached) == 0
    inner.garbage = False
    good = cached.embed(["a"])
    assert np.isfinite(good[0]).all() and len(cached) == 1
    assert inner.texts_asked() == ["a", "a", "a"]


def test_a_kept_vector_is_read_without_embedding_and_an_unseen_text_is_none() -> None:
    inner = Counting()
    cached = DegradingEmbedder(CachedEmbedder(inner))
    (vector,) = cached.vectors(["a comment"]) or []
    assert np.array_equal(cached.kept("a comment"), vector)
    assert cached.kept("a comment", purpose="query") is None  # kept apart by purpose
    assert cached.kept("never embedded") is None
    assert inner.texts_asked() == ["a comment"]
    assert DegradingEmbedder(Counting()).kept("a comment") is None  # no cache: none kept


def test_forget_drops_every_vector() -> None:
    inner = Counting()
    cached = CachedEmbedder(inner)
    cached.embed(["a", "b"])
    cached.forget()
    assert len(cached) == 0
    cached.embed(["a"])
    assert inner.texts_asked() == ["a", "b", "a"]


def test_a_kept_vector_cannot_be_changed_by_a_caller() -> None:
    cached = CachedEmbedder(Counting())
    vector = cached.embed(["a"])[0]
    with pytest.raises(ValueError):
        vector[0] = 5.0
    assert cached.embed(["a"])[0][0] != 5.0


def test_a_size_below_one_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match="0 entries"):
        CachedEmbedder(Counting(), size=0)


def test_threads_asking_at_once_get_their_own_texts_vectors() -> None:
    inner = Counting()
    cached = CachedEmbedder(inner, size=8)
    texts = [f"t{n}" for n in range(40)]
    expected = {t: v for t, v in zip(texts, Counting().embed(texts), strict=True)}
    wrong: list[str] = []

    def work(offset: int) -> None:
        for n in range(200):
            text = texts[(n * 7 + offset) % len(texts)]
            if not np.array_equal(cached.embed([text])[0], expected[text]):
                wrong.append(text)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert wrong == [] and len(cached) <= 8


def test_the_started_embedder_is_cached_and_degrades_as_before() -> None:
    started = start_embedder(EmbeddingSettings(provider="local"))
    assert isinstance(started, DegradingEmbedder)
    assert isinstance(started.embedder, CachedEmbedder)
    assert started.embedder.model == started.model and started.embedder.dimensions == 384
