"""What taste needs from outside the pure core: vectors of agents' interests and of the
posts the feeds show, and the persona of every agent a claim has shown (a choice made
before its claim knows only the agent id).

A post's text is embedded once for the whole fleet and stored (``agents.post_vectors``):
by its own writer when an agent posts it, else by the first content action (a comment)
whose feeds show it. Content actions in many processes reading the same new page embed
each post once between them: each claims the posts it would embed, and embeds only those
it won; a post another process is embedding ranks without its fit term (the page's mean)
until its vector is stored. The engage path (likes, browsing) only reads stored vectors,
never embeds or claims. Each process keeps what it read, and asks the store again for a
post it found missing at most every ``RECHECK_SECONDS``.

When the embedder fails (down, garbage, the wrong size), taste ranks without vectors and
``degraded`` says why: no action fails over it.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Protocol

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from fleet import agents
from fleet.core.memory import post_text as text_of_post
from fleet.core.memory import text_digest
from fleet.core.persona import Persona
from fleet.core.vectors import Vector
from fleet.embeddings.port import Embedder, Purpose
from fleet.gallery.port import GalleryPost
from fleet.infra.logs import get_logger

log = get_logger(__name__)

# How long an agent's ties (who engaged with its posts) are reused before a new read.
TIES_SECONDS = 600.0
# A person's post is kindred to the personas nearest its text: this many.
KINDRED = 2
# How long a post found without a stored vector is not asked for again.
RECHECK_SECONDS = 5.0
# Posts' vectors a process keeps, the least lately used dropped first: the feed pages'
# posts of the last minutes many times over (a page is 20), at about 2 KB each. Every
# pool process keeps its own; the rest stay in the store, a read away.
KEPT_POSTS = 2048
# Agents whose ties a process keeps (a few handles each).
KEPT_TIES = 50_000


def post_text(post: GalleryPost) -> str:
    return text_of_post(post.title, post.description)


@functools.lru_cache(maxsize=4096)
def _digest(title: str, description: str) -> str:
    """The digest of a post's text, kept for the feed pages' posts: every choice on a
    page asks again for each of its posts."""
    return text_digest(text_of_post(title, description))


def interests_text(persona: Persona) -> str:
    return ", ".join(persona.interests)


class PostVectorStore(Protocol):
    """Where posts' vectors are kept for the whole fleet (``agents.post_vectors``)."""

    def load(self, digests: Mapping[str, str], *, model: str, dimensions: int) -> dict[str, Vector]:
        """Stored vectors of these posts (id -> digest of its text now) of that text."""
        ...

    def keep(self, vectors: Sequence[tuple[str, str, Vector]], *, model: str) -> None:
        """Store (post id, digest, vector)."""
        ...

    def claim(self, digests: Mapping[str, str], *, model: str) -> set[str]:
        """Of these posts (id -> digest), those this caller is to embed: no one has
        stored them or is embedding them. Of two callers at once, one gets each post."""
        ...

    def release(self, post_ids: Sequence[str], *, model: str) -> None:
        """Give back claims whose posts were not embedded after all."""
        ...


class Interests:
    """Vectors for taste: per persona (its interests, as a query) and per post (its
    text, as a passage), at most ``max_posts`` posts kept in the process, the least
    lately used dropped; posts' vectors shared through ``store`` when there is one."""

    def __init__(
        self,
        embedder: Embedder | None,
        *,
        store: PostVectorStore | None = None,
        max_posts: int = KEPT_POSTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._embedder = embedder
        self._store = store
        self._max_posts = max_posts
        self._clock = clock
        self._posts: OrderedDict[str, tuple[str, Vector]] = OrderedDict()
        self._missing: dict[str, float] = {}
        # Posts another process claimed to embed: not asked for again, even to embed,
        # for RECHECK_SECONDS (its vector is stored meanwhile).
        self._elsewhere: dict[str, float] = {}
        self._personas: dict[str, Vector] = {}
        self._agents: dict[int, str] = {}
        self._ties: dict[int, tuple[float, dict[str, int]]] = {}
        self._similar: dict[str, tuple[tuple[tuple[str, str], ...], dict[str, float]]] = {}
        self._lock = threading.Lock()
        self.degraded: str | None = None if embedder is not None else "no embedder"

    def ties(
        self, agent_id: int, now: float, read: Callable[[int], dict[str, int]]
    ) -> dict[str, int]:
        """Who engaged with the agent's posts (handle -> times), read at most once every
        ``TIES_SECONDS`` per agent: ties change over hours, not seconds."""
        return self.ties_of([agent_id], now, lambda ids: {i: read(i) for i in ids})[agent_id]

    def ties_of(
        self,
        agent_ids: Sequence[int],
        now: float,
        read: Callable[[list[int]], Mapping[int, dict[str, int]]],
    ) -> dict[int, dict[str, int]]:
        """``ties`` of many agents (a batch's likes): those not read in the last
        ``TIES_SECONDS`` read in one call of ``read``."""
        found: dict[int, dict[str, int]] = {}
        stale: dict[int, None] = {}  # in order, once each
        with self._lock:
            for agent_id in agent_ids:
                known = self._ties.get(agent_id)
                if known is not None and now - known[0] < TIES_SECONDS:
                    found[agent_id] = known[1]
                else:
                    stale[agent_id] = None
        if not stale:
            return found
        try:
            fresh = dict(read(list(stale)))
        except Exception as error:  # ties are a nicety: rank without them
            log.warning("taste ranks without ties", agents=len(stale), reason=str(error)[:200])
            fresh = {}
        with self._lock:
            for agent_id in stale:
                found[agent_id] = fresh.get(agent_id, {})
                self._ties[agent_id] = (now, found[agent_id])
            while len(self._ties) > KEPT_TIES:
                self._ties.pop(next(iter(self._ties)))
        return found

    def learn(self, agent_id: int, persona: str) -> None:
        """An agent's persona, as a claim showed it."""
        with self._lock:
            self._agents[agent_id] = persona

    def persona_of(self, agent_id: int) -> str | None:
        with self._lock:
            return self._agents.get(agent_id)

    def embed_new(self, posts: Sequence[GalleryPost]) -> int:
        """Make and store the vectors of those of ``posts`` no one has embedded yet (the
        pace task does it for the gallery's newest, so that likes, which never embed,
        rank a new post by its fit within minutes). How many posts have a vector now."""
        return len(self._post_vectors(posts, embed=True))

    def similarities(
        self,
        persona: Persona,
        posts: Sequence[GalleryPost],
        *,
        embed: bool = True,
        keep: bool = True,
    ) -> dict[str, float]:
        """The cosine of the persona's interests and each post's text, for the posts with
        a vector; empty when the embedder is off or failing (taste then ranks without it).
        ``embed``: embed (and store) posts no one has embedded yet; the engage path passes
        False and ranks those without their fit. Every agent of a persona choosing from
        the same page gets the same answer: it is worked out once per (persona, page), in
        one matrix product, and kept until the page or its known vectors change (``keep``
        False: a few posts off the page, worked out without replacing the page's)."""
        me = self._persona_vector(persona)
        if me is None:
            return {}
        vectors = self._post_vectors(posts, embed=embed)
        if not vectors:
            return {}
        page = tuple((p.id, "+" if p.id in vectors else "-") for p in posts)
        with self._lock:
            cached = self._similar.get(persona.slug) if keep else None
        if cached is not None and cached[0] == page:
            return cached[1]
        ids = list(vectors)
        matrix = np.stack([vectors[i] for i in ids])
        scores = (
            matrix @ me / (np.linalg.norm(matrix, axis=1) * (np.linalg.norm(me) or 1.0) + 1e-12)
        )
        found = {post_id: float(score) for post_id, score in zip(ids, scores, strict=True)}
        if keep:
            with self._lock:
                self._similar[persona.slug] = (page, found)
        return found

    def kindred(
        self, persona: Persona, personas: Sequence[Persona], posts: Sequence[GalleryPost]
    ) -> set[str]:
        """The posts among ``posts`` whose text ``persona`` fits best of ``personas`` (it
        is one of the nearest ``KINDRED``), from vectors at hand only (never embeds a post).
        Empty without vectors."""
        mine = self.similarities(persona, posts, embed=False)
        if not mine:
            return set()
        others = [
            self.similarities(p, posts, embed=False) for p in personas if p.slug != persona.slug
        ]
        found = set()
        for post_id, score in mine.items():
            better = sum(1 for other in others if other.get(post_id, -2.0) > score)
            if better < KINDRED:
                found.add(post_id)
        return found

    def known_vector(self, post_id: str, title: str, description: str) -> Vector | None:
        """The vector of a post's text as it is now, if this process keeps it or the store
        has it (None otherwise): never embeds, never claims."""
        digest = _digest(title, description)
        with self._lock:
            kept = self._posts.get(post_id)
        if kept is not None and kept[0] == digest:
            return kept[1]
        if self._store is None or self._embedder is None:
            return None
        stored = self._load({post_id: digest})
        self._keep_here({i: (digest, v) for i, v in stored.items()})
        return stored.get(post_id)

    def warm(self, personas: Iterable[Persona]) -> int:
        """Make every persona's vector now, in one call of the embedder (a worker's main
        process does it before it forks: its children inherit the loaded model and the
        vectors instead of each paying for them on its first like); how many are known."""
        wanted = [p for p in personas if p.slug not in self._personas]
        made = self._embed([interests_text(p) for p in wanted], purpose="query")
        with self._lock:
            for persona, vector in zip(wanted, made, strict=False):
                self._personas[persona.slug] = vector
            return len(self._personas)

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

    def _post_vectors(self, posts: Sequence[GalleryPost], *, embed: bool) -> dict[str, Vector]:
        """Vectors of these posts' texts now: kept in the process, else stored, else (with
        ``embed``) made and stored."""
        now = self._clock()
        known: dict[str, Vector] = {}
        unread: dict[str, str] = {}
        with self._lock:
            for post in posts:
                post_id, digest = post.id, _digest(post.title, post.description)
                kept = self._posts.get(post_id)
                if kept is not None and kept[0] == digest:
                    known[post_id] = kept[1]
                    self._posts.move_to_end(post_id)
                elif now - self._elsewhere.get(post_id, -RECHECK_SECONDS) < RECHECK_SECONDS:
                    continue
                elif embed or now - self._missing.get(post_id, -RECHECK_SECONDS) >= RECHECK_SECONDS:
                    unread[post_id] = digest
        if unread and self._store is not None and self._embedder is not None:
            stored = self._load(unread)
            self._keep_here({i: (unread[i], v) for i, v in stored.items()})
            known.update(stored)
            unread = {i: d for i, d in unread.items() if i not in stored}
        if unread and embed:
            mine = self._claim(unread)
            texts = {p.id: post_text(p) for p in posts if p.id in mine}
            ids = list(texts)
            made = self._embed([texts[i] for i in ids], purpose="passage") if ids else []
            if made:
                fresh = {i: (unread[i], v) for i, v in zip(ids, made, strict=True)}
                self._keep_here(fresh)
                known.update({i: v for i, (_, v) in fresh.items()})
                self._share([(i, d, v) for i, (d, v) in fresh.items()])
                unread = {i: d for i, d in unread.items() if i not in fresh}
            elif ids:
                self._release(ids)
            with self._lock:
                for post_id in unread.keys() - mine:
                    self._elsewhere[post_id] = now
                while len(self._elsewhere) > self._max_posts:
                    self._elsewhere.pop(next(iter(self._elsewhere)))
        if unread:
            with self._lock:
                for post_id in unread:
                    self._missing[post_id] = now
                while len(self._missing) > self._max_posts:
                    self._missing.pop(next(iter(self._missing)))
        return known

    def _keep_here(self, vectors: Mapping[str, tuple[str, Vector]]) -> None:
        with self._lock:
            for post_id, kept in vectors.items():
                self._posts[post_id] = kept
                self._posts.move_to_end(post_id)
                self._missing.pop(post_id, None)
                self._elsewhere.pop(post_id, None)
            while len(self._posts) > self._max_posts:
                self._posts.popitem(last=False)

    def _load(self, digests: Mapping[str, str]) -> dict[str, Vector]:
        assert self._store is not None and self._embedder is not None
        try:
            return self._store.load(
                digests, model=self._embedder.model, dimensions=self._embedder.dimensions
            )
        except Exception as error:  # the store is a saving: rank as if it had none
            log.warning("post vectors not read", reason=f"{type(error).__name__}: {error}"[:200])
            return {}

    def _claim(self, digests: Mapping[str, str]) -> set[str]:
        """The posts of ``digests`` this process is to embed: those it claimed (all of
        them without a store, or when the store fails: embedding twice does no harm)."""
        if self._store is None or self._embedder is None:
            return set(digests)
        try:
            return self._store.claim(digests, model=self._embedder.model)
        except Exception as error:  # the store is a saving: embed as if it had none
            log.warning("post vectors not claimed", reason=f"{type(error).__name__}: {error}"[:200])
            return set(digests)

    def _release(self, post_ids: Sequence[str]) -> None:
        if self._store is None or self._embedder is None:
            return
        try:
            self._store.release(post_ids, model=self._embedder.model)
        except Exception as error:  # a claim lapses (agents.post_vectors.CLAIM_SECONDS)
            log.warning(
                "post vectors not released", reason=f"{type(error).__name__}: {error}"[:200]
            )

    def _share(self, vectors: Sequence[tuple[str, str, Vector]]) -> None:
        if self._store is None or self._embedder is None or not vectors:
            return
        try:
            self._store.keep(vectors, model=self._embedder.model)
        except Exception as error:  # the next reader embeds them again: no harm done
            log.warning("post vectors not kept", reason=f"{type(error).__name__}: {error}"[:200])

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


class StoredPostVectors:
    """``PostVectorStore`` on the fleet's database (``agents.post_vectors``)."""

    def __init__(self, sessions: sessionmaker[Session], now: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._now = now

    def load(self, digests: Mapping[str, str], *, model: str, dimensions: int) -> dict[str, Vector]:
        return agents.post_vectors(self._sessions, digests, model=model, dimensions=dimensions)

    def keep(self, vectors: Sequence[tuple[str, str, Vector]], *, model: str) -> None:
        agents.keep_post_vectors(self._sessions, vectors, model=model, now=self._now())

    def claim(self, digests: Mapping[str, str], *, model: str) -> set[str]:
        return agents.claim_post_vectors(self._sessions, digests, model=model, now=self._now())

    def release(self, post_ids: Sequence[str], *, model: str) -> None:
        agents.release_post_vectors(self._sessions, post_ids, model=model)
