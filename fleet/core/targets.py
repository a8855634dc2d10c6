"""Which post an agent engages with: pure choice over a feed page."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Candidate:
    """A post seen in the feed, as target choice needs it."""

    post_id: str
    author: str
    author_is_agent: bool


def choose_target(
    candidates: list[Candidate],
    *,
    me: str,
    already: set[str],
    recent_bot_engagements: dict[str, int],
    cap_per_hour: int,
    human_share: float,
    rng: random.Random,
) -> Candidate | None:
    """A post that is not the agent's own, not engaged with before, and not over the cap.

    With probability ``human_share`` a human's post is preferred when there is one.
    """
    open_posts = [
        c
        for c in candidates
        if c.author != me
        and c.post_id not in already
        and recent_bot_engagements.get(c.post_id, 0) < cap_per_hour
    ]
    if not open_posts:
        return None
    humans = [c for c in open_posts if not c.author_is_agent]
    bots = [c for c in open_posts if c.author_is_agent]
    if humans and (not bots or rng.random() < human_share):
        return rng.choice(humans)
    return rng.choice(bots)
