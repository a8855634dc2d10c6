"""Memory and vectors as actions use them: recall for the writer, the no-echo check, and
what a succeeded action leaves in the agent's memory.

Embedding never fails an action: with the embedder down (or ``off``) memories are
recalled by recency, the guard checks words only, and memories are kept without vectors.
Likes and thoughts are remembered without a vector, so the cheap kinds embed nothing.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from fleet import agents
from fleet.activities import Claim
from fleet.activities.outcomes import CarriedOut, Succeeded
from fleet.content.guard.guard import Echoes
from fleet.content.port import PostSeen
from fleet.core.kinds import Action
from fleet.core.memory import (
    QUOTED,
    Echo,
    Memory,
    MemoryKind,
    bounded,
    post_text,
    recall,
    text_digest,
)
from fleet.core.vectors import Vector
from fleet.embeddings.degrading import DegradingEmbedder
from fleet.honesty.identity_intent import asked_text
from fleet.settings import MemorySettings

# Vectors of texts embedded lately (the drafts the guard checked), so that the accepted
# one is stored without being embedded again.
_CACHED = 256


# The window's vectors are kept as int8 with a scale per row (388 bytes at 384
# dimensions, a quarter of float32; a cosine off by about 2e-3 at most, against
# thresholds of 0.9 and more) and compared in blocks of this many rows, widened to float32
# into one buffer that stays in the core's cache (384 KiB at 384 dimensions) for the
# product: a full window of 20,000 rows costs about 2 ms of CPU a draft, where widening
# blocks of 4,096 rows into fresh arrays cost 13 to 30 (the copies went through memory).
_BLOCK = 256

# Ids are handed out before their rows commit, so a text may become visible after a newer
# one was read: each refresh looks this many ids back for rows it has not seen yet.
_LATE_IDS = 2000


def _quantised(vectors: np.ndarray[Any, Any]) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Rows of ``vectors`` as int8 and the float32 scale of each (row = int8 * scale)."""
    scales = np.abs(vectors).max(axis=1).astype(np.float32) / 127
    scales[scales == 0] = 1.0
    return np.rint(vectors / scales[:, None]).astype(np.int8), scales


class PublishedWindow:
    """What one scope of the fleet (its persona or all of it, one kind, one model)
    published in the echo window, kept in this process: each refresh reads from the
    database only what it has not seen, so the check covers the whole window (the newest
    ``limit`` texts, an eighth more between compactions) at the cost of what is new. A
    text that ages out of the window is no longer compared; one whose memory was forgotten
    since stays until it ages out: it was published all the same. Every content process
    keeps its own windows, so a row is kept small: its vector in int8, its id, its time
    and the start of its text (about 700 bytes at 384 dimensions).

    A read serves the refreshes of the next ``held`` seconds. What this process publishes
    meanwhile is compared at once all the same (``published``): kept apart, as published,
    until the next read brings its row."""

    def __init__(self, limit: int, *, held: float = 0.0) -> None:
        self.limit = limit
        self.held = held  # seconds a read serves the next refreshes (0: each one reads)
        self._read_at = -float("inf")  # the monotonic time of the last read
        # What this process published since its last read, as the window keeps a row: the
        # text's start, its vector in int8 (one row) and its scale.
        self._own: list[tuple[str, np.ndarray[Any, Any], np.ndarray[Any, Any]]] = []
        self._lock = threading.Lock()
        self._known: set[int] = set()
        self._ids: list[int] = []
        self._texts: list[str] = []
        self._at = np.empty(0, dtype=np.float64)
        self._vectors: np.ndarray[Any, np.dtype[np.int8]] | None = None
        self._scales = np.empty(0, dtype=np.float32)
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def refresh(
        self,
        read: Callable[[int, Callable[[int], bool]], Sequence[agents.Published]],
        *,
        since: datetime,
    ) -> int:
        """Read what is new (``read(after_id, known)``) into the window; how many texts
        (none while the last read is held: ``held`` seconds)."""
        with self._lock:
            if time.monotonic() - self._read_at < self.held:
                return 0
            after = max(0, max(self._ids, default=0) - _LATE_IDS)
            rows = read(after, self._known.__contains__)
            # The read brought the rows of the texts this process published before it (each
            # is handed over once its row is committed, and not while the lock is held).
            self._own.clear()
            self._add([row for row in rows if row.id not in self._known], since=since)
            self._read_at = time.monotonic()
            return len(rows)

    def published(self, text: str, vector: Vector) -> None:
        """A text this process just published: compared from now on, until the next read
        brings its row (the newest ``limit`` of them, were none read for long). It is
        weighed as its row will be: quantised as the window's rows are."""
        vectors, scales = _quantised(vector[None, :])
        with self._lock:
            self._own.append((text[:QUOTED], vectors, scales))
            del self._own[: -self.limit]

    def _add(self, rows: Sequence[agents.Published], *, since: datetime) -> None:
        if not rows:
            return
        dimensions = rows[0].vector.shape[0]
        if self._vectors is not None and self._vectors.shape[1] != dimensions:
            self._reset()
        if self._vectors is None or self._count + len(rows) > self._vectors.shape[0]:
            self._compact(since=since, room=len(rows), dimensions=dimensions)
        assert self._vectors is not None
        end = self._count + len(rows)
        vectors, scales = _quantised(np.stack([row.vector for row in rows]))
        self._vectors[self._count : end] = vectors
        self._scales[self._count : end] = scales
        self._at = np.concatenate([self._at[: self._count], [r.at.timestamp() for r in rows]])
        self._ids += [row.id for row in rows]
        self._texts += [row.text[:QUOTED] for row in rows]
        self._known.update(row.id for row in rows)
        self._count = end

    def _reset(self) -> None:
        self._known.clear()
        self._ids, self._texts = [], []
        self._at = np.empty(0, dtype=np.float64)
        self._vectors, self._count = None, 0
        self._scales = np.empty(0, dtype=np.float32)

    def _compact(self, *, since: datetime, room: int, dimensions: int) -> None:
        """Drop what aged out and all but the newest ``limit``; make room for ``room``."""
        keep = np.flatnonzero(self._at[: self._count] >= since.timestamp())
        if len(keep) + room > self.limit:
            newest = np.argsort(np.asarray(self._ids, dtype=np.int64)[keep], kind="stable")
            keep = np.sort(keep[newest[max(0, len(keep) + room - self.limit) :]])
        # Room to grow by an eighth (at most an eighth over ``limit``) before the next
        # compaction: a full window is not copied at every refresh, nor kept twice over.
        wanted = len(keep) + room
        capacity = max(wanted, min(self.limit + self.limit // 8, max(64, wanted + wanted // 8)))
        vectors = np.empty((capacity, dimensions), dtype=np.int8)
        scales = np.empty(capacity, dtype=np.float32)
        if self._vectors is not None and len(keep):
            vectors[: len(keep)] = self._vectors[keep]
            scales[: len(keep)] = self._scales[keep]
        self._ids = [self._ids[i] for i in keep]
        self._texts = [self._texts[i] for i in keep]
        self._known = set(self._ids)
        self._at = self._at[keep]
        self._vectors, self._scales, self._count = vectors, scales, len(keep)

    def closest(self, draft: Vector, *, since: datetime, threshold: float) -> Echo | None:
        """The text of the window closest to ``draft`` if its cosine reaches ``threshold``
        (the text cut to ``QUOTED`` characters), this process's texts not read back yet
        among them."""
        with self._lock:
            if threshold > 1.0:
                return None
            query = draft.astype(np.float32, copy=False)
            score, text = -np.inf, ""
            for own, vectors, scales in self._own:
                if vectors.shape[1] == query.shape[0]:
                    cosine = float(np.dot(vectors.astype(np.float32), query)[0] * scales[0])
                    if cosine > score:
                        score, text = cosine, own
            if self._vectors is None or not self._count or query.shape[0] != self._vectors.shape[1]:
                return Echo(score, text) if score >= threshold else None
            scores = np.empty(self._count, dtype=np.float32)
            widened = np.empty((min(_BLOCK, self._count), query.shape[0]), dtype=np.float32)
            for start in range(0, self._count, _BLOCK):
                stop = min(self._count, start + _BLOCK)
                block = widened[: stop - start]
                block[...] = self._vectors[start:stop]
                np.dot(block, query, out=scores[start:stop])
            scores *= self._scales[: self._count]
            scores[self._at[: self._count] < since.timestamp()] = -np.inf
            best = int(np.argmax(scores))
            if float(scores[best]) > score:
                score, text = float(scores[best]), self._texts[best]
            return Echo(score, text) if score >= threshold else None


@dataclass
class Recall:
    """The agents' memory behind an embedder (None: no vectors at all)."""

    sessions: sessionmaker[Session]
    settings: MemorySettings
    embedder: DegradingEmbedder | None = None
    # The vector of a post's text the fleet stored already (``Interests.known_vector``:
    # post id, title, description), which a comment's recall is looked up by; None, or no
    # vector stored: the post's caption and description embedded as a query.
    post_vector: Callable[[str, str, str], Vector | None] | None = field(default=None, repr=False)
    _cache: OrderedDict[str, Vector] = field(default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _windows: dict[tuple[str | None, MemoryKind, bool, str], PublishedWindow] = field(
        default_factory=dict, repr=False
    )

    @cached_property
    def model(self) -> str | None:
        """The embedder's model, read once: a process's embedder keeps its model (each
        memory and post a post keeps said it through two embedders' properties)."""
        return None if self.embedder is None else self.embedder.model

    @property
    def dimensions(self) -> int:
        return 0 if self.embedder is None else self.embedder.embedder.dimensions

    def vector(self, text: str) -> Vector | None:
        """The passage vector of ``text`` (from the cache when it was just embedded)."""
        if self.embedder is None:
            return None
        with self._lock:
            cached = self._cache.get(text)
            if cached is not None:
                self._cache.move_to_end(text)
                return cached
        found = self.embedder.vector(text, purpose="passage")
        if found is not None:
            with self._lock:
                self._cache[text] = found
                while len(self._cache) > _CACHED:
                    self._cache.popitem(last=False)
        return found

    def _window(self, scope: tuple[str | None, MemoryKind, bool, str]) -> PublishedWindow:
        with self._lock:
            window = self._windows.get(scope)
            if window is None:
                held = self.settings.echo_held_seconds
                window = PublishedWindow(self.settings.echo_scan, held=held)
                self._windows[scope] = window
            return window

    def memories_for(
        self, agent_id: int, *, now: datetime, about: PostSeen | None = None
    ) -> tuple[str, ...]:
        """What the agent remembers that bears on a text about ``about`` (none: a post of
        its own), most relevant first, as lines for the writer."""
        limit = self.settings.recalled
        if limit == 0:
            return ()
        # A post of its own weighs its memories by recency alone (no query): their
        # vectors are not decoded, nor the embedder's size asked for.
        weighed = about is not None
        kept = agents.memories_of(
            self.sessions,
            agent_id,
            model=self.model if weighed else None,
            dimensions=self.dimensions if weighed else 0,
            limit=self.settings.max_per_agent,
        )
        if not kept:
            return ()
        half_life = self.settings.half_life_days
        if about is None:
            # Continuity: its own series and projects first, newest first; then thoughts.
            posted = [m for m in kept if m.kind is MemoryKind.POSTED]
            thoughts = [m for m in kept if m.kind is MemoryKind.THOUGHT]
            chosen = recall(posted, now=now, limit=limit, half_life_days=half_life)
            chosen += recall(thoughts, now=now, limit=limit - len(chosen), half_life_days=half_life)
        else:
            # Without a vector among them, the query weighs nothing (recency alone orders
            # them): it is not embedded.
            vectors = any(memory.vector is not None for memory in kept)
            chosen = recall(
                kept,
                now=now,
                query=self._query(about) if vectors else None,
                person=about.mentionable[0],
                limit=limit,
                half_life_days=half_life,
            )
        lines = (bounded(memory.line(), self.settings.max_chars) for memory in chosen)
        return tuple(dict.fromkeys(lines))  # a thought had twice is remembered once

    def _query(self, about: PostSeen) -> Vector | None:
        """What the memories bearing on a text about ``about`` are looked up by. A reply's:
        the answered comment as the identity check embeds it (``asked_text``), one
        embedding for both; a fellow agent's comment, which no identity check reads, by the
        vector its writer's no-echo check gave it when this process wrote it lately (a
        passage, as the memories are), embedding nothing. A comment's: the post's text, by
        the vector the fleet stored for it (taste embedded it once, as a passage, as the
        memories are: ``post_vector``); without one, its caption and description as a
        query, which every agent commenting on the post asks for alike (the embedder's
        cache embeds it once)."""
        if self.embedder is None:
            return None
        if about.answering is not None:
            if about.answering.author_is_agent:
                written = self.embedder.kept(about.answering.text, purpose="passage")
                if written is not None and written.shape == (self.dimensions,):
                    return written
            return self.embedder.vector(asked_text(about.answering.text), purpose="query")
        if self.post_vector is not None:
            stored = self.post_vector(about.post_id, about.title, about.description)
            if stored is not None and stored.shape == (self.dimensions,):
                return stored
        return self.embedder.vector(f"{about.title} {about.description}"[:500], purpose="query")

    def echo_check(
        self,
        *,
        persona: str,
        now: datetime,
        kind: MemoryKind = MemoryKind.SAID,
        reply: bool = False,
    ) -> Echoes | None:
        """The no-echo check for drafts of ``kind`` (a post, or a thing said) by an agent
        of ``persona``: the text of that kind the fleet (or the persona's agents, by
        ``echo_scope``) published lately that a draft is too close to, else None. None
        when there are no vectors."""
        threshold = self.settings.reply_echo_similarity if reply else self.settings.echo_similarity
        model = self.model  # None: no embedder
        if model is None or threshold >= 1.0:
            return None
        persona_scope = persona if self.settings.echo_scope == "persona" else None
        window = self._window((persona_scope, kind, reply, model))
        read: list[bool] = []

        def check(text: str) -> Echo | None:
            draft = self.vector(text)
            if draft is None:
                return None  # degraded: the word-shingle check stands alone
            since = now - timedelta(days=self.settings.echo_days)
            if not read:  # once per action: its redrawn drafts are checked alike
                window.refresh(
                    lambda after_id, known: agents.published_since(
                        self.sessions,
                        persona=persona_scope,
                        since=since,
                        model=model,
                        # The draft's size is the embedder's (``DegradingEmbedder`` gives
                        # none of another): the window's vectors are of that size.
                        dimensions=draft.shape[0],
                        limit=self.settings.echo_scan,
                        after_id=after_id,
                        kinds=(kind,),
                        # A reply is weighed against replies: the newest comments,
                        # many more, would push the older replies out of the scan.
                        replies=reply,
                        known=known,
                    ),
                    since=since,
                )
                read.append(True)
            return window.closest(draft, since=since, threshold=threshold)

        return check

    def remember(self, ended: Sequence[tuple[Claim, CarriedOut]], *, now: datetime) -> int:
        """Keep what these succeeded actions did in their agents' memories (an activity
        remembered already is left as it is); how many memories were new."""
        entries: list[agents.Remembered] = []
        published: list[dict[str, Any]] = []  # the posts' results, their vectors to share
        said: list[tuple[str, Memory]] = []  # texts published, by their agents' personas
        for claim, outcome in ended:
            if not isinstance(outcome, Succeeded):
                continue
            entry = self._entry(claim, outcome.result or {}, now)
            if entry is not None:
                entries.append(entry)
                if entry.memory.vector is not None:
                    said.append((claim.actor.persona, entry.memory))
            result = outcome.result
            if (
                Action(claim.action) is Action.POST
                and result
                and result.get("post_id")
                and result.get("title")
            ):
                published.append(result)
        if published:  # a like's end asks no embedder anything
            self._share_posts(published, now=now)
        new = agents.remember(
            self.sessions,
            entries,
            keep=self.settings.max_per_agent,
            now=now,
            half_life_days=self.settings.half_life_days,
        )
        if said:
            self._echoed(said)
        return new

    def _echoed(self, said: Sequence[tuple[str, Memory]]) -> None:
        """The texts this process just published (each with its agent's persona), compared
        at once by the echo windows whose next read would bring them: a window reads the
        database once a hold (``echo_held_seconds``), and a draft is checked against what
        its own process published all the same."""
        with self._lock:
            windows = list(self._windows.items())
        for (persona, kind, reply, model), window in windows:
            for author, memory in said:
                if (
                    memory.vector is not None
                    and memory.kind is kind
                    and model == self.model
                    and persona in (None, author)
                    and (memory.text.startswith("@") or not reply)
                ):
                    window.published(memory.text, memory.vector)

    def _share_posts(self, posts: Sequence[dict[str, Any]], *, now: datetime) -> None:
        """The vectors of these published posts (their results), stored for every reader
        of the feeds (``agents.post_vectors``): the writer embedded them already."""
        model = self.model
        if model is None:
            return
        shared = []
        for result in posts:
            text = post_text(result["title"], result.get("description", ""))
            vector = self.vector(text)
            if vector is not None:
                shared.append((str(result["post_id"]), text_digest(text), vector))
        if shared:
            agents.keep_post_vectors(self.sessions, shared, model=model, now=now)

    def _entry(
        self, claim: Claim, result: dict[str, Any], now: datetime
    ) -> agents.Remembered | None:
        limit = self.settings.max_chars
        action = Action(claim.action)
        post_id = result.get("post_id")
        author = _short(result.get("author"))
        about = _short(result.get("title"), 200)
        if action is Action.POST and result.get("title"):
            text = post_text(result["title"], result.get("description", ""))
            memory = Memory(MemoryKind.POSTED, bounded(text, limit), now, vector=self.vector(text))
        elif action in (Action.COMMENT, Action.REPLY) and result.get("text"):
            text = result["text"]
            other = _short(result.get("to")) if action is Action.REPLY else author
            memory = Memory(
                MemoryKind.SAID, bounded(text, limit), now, other, about, self.vector(text)
            )
        elif action is Action.LIKE and about:
            memory = Memory(MemoryKind.LIKED, bounded(about, limit), now, author, about)
        elif action is Action.BROWSE and result.get("thought"):
            memory = Memory(MemoryKind.THOUGHT, bounded(result["thought"], limit), now)
        else:
            return None
        model = self.model if memory.vector is not None else None
        return agents.Remembered(claim.actor.id, claim.id, memory, post_id, model)


def _short(value: object, limit: int = 64) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None
