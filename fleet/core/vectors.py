"""Text vectors as the pure core sees them: unit-length float32 arrays compared by cosine.

An embedder (``fleet.embeddings``) turns a text into a ``Vector`` once, where the text is
written or first read; the vector is stored beside the text (``to_bytes``) and read back
(``from_bytes``), never recomputed. Everything here is pure arithmetic.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

Vector = NDArray[np.float32]


def unit(values: Sequence[float] | NDArray[np.floating]) -> Vector:
    """``values`` as a float32 vector of length 1 (a zero vector stays zero)."""
    vector = np.asarray(values, dtype=np.float32).reshape(-1)
    norm = float(np.linalg.norm(vector))
    return vector if norm == 0.0 or not np.isfinite(norm) else (vector / norm).astype(np.float32)


def cosine(a: Vector, b: Vector) -> float:
    """The cosine similarity of two vectors, in [-1, 1]; 0.0 when either is zero."""
    na = float(np.linalg.norm(a))
    nb = float(np.linalg.norm(b))
    if na == 0.0 or nb == 0.0:
        return 0.0
    return float(np.dot(a, b) / (na * nb))


def centroid(vectors: Sequence[Vector]) -> Vector | None:
    """The unit mean direction of ``vectors``, or None for none."""
    if not vectors:
        return None
    return unit(np.mean(np.stack(vectors), axis=0))


def to_bytes(vector: Vector) -> bytes:
    """The stored form: little-endian float32."""
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(data: bytes, *, dimensions: int) -> Vector:
    """A stored vector back; ``ValueError`` when it does not hold ``dimensions`` floats."""
    if len(data) != 4 * dimensions:
        raise ValueError(f"a stored vector of {len(data)} bytes is not {dimensions} float32s")
    return np.frombuffer(data, dtype="<f4").astype(np.float32)
