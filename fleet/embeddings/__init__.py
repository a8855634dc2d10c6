"""Embeddings: the port that turns texts into vectors, and its adapters."""

from fleet.embeddings.port import Embedder, EmbeddingUnavailable, Purpose

__all__ = ["Embedder", "EmbeddingUnavailable", "Purpose"]
