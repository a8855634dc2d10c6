"""Memory and vectors as actions use them: recall for the writer, the no-echo check, and
what a succeeded action leaves in the agent's memory.

Embedding never fails an action: with the embedder down (or ``off``) memories are
recalled by recency, the guard checks words only, and memories are kept without vectors.
Likes and thoughts are remembered without a vector, so the cheap kinds embed nothing.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from fleet import agents
from fleet.activities import Claim
from fleet.activities.commands import CarriedOut, Succeeded
from fleet.content.port import PostSeen
from fleet.core.kinds import Action
from fleet.core.memory import (
    Memory,
    MemoryKind,
    bounded,
    echo_of,
    post_text,
    recall,
    text_digest,
)
from fleet.core.vectors import Vector
from fleet.embeddings.degrading import DegradingEmbedder
from fleet.settings import MemorySettings

# Vectors of texts embedded lately (the drafts the guard checked), so that the accepted
# one is stored without being embedded again.
_CACHED = 256


@dataclass
class Recall:
    """The agents' memory behind an embedder (None: no vectors at all)."""

    sessions: sessionmaker[Session]
    settings: MemorySettings
    embedder: DegradingEmbedder | None = None
    _cache: OrderedDict[str, Vector] = field(default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def model(self) -> str | None:
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

    def memories_for(
        self, agent_id: int, *, now: datetime, about: PostSeen | None = None
    ) -> tuple[str, ...]:
        """What the agent remembers that bears on a text about ``about`` (none: a post of
        its own), most relevant first, as lines for the writer."""
        limit = self.settings.recalled
        if limit == 0:
            return ()
        kept = agents.memories_of(
            self.sessions,
            agent_id,
            model=self.model,
            dimensions=self.dimensions,
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
            asked = about.answering.text if about.answering is not None else about.title
            query: Vector | None = None
            if self.embedder is not None:
                query = self.embedder.vector(f"{asked} {about.description}"[:500], purpose="query")
            chosen = recall(
                kept,
                now=now,
                query=query,
                person=about.mentionable[0],
                limit=limit,
                half_life_days=half_life,
            )
        lines = (bounded(memory.line(), self.settings.max_chars) for memory in chosen)
        return tuple(dict.fromkeys(lines))  # a thought had twice is remembered once

    def echo_check(
        self,
        *,
        persona: str,
        now: datetime,
        kind: MemoryKind = MemoryKind.SAID,
        reply: bool = False,
    ) -> Callable[[str], str | None] | None:
        """The no-echo check for drafts of ``kind`` (a post, or a thing said) by an agent
        of ``persona``: a reason to refuse a text too close to one of that kind the fleet
        (or the persona's agents, by ``echo_scope``) published lately, else None. None
        when there are no vectors."""
        threshold = self.settings.reply_echo_similarity if reply else self.settings.echo_similarity
        if self.embedder is None or threshold >= 1.0:
            return None
        model = self.embedder.model
        published: list[list[tuple[str, Vector]]] = []

        def check(text: str) -> str | None:
            draft = self.vector(text)
            if draft is None:
                return None  # degraded: the word-shingle check stands alone
            if not published:
                published.append(
                    agents.published_vectors(
                        self.sessions,
                        persona=persona if self.settings.echo_scope == "persona" else None,
                        since=now - timedelta(days=self.settings.echo_days),
                        model=model,
                        dimensions=self.dimensions or draft.shape[0],
                        limit=self.settings.echo_scan,
                        kinds=(kind,),
                        # A reply is weighed against replies: the newest comments,
                        # many more, would push the older replies out of the scan.
                        replies=reply,
                    )
                )
            echo = echo_of(draft, published[0], threshold=threshold)
            if echo is None:
                return None
            return f"echoes a recent text ({echo.similarity:.2f}): {echo.text[:60]!r}"

        return check

    def remember(self, ended: Sequence[tuple[Claim, CarriedOut]], *, now: datetime) -> int:
        """Keep what these succeeded actions did in their agents' memories (an activity
        remembered already is left as it is); how many memories were new."""
        entries = [
            entry
            for claim, outcome in ended
            if isinstance(outcome, Succeeded)
            for entry in [self._entry(claim, outcome.result or {}, now)]
            if entry is not None
        ]
        self._share_posts(ended, now=now)
        return agents.remember(
            self.sessions,
            entries,
            keep=self.settings.max_per_agent,
            now=now,
            half_life_days=self.settings.half_life_days,
        )

    def _share_posts(self, ended: Sequence[tuple[Claim, CarriedOut]], *, now: datetime) -> None:
        """The vectors of the posts these actions published, stored for every reader of
        the feeds (``agents.post_vectors``): the writer embedded them already."""
        posts = [
            outcome.result
            for claim, outcome in ended
            if isinstance(outcome, Succeeded)
            and Action(claim.action) is Action.POST
            and outcome.result
            and outcome.result.get("post_id")
            and outcome.result.get("title")
        ]
        model = self.model if posts else None  # a like's end asks no embedder anything
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
