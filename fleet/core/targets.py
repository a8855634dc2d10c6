"""Which post an agent engages with: pure choice over what the feeds show it."""

from __future__ import annotations

import random
from dataclasses import replace

from fleet.core.holdout import Spared
from fleet.core.taste import Candidate, Weights, Welcome, draw, draw_or_pass

__all__ = ["Candidate", "choose_target"]


def choose_target(
    candidates: list[Candidate],
    *,
    me: str,
    already: set[str],
    recent_bot_engagements: dict[str, int],
    cap_per_hour: int,
    human_share: float,
    rng: random.Random,
    taste: Weights | None = None,
    welcome: Welcome | None = None,
    kind: str = "like",
    spared: Spared | None = None,
) -> Candidate | None:
    """A post that is not the agent's own, not engaged with before, and not over the cap.

    With probability ``human_share`` a human's post is preferred when there is one.
    Among the posts left, ``taste`` ranks them (``fleet.core.taste``); without it the
    choice is uniform (a reply answers any open comment alike). With taste, people's
    posts come first by its ``person`` term instead, and ``welcome`` keeps a person's
    post within its budget for ``kind``; a like goes first (``courtesy`` of the time) to a
    post by a person the agent answered, then to a person's post nobody has liked yet
    that the agent's persona fits (``Welcome.first_like``). A person ``spared`` spares
    (held out of the impact experiment, or opted out) is never a target.
    """
    open_posts = [
        c
        for c in candidates
        if c.author != me
        and c.post_id not in already
        and recent_bot_engagements.get(c.post_id, 0) < cap_per_hour
        and (welcome is None or welcome.open(c, kind))
        and (spared is None or c.author_is_agent or not spared.spares(c.author_id))
    ]
    if not open_posts:
        return None
    owed = _liked_back(open_posts, taste, rng) if taste is not None and kind == "like" else None
    if owed is not None:
        return owed
    newcomers = [] if welcome is None else _newcomers(open_posts, welcome, kind)
    open_posts = newcomers or open_posts
    if taste is not None:
        if welcome is not None:
            open_posts = _welcomed(open_posts, welcome, kind)
        if kind == "comment":  # a comment keeps up a relationship: ties weigh more
            taste = replace(taste, tie=taste.comment_tie)
        # A like may pass the page over (``draw_or_pass``), but not a newcomer's post.
        pick = draw_or_pass if kind == "like" and not newcomers else draw
        return pick(open_posts, taste, rng, page=candidates)
    return _people_first(open_posts, human_share, rng)


def _liked_back(
    open_posts: list[Candidate], taste: Weights, rng: random.Random
) -> Candidate | None:
    """A person whose comment the agent answered (a person's tie), liked back first at
    the ``courtesy`` of the time: they came to the agent, it returns the attention,
    whatever its taste. None: no one this time."""
    owed = [c for c in open_posts if not c.author_is_agent and c.ties > 0]
    if owed and rng.random() < taste.courtesy:
        return max(owed, key=lambda c: (c.ties, -c.age_seconds, c.post_id))
    return None


def _people_first(open_posts: list[Candidate], human_share: float, rng: random.Random) -> Candidate:
    """Without taste: a person's post with probability ``human_share`` (when there is
    one), else an agent's, uniformly."""
    humans = [c for c in open_posts if not c.author_is_agent]
    bots = [c for c in open_posts if c.author_is_agent]
    pool = humans if humans and (not bots or rng.random() < human_share) else bots
    return rng.choice(pool)


def _newcomers(open_posts: list[Candidate], welcome: Welcome, kind: str) -> list[Candidate]:
    """The posts of newcomers the ``welcome`` puts first for ``kind``: for a comment, a
    person's post nobody has answered yet (a newcomer is never left without a word); for a
    like, a person's post nobody has liked yet that the agent's persona fits (the nearest
    personas to its subject: a newcomer waits for no hit). Empty: none waits."""
    if kind == "comment":
        return [c for c in open_posts if welcome.awaits_greeting(c)]
    if kind == "like":
        return [c for c in open_posts if welcome.awaits_first_like(c)]
    return []


def _welcomed(open_posts: list[Candidate], welcome: Welcome, kind: str) -> list[Candidate]:
    """People's posts with what their welcome leaves for ``kind``. A comment on a person's
    post is a welcome more than a matter of taste: any agent may give it whole (its budget
    keeps it to a few); a like goes by fit. (Only people's posts have a welcome: an
    agent's is left as it is.)"""
    return [
        c
        if c.author_is_agent
        else replace(c, welcome_left=welcome.left(c, kind), kindred=c.kindred or kind == "comment")
        for c in open_posts
    ]
