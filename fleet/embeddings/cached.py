"""A bounded cache of the vectors texts were given lately, so that a text is embedded once.

A content action embeds the same text more than once, and the fleet the same texts
again and again: a draft is embedded for the no-echo check and again when it is
remembered and shared; every agent commenting on a post asks for that post's text as
its recall query, and every reply to a comment for the comment's. ``CachedEmbedder``
sits in front of an ``Embedder`` and keeps the newest ``size`` vectors,
keyed by the exact text: a text embedded before costs a dictionary look-up; the texts a
call has not seen go to the embedder in one call, in order.

Vectors handed out are read-only (one array serves every caller). What the embedder
answers is handed out and cached only when every vector is whole, finite and of the
model's size: an answer that is not is refused (``EmbeddingUnavailable``), never kept,
and the next call asks again. What it hands out is checked, kept or fresh
(``checks_answers``: the degrading embedder in front checks it no second time).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from fleet.core.vectors import Vector
from fleet.embeddings.port import Embedder, EmbeddingUnavailable, Purpose

# The newest texts' vectors kept: 2,048 vectors of 384 floats are 3 MiB, and the texts
# are bounded by the adapters' MAX_CHARS (2,000 characters).
SIZE = 2048


class CachedEmbedder:
    """An ``Embedder`` that embeds each (purpose, text) once while it stays among the
    newest ``size`` the process asked for."""

    # Every vector handed out was checked whole, finite and of the model's size.
    checks_answers = True

    def __init__(self, embedder: Embedder, *, size: int = SIZE) -> None:
        if size < 1:
            raise ValueError(f"a vector cache of {size} entries: it needs at least one")
        self.embedder = embedder
        self.size = size
        self._lock = threading.Lock()
        self._kept: OrderedDict[tuple[Purpose, str], Vector] = OrderedDict()
        self.hits = 0
        self.misses = 0

    @property
    def model(self) -> str:
        return self.embedder.model

    @property
    def dimensions(self) -> int:
        return self.embedder.dimensions

    def __len__(self) -> int:
        with self._lock:
            return len(self._kept)

    def embed(self, texts: Sequence[str], *, purpose: Purpose = "passage") -> list[Vector]:
        if not texts:
            return []
        found: dict[str, Vector] = {}
        unseen: dict[str, None] = {}  # each text once, in order
        with self._lock:
            for text in texts:
                kept = self._kept.get((purpose, text))
                if kept is not None:
                    self._kept.move_to_end((purpose, text))
                    found[text] = kept
                else:
                    unseen[text] = None
            missing = list(unseen)
            self.hits += len(texts) - len(missing)
            self.misses += len(missing)
        if missing:
            made = self.embedder.embed(missing, purpose=purpose)
            if len(made) != len(missing):
                raise EmbeddingUnavailable(
                    f"{self.model}: {len(made)} vectors for {len(missing)} texts"
                )
            fresh: dict[str, Vector] = {}
            for text, vector in zip(missing, made, strict=True):
                fresh[text] = shared = _frozen(vector)
                problem = _unsound(shared, self.dimensions)
                if problem is not None:
                    raise EmbeddingUnavailable(f"{self.model}: {problem}")
            found.update(fresh)
            self._keep(purpose, fresh)
        return list(map(found.__getitem__, texts))

    def kept(self, text: str, *, purpose: Purpose = "passage") -> Vector | None:
        """The vector of ``text`` if the process embedded it lately, else None: nothing
        is embedded (nor counted)."""
        with self._lock:
            return self._kept.get((purpose, text))

    def _keep(self, purpose: Purpose, fresh: dict[str, Vector]) -> None:
        with self._lock:
            for text, vector in fresh.items():
                self._kept[(purpose, text)] = vector
                self._kept.move_to_end((purpose, text))
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)

    def forget(self) -> None:
        """Drop every kept vector (the model behind it changed, say)."""
        with self._lock:
            self._kept.clear()

    def close(self) -> None:
        """Close the embedder behind it, if it holds anything (an endpoint's client)."""
        close = getattr(self.embedder, "close", None)
        if close is not None:
            close()


def _frozen(vector: Vector) -> Vector:
    """The vector as every caller shares it: a float32 array nobody may write to."""
    shared = np.array(vector, dtype=np.float32, copy=True)
    shared.flags.writeable = False
    return shared


def _unsound(vector: Vector, dimensions: int) -> str | None:
    """Why a vector is not fit to hand out or keep (one row of the model's size, finite),
    or None."""
    if vector.ndim != 1 or (dimensions and vector.shape[0] != dimensions):
        return f"a vector of shape {vector.shape}"
    if not np.all(np.isfinite(vector)):
        return "a vector that is not finite"
    return None
