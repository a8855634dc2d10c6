"""What an agent remembers, and which memories bear on what it writes next (pure).

A memory is one thing the agent did: a post it published, a comment or reply it left
(to whom, on what), a post it liked, a thought it had while browsing. Each may carry the
vector of its text. Recall ranks memories by similarity to what the agent is about to
answer and by recency (a half-life); with no vectors (none stored, or the embedder
down) it ranks by recency alone. An earlier exchange with the person being answered
comes first. The no-echo check compares a draft's vector with what was published.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import numpy as np

from fleet.core.vectors import Vector


class MemoryKind(StrEnum):
    """What the agent did that it remembers."""

    POSTED = "posted"
    SAID = "said"  # a comment on someone's post, or a reply to a comment
    LIKED = "liked"
    THOUGHT = "thought"


# The kinds the agent published: what the no-echo guard compares a draft with.
PUBLISHED = (MemoryKind.POSTED, MemoryKind.SAID)


@dataclass(frozen=True, slots=True)
class Memory:
    """One remembered thing: its text (bounded), who or what it was about, when."""

    kind: MemoryKind
    text: str
    at: datetime
    other: str | None = None  # the person spoken to, or whose post it was
    about: str | None = None  # the post's caption
    vector: Vector | None = None

    def line(self) -> str:
        """The memory as the writer reads it (data, never instructions)."""
        if self.kind is MemoryKind.POSTED:
            return f"I posted: {self.text}"
        if self.kind is MemoryKind.SAID:
            to = f" to @{self.other}" if self.other else ""
            on = f" on {self.about!r}" if self.about else ""
            return f"I said{to}{on}: {self.text}"
        if self.kind is MemoryKind.LIKED:
            by = f" by @{self.other}" if self.other else ""
            return f"I liked a post{by}: {self.text}"
        return f"I thought: {self.text}"


def recency(at: datetime, now: datetime, *, half_life_days: float) -> float:
    """1.0 now, 0.5 one half-life ago; a time in the future counts as now."""
    age_days = max(0.0, (now - at).total_seconds() / 86_400)
    return math.pow(0.5, age_days / half_life_days)


def relevance(
    memory: Memory, query: Vector | None, now: datetime, *, half_life_days: float
) -> float:
    """How much a memory bears on the text to write: similarity (cosine mapped to 0-1)
    times recency; recency alone when either side has no vector."""
    fresh = recency(memory.at, now, half_life_days=half_life_days)
    if query is None or memory.vector is None:
        return 0.5 * fresh
    similar = (float(np.dot(memory.vector, query)) + 1.0) / 2.0
    return similar * fresh


def recall(
    memories: Sequence[Memory],
    *,
    now: datetime,
    query: Vector | None = None,
    person: str | None = None,
    limit: int,
    half_life_days: float,
) -> list[Memory]:
    """The ``limit`` memories that bear most on a text, most relevant first; what passed
    with ``person`` (the one being answered) before all the rest."""
    if limit <= 0:
        return []

    def order(indexed: tuple[int, Memory]) -> tuple[bool, float, int]:
        index, memory = indexed
        with_person = person is not None and memory.other == person
        score = relevance(memory, query, now, half_life_days=half_life_days)
        return (not with_person, -score, index)

    return [memory for _, memory in sorted(enumerate(memories), key=order)[:limit]]


def to_forget(
    kept: Sequence[tuple[int, Memory]], *, keep: int, now: datetime, half_life_days: float
) -> list[int]:
    """Of (id, memory) pairs, the ids to forget so that ``keep`` remain: the least
    relevant now (the oldest; of two as old, a like or a thought before what was said)."""
    if len(kept) <= keep:
        return []
    weight = {
        MemoryKind.POSTED: 1.0,
        MemoryKind.SAID: 0.8,
        MemoryKind.THOUGHT: 0.5,
        MemoryKind.LIKED: 0.4,
    }

    def worth(pair: tuple[int, Memory]) -> tuple[float, int]:
        key, memory = pair
        fresh = recency(memory.at, now, half_life_days=half_life_days)
        return (weight[memory.kind] * fresh, key)

    ranked = sorted(kept, key=worth)
    return [key for key, _ in ranked[: len(kept) - keep]]


# Of a published text an echo names, the start kept and quoted.
QUOTED = 60


@dataclass(frozen=True, slots=True)
class Echo:
    """A draft too close to something already published: how close, and the start of
    the published text (``QUOTED`` characters, what a refusal quotes)."""

    similarity: float
    text: str


def echo_of(
    draft: Vector, published: Sequence[tuple[str, Vector]], *, threshold: float
) -> Echo | None:
    """The published text closest to ``draft`` if its cosine reaches ``threshold``."""
    if not published or threshold > 1.0:
        return None
    matrix = np.stack([vector for _, vector in published])
    scores = matrix @ draft
    best = int(np.argmax(scores))
    score = float(scores[best])
    return Echo(score, published[best][0]) if score >= threshold else None


def bounded(text: str, limit: int) -> str:
    """The text on one line, cut to ``limit`` characters (with an ellipsis when cut)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: max(1, limit - 1)].rstrip() + "…"


# A post's text as it is embedded, remembered and compared: bounded, a hostile post costs
# the embedder no more than an ordinary one.
POST_TEXT_CHARS = 600


def post_text(title: str, description: str) -> str:
    """A post as embedded, remembered and compared: its caption, then its description.
    One spelling for the post's writer and for every reader of the feed, so that the
    vector stored when it was written is the one its readers look up."""
    return (f"{title}. {description}" if description else title)[:POST_TEXT_CHARS]


def text_digest(text: str) -> str:
    """A short, stable digest of a text (32 hex digits): which text a vector was made of."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
