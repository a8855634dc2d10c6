"""The embedder as actions use it: never raises, says when it went without vectors.

An endpoint that is down, slow or answers garbage costs an action nothing but its
vectors: ``vectors`` returns None, memory is recalled by recency and the guard checks
words only. The last failure is kept (``state``) for whoever asks. That holds for any
failure of the embedder, not only those it names (``EmbeddingUnavailable``): an error
no adapter foresaw (a RecursionError, a library's own exception) is logged and costs
the vectors, never the action.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from fleet.core.vectors import Vector
from fleet.embeddings.port import Embedder, EmbeddingUnavailable, Purpose
from fleet.errors import ConfigError

log = logging.getLogger("fleet.embeddings")


@dataclass(frozen=True, slots=True)
class EmbedderState:
    """Whether texts got vectors lately, and why not."""

    model: str
    dimensions: int
    ok: bool
    reason: str | None = None
    since: datetime | None = None


class DegradingEmbedder:
    """An ``Embedder`` whose failures become None (and a state), never an error."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        # An embedder that checks what it answers (``CachedEmbedder.checks_answers``) is not
        # checked a second time here.
        self._checked = bool(getattr(embedder, "checks_answers", False))
        self._lock = threading.Lock()
        self._failure: tuple[str, datetime] | None = None

    @property
    def model(self) -> str:
        return self.embedder.model

    def vectors(self, texts: Sequence[str], *, purpose: Purpose = "passage") -> list[Vector] | None:
        """One unit vector per text, or None when the embedder could not give them all."""
        if not texts:
            return []
        try:
            found = self.embedder.embed(texts, purpose=purpose)
            if not self._checked:
                _check(found, len(texts), self.embedder)
        except (EmbeddingUnavailable, ValueError) as error:
            self.failed(str(error))
            return None
        except Exception as error:  # whatever else: the action goes on without vectors
            log.warning("embedder %s failed unforeseen: %s", self.model, type(error).__name__)
            self.failed(f"{type(error).__name__}: {str(error)[:200]}")
            return None
        with self._lock:
            self._failure = None
        return found

    def failed(self, reason: str) -> None:
        """Keep ``reason`` as why texts go without vectors (since its first failure)."""
        with self._lock:
            since = self._failure[1] if self._failure is not None else datetime.now(UTC)
            self._failure = (reason[:300], since)

    def vector(self, text: str, *, purpose: Purpose = "passage") -> Vector | None:
        found = self.vectors([text], purpose=purpose)
        return found[0] if found else None

    def kept(self, text: str, *, purpose: Purpose = "passage") -> Vector | None:
        """The vector of ``text`` the embedder's cache keeps (``CachedEmbedder.kept``),
        without embedding it; None when it keeps none (or has no cache)."""
        kept = getattr(self.embedder, "kept", None)
        return None if kept is None else kept(text, purpose=purpose)

    def state(self) -> EmbedderState:
        with self._lock:
            failure = self._failure
        if failure is None:
            return EmbedderState(self.model, self.embedder.dimensions, True)
        return EmbedderState(self.model, self.embedder.dimensions, False, *failure)


def _check(found: Sequence[Vector], count: int, embedder: Embedder) -> None:
    """Raise ``EmbeddingUnavailable`` unless ``found`` holds ``count`` whole, finite
    vectors of the embedder's size (its model named only in the error)."""
    if len(found) != count:
        raise EmbeddingUnavailable(f"{embedder.model}: {len(found)} vectors for {count} texts")
    dimensions = embedder.dimensions
    for vector in found:
        if dimensions and vector.shape != (dimensions,):
            raise EmbeddingUnavailable(f"{embedder.model}: a vector of shape {vector.shape}")
        if not np.all(np.isfinite(vector)):
            raise EmbeddingUnavailable(f"{embedder.model}: a vector that is not finite")


def checked_at_start(embedder: Embedder, *, expected: int | None) -> DegradingEmbedder:
    """The embedder after one probe: a vector of the wrong size is refused (ConfigError,
    naming the model); an endpoint that does not answer is kept, degraded, and tried
    again on each use."""
    degrading = DegradingEmbedder(embedder)
    try:
        probe = embedder.embed(["a probe of the vector size"], purpose="passage")
    except EmbeddingUnavailable as error:
        degrading.failed(f"at start-up: {error}")
        return degrading
    except Exception as error:  # an endpoint that breaks the client: degraded, not fatal
        degrading.failed(f"at start-up: {type(error).__name__}: {str(error)[:200]}")
        return degrading
    size = probe[0].shape[0] if probe and probe[0].ndim == 1 else 0
    want = expected or embedder.dimensions or size
    if size != want or (embedder.dimensions and embedder.dimensions != want):
        raise ConfigError(
            f"embedding model {embedder.model!r} answers vectors of {size} dimensions; "
            f"FLEET_EMBEDDINGS__DIMENSIONS (or the model) says {want}"
        )
    return degrading
