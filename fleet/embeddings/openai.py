"""An OpenAI-compatible ``/v1/embeddings`` endpoint (Ollama, vLLM, TEI, OpenAI) over httpx.

Every failure becomes ``EmbeddingUnavailable``: a refused connection, a timeout, an error
status, or an answer that is not what the API promises (not JSON, a missing or extra row,
a vector of another size, a number that is not finite). The caller then goes on without
vectors; an embedding never fails an action.

Every answer keeps the bounded-answer policy (``fleet.infra.bounded``): the call ends by
``timeout_seconds`` from connect to last byte (a trickle is cut), the body is read at
most ``MAX_ANSWER_BYTES`` raw and inflated, its JSON nested at most ``MAX_DEPTH``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

import httpx

from fleet.core.vectors import Vector, unit
from fleet.embeddings.port import EmbeddingUnavailable, Purpose
from fleet.infra import bounded, transports

# A bound on what one text may cost the endpoint (a hostile caption stays cheap).
MAX_CHARS = 2000
# What we read of an answer at the most: 64 texts of 8192 floats, as JSON.
MAX_ANSWER_BYTES = 64 * 8192 * 24


class OpenAIEmbedder:
    """``Embedder`` on ``POST {base_url}/embeddings``; ``dimensions`` is what it must answer."""

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        dimensions: int | None = None,
        api_key: str | None = None,
        timeout_seconds: float = 5.0,
        client: httpx.Client | None = None,
    ) -> None:
        self._url = base_url.rstrip("/") + "/embeddings"
        self._model = model
        self._dimensions = dimensions
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._timeout = timeout_seconds
        self._own = client is None
        self._client = client or self._open()
        self._pid = os.getpid()
        self._headers = headers

    def _open(self) -> httpx.Client:
        """A client on a transport held to the call's deadline and the answer's cap."""
        transport = transports.Transport(
            verify=None,  # httpcore's default: verified against the system's CAs
            proxy=transports.proxy_for(self._url),
            max_bytes=MAX_ANSWER_BYTES,
        )
        return httpx.Client(timeout=self._timeout, transport=transport)

    def _http(self) -> httpx.Client:
        """The client of this process: a worker probes the endpoint before it forks, and
        a child must not share the parent's keep-alive connection (two processes on one
        socket read each other's answers). A client given by the caller is the caller's."""
        if self._own and os.getpid() != self._pid:
            self._client = self._open()
            self._pid = os.getpid()
        return self._client

    @property
    def model(self) -> str:
        return self._model

    @property
    def dimensions(self) -> int:
        """The size its vectors have: the configured one, else the first answer's (0 before)."""
        return self._dimensions or 0

    def embed(self, texts: Sequence[str], *, purpose: Purpose = "passage") -> list[Vector]:
        if not texts:
            return []
        body = {"model": self._model, "input": [text[:MAX_CHARS] for text in texts]}
        try:
            with (
                bounded.within(self._timeout),
                self._http().stream("POST", self._url, json=body, headers=self._headers) as answer,
            ):
                if answer.status_code != 200:
                    raise EmbeddingUnavailable(
                        f"{self._model} at {self._url}: HTTP {answer.status_code}"
                    )
                content = bounded.read_response(answer, cap=MAX_ANSWER_BYTES)
            payload = bounded.loads(content)
        except httpx.HTTPError as error:
            raise EmbeddingUnavailable(
                f"{self._model} at {self._url}: {type(error).__name__}"
            ) from error
        except bounded.AnswerRefused as error:
            raise EmbeddingUnavailable(f"{self._model} at {self._url}: {error}") from error
        return self._vectors(payload, len(texts))

    def _vectors(self, payload: Any, count: int) -> list[Vector]:
        rows = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(rows, list) or len(rows) != count:
            raise EmbeddingUnavailable(f"{self._model}: an answer without {count} vector(s)")
        ordered: list[Vector | None] = [None] * count
        for position, row in enumerate(rows):
            index = row.get("index", position) if isinstance(row, dict) else None
            values = row.get("embedding") if isinstance(row, dict) else None
            if not isinstance(index, int) or not 0 <= index < count or ordered[index] is not None:
                raise EmbeddingUnavailable(f"{self._model}: an answer with a bad index")
            if not isinstance(values, list) or not values:
                raise EmbeddingUnavailable(f"{self._model}: an answer with no vector")
            if not all(
                isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                for v in values
            ):
                raise EmbeddingUnavailable(f"{self._model}: a vector that is not finite numbers")
            expected = self._dimensions or len(values)
            if len(values) != expected:
                raise EmbeddingUnavailable(
                    f"{self._model}: a vector of {len(values)} dimensions, not {expected}"
                )
            self._dimensions = expected
            ordered[index] = unit(values)
        return [vector for vector in ordered if vector is not None]

    def close(self) -> None:
        self._client.close()
