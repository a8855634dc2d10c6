"""The embedding port.

An ``Embedder`` turns short texts into unit vectors of a fixed size. The embedded default
is a real sentence-embedding model installed from the package index that runs offline
(no download at run time); production may point at any OpenAI-compatible
``/v1/embeddings`` endpoint. Callers embed a text once and store the vector beside it.

Asymmetric models (e5) embed a search ``query`` differently from a stored ``passage``:
an agent's interests matched against posts are a query, the posts are passages.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

from fleet.core.vectors import Vector
from fleet.errors import TransientError

Purpose = Literal["query", "passage"]


class EmbeddingUnavailable(TransientError):
    """The embedder could not answer (down, garbage, timeout): rank without vectors."""


class Embedder(Protocol):
    """Texts in, unit float32 vectors of ``dimensions`` out, in order."""

    @property
    def model(self) -> str: ...

    @property
    def dimensions(self) -> int: ...

    def embed(self, texts: Sequence[str], *, purpose: Purpose = "passage") -> list[Vector]: ...
