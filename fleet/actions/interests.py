"""What taste needs from outside the pure core: vectors of agents' interests and of the
posts the feeds show, each embedded once and kept for the process, and the persona of
every agent a claim has shown (a choice made before its claim knows only the agent id).

The engage path reuses a post's vector: a new post costs one embedding the first time a
page shows it (about 8 ms with the embedded model), none after. When the embedder fails
(down, garbage, the wrong size), taste ranks without vectors and ``degraded`` says why:
no action fails over it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np

from fleet.core.persona import Persona
from fleet.core.vectors import Vector
from fleet.embeddings.port import Embedder, Purpose
from fleet.gallery.port import GalleryPost
from fleet.infra.logs import get_logger

log = get_logger(__name__)

# How long an agent's ties (who engaged with its posts) are reused before a new read.
TIES_SECONDS = 600.0
# A post's text as it is embedded: its title and description, bounded.
TEXT_CHARS = 600


def post_text(post: GalleryPost) -> str:
    return f"{post.title}. {post.description}"[:TEXT_CHARS]


def interests_text(persona: Persona) -> str:
    return ", ".join(persona.interests)


class Interests:
    """Vectors for taste: per persona (its interests, as a query) and per post (its
    text, as a passage), at most ``max_posts`` posts kept, the oldest seen dropped."""

    def __init__(self, embedder: Embedder | None, *, max_posts: int = 50_000) -> None:
        self._embedder = embedder
        self._max_posts = max_posts
        self._posts: OrderedDict[str, Vector] = OrderedDict()
        self._personas: dict[str, Vector] = {}
        self._agents: dict[int, str] = {}
        self._ties: dict[int, tuple[float, dict[str, int]]] = {}
        self._similar: dict[str, tuple[tuple[str, ...], dict[str, float]]] = {}
        self._lock = threading.Lock()
        self.degraded: str | None = None if embedder is not None else "no embedder"

    def ties(
        self, agent_id: int, now: float, read: Callable[[int], dict[str, int]]
    ) -> dict[str, int]:
        """Who engaged with the agent's posts (handle -> times), read at most once every
        ``TIES_SECONDS`` per agent: ties change over hours, not seconds."""
        with self._lock:
            known = self._ties.get(agent_id)
        if known is not None and now - known[0] < TIES_SECONDS:
            return known[1]
        try:
            fresh = read(agent_id)
        except Exception as error:  # ties are a nicety: rank without them
            log.warning("taste ranks without ties", agent=agent_id, reason=str(error)[:200])
            fresh = {}
        with self._lock:
            self._ties[agent_id] = (now, fresh)
            while len(self._ties) > self._max_posts:
                self._ties.pop(next(iter(self._ties)))
        return fresh

    def learn(self, agent_id: int, persona: str) -> None:
        """An agent's persona, as a claim showed it."""
        with self._lock:
            self._agents[agent_id] = persona

    def persona_of(self, agent_id: int) -> str | None:
        with self._lock:
            return self._agents.get(agent_id)

    def similarities(self, persona: Persona, posts: Sequence[GalleryPost]) -> dict[str, float]:
        """The cosine of the persona's interests and each post's text; empty when the
        embedder is off or failing (taste then ranks without it). Every agent of a
        persona choosing from the same page gets the same answer: it is worked out once
        per (persona, page), in one matrix product, and kept until the page changes."""
        page = tuple(p.id for p in posts)
        with self._lock:
            cached = self._similar.get(persona.slug)
        if cached is not None and cached[0] == page:
            return cached[1]
        me = self._persona_vector(persona)
        vectors = self._post_vectors(posts)
        if me is None or not vectors:
            return {}
        ids = list(vectors)
        matrix = np.stack([vectors[i] for i in ids])
        scores = (
            matrix @ me / (np.linalg.norm(matrix, axis=1) * (np.linalg.norm(me) or 1.0) + 1e-12)
        )
        found = {post_id: float(score) for post_id, score in zip(ids, scores, strict=True)}
        with self._lock:
            self._similar[persona.slug] = (page, found)
        return found

    def _persona_vector(self, persona: Persona) -> Vector | None:
        with self._lock:
            known = self._personas.get(persona.slug)
        if known is not None:
            return known
        made = self._embed([interests_text(persona)], purpose="query")
        if not made:
            return None
        with self._lock:
            self._personas[persona.slug] = made[0]
        return made[0]

    def _post_vectors(self, posts: Sequence[GalleryPost]) -> dict[str, Vector]:
        with self._lock:
            known = {p.id: self._posts[p.id] for p in posts if p.id in self._posts}
        fresh = [p for p in dict((p.id, p) for p in posts).values() if p.id not in known]
        if fresh:
            made = self._embed([post_text(p) for p in fresh], purpose="passage")
            if made:
                with self._lock:
                    for post, vector in zip(fresh, made, strict=True):
                        self._posts[post.id] = vector
                        known[post.id] = vector
                    while len(self._posts) > self._max_posts:
                        self._posts.popitem(last=False)
        return known

    def _embed(self, texts: list[str], *, purpose: Purpose) -> list[Vector]:
        if self._embedder is None:
            return []
        try:
            vectors = self._embedder.embed(texts, purpose=purpose)
        except Exception as error:  # any failure of the embedder: rank without vectors
            self._degrade(f"{type(error).__name__}: {str(error)[:200]}")
            return []
        size = self._embedder.dimensions
        if len(vectors) != len(texts) or any(v.shape != (size,) for v in vectors):
            self._degrade(f"the embedder answered {len(vectors)} vectors not of size {size}")
            return []
        self.degraded = None
        return vectors

    def _degrade(self, reason: str) -> None:
        if self.degraded != reason:
            log.warning("taste ranks without vectors", reason=reason)
        self.degraded = reason
