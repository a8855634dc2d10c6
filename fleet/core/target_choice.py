"""Target choice: which post an agent engages with, drawn from one page of the feeds. Pure.

``choose_target`` takes the posts open to the agent (not its own, not engaged with
before, under the hourly cap, within the welcome budget, not spared by the holdout) and
picks one: a person it answered first (liked back), then a newcomer waiting, then by
taste (``fleet.core.taste``: the scores and the draw). ``PageTaste`` is what choices of
one kind from one page share, made once a page for a batch's likes.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace
from functools import cached_property

from fleet.core.taste import Candidate, PageFit, Weights, Welcome, draw, draw_or_pass
from fleet.impact.holdout import Spared

__all__ = ["PageTaste", "choose_target"]


class PageTaste:
    """What choosing ``kind`` makes of a page, the same for every agent choosing from it
    (a batch's likes of one persona): made once a page, not at each choice. ``page``: the
    page's candidates, ties aside (they are the agent's); ``spared``: whom the holdout
    spares when it was made (a choice with another ``Spared`` makes its own).

    - ``open``: the posts of the page the fleet may engage with in this way (the welcome
      budget, the holdout), whoever chooses;
    - ``waiting``: those of them a newcomer's welcome puts first;
    - ``candidates``: the page, a person's post with what its welcome leaves for ``kind``
      when taste ranks: what an agent's ties are set on;
    - ``fit``: the page's ``PageFit``, and ``feeds``, its posts on each feed in order
      (for ``seen``), made when first asked.
    """

    def __init__(
        self,
        page: Sequence[Candidate],
        *,
        kind: str,
        taste: Weights | None,
        welcome: Welcome | None,
        spared: Spared | None,
    ) -> None:
        self.page = page
        self.kind = kind
        self.spared = spared
        # One pass over the page makes all three: a made page is every choice's.
        open_posts: set[str] = set()
        waiting: set[str] = set()
        self.candidates: list[Candidate] = []
        for c in page:
            if (welcome is None or welcome.open(c, kind)) and (
                spared is None or c.author_is_agent or not spared.spares(c.author_id)
            ):
                open_posts.add(c.post_id)
                if welcome is None:
                    self.candidates.append(c)
                    continue
                # A newcomer's welcome puts first, for a comment, a person's post nobody
                # has answered yet (a newcomer is never left without a word); for a like,
                # a person's post nobody has liked yet that the agent's persona fits (the
                # nearest personas to its subject: a newcomer waits for no hit).
                if (
                    welcome.awaits_first_like(c)
                    if kind == "like"
                    else kind == "comment" and welcome.awaits_greeting(c)
                ):
                    waiting.add(c.post_id)
                if taste is not None and not c.author_is_agent:
                    # A comment on a person's post is a welcome more than a matter of
                    # taste: any agent may give it whole (its budget keeps it to a few); a
                    # like goes by fit. (Only people's posts have a welcome.)
                    c = replace(
                        c,
                        welcome_left=welcome.left(c, kind),
                        kindred=c.kindred or kind == "comment",
                    )
            self.candidates.append(c)
        self.open = frozenset(open_posts)
        self.waiting = frozenset(waiting)
        self._feeds: tuple[tuple[str, ...], ...] | None = None

    def feeds(self) -> tuple[tuple[str, ...], ...]:
        """The page's post ids on each feed read, in order of place (for ``seen``): made
        once, when first asked."""
        if self._feeds is None:
            count = max((len(c.places) for c in self.page), default=0)
            self._feeds = tuple(
                tuple(
                    self.page[i].post_id
                    for _, i in sorted(  # ties by order, as in ``seen``
                        (c.places[feed], i)
                        for i, c in enumerate(self.page)
                        if feed < len(c.places) and c.places[feed] is not None
                    )
                )
                for feed in range(count)
            )
        return self._feeds

    @cached_property
    def fit(self) -> PageFit:
        """The page's ``PageFit``: made when first asked, then read as the page's own
        (every choice by taste from the page reads it: no call, no check, each time)."""
        return PageFit.of(self.page)


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
    page: PageTaste | None = None,
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

    ``page``: what the page's choices of ``kind`` share (``PageTaste``, made with these
    ``taste``, ``welcome`` and ``spared``), when the caller keeps it for the page's other
    choices: ``candidates`` are then its ``candidates`` (ties set, some left out).
    Without it, one is made of ``candidates`` for this choice: one path either way.
    """
    if page is None:
        page = PageTaste(candidates, kind=kind, taste=taste, welcome=welcome, spared=spared)
        candidates = page.candidates
    kind = page.kind
    # One pass over the candidates: the posts open to the agent, of them those by a person
    # it answered (a person's tie), and those a newcomer's welcome puts first.
    open_posts: list[Candidate] = []
    owed: list[Candidate] = []
    newcomers: list[Candidate] = []
    for c in candidates:
        if (
            c.author == me
            or c.post_id in already
            or recent_bot_engagements.get(c.post_id, 0) >= cap_per_hour
            or c.post_id not in page.open
        ):
            continue
        open_posts.append(c)
        if not c.author_is_agent and c.ties > 0:
            owed.append(c)
        if c.post_id in page.waiting:
            newcomers.append(c)
    if not open_posts:
        return None
    if owed and taste is not None and kind == "like" and rng.random() < taste.courtesy:
        # Liked back first at the ``courtesy`` of the time: they came to the agent, it
        # returns the attention, whatever its taste.
        return max(owed, key=lambda c: (c.ties, -c.age_seconds, c.post_id))
    open_posts = newcomers or open_posts
    if taste is None:
        return _people_first(open_posts, human_share, rng)
    if kind == "comment":  # a comment keeps up a relationship: ties weigh more
        taste = replace(taste, tie=taste.comment_tie)
    # The page's fit is every agent's when no candidate was left out (consent).
    fit = page.fit if len(candidates) == len(page.page) else None
    # A like may pass the page over (``draw_or_pass``), but not a newcomer's post.
    pick = draw_or_pass if kind == "like" and not newcomers else draw
    return pick(open_posts, taste, rng, page=candidates, page_fit=fit, feeds=page.feeds)


def _people_first(open_posts: list[Candidate], human_share: float, rng: random.Random) -> Candidate:
    """Without taste: a person's post with probability ``human_share`` (when there is
    one), else an agent's, uniformly."""
    humans = [c for c in open_posts if not c.author_is_agent]
    bots = [c for c in open_posts if c.author_is_agent]
    pool = humans if humans and (not bots or rng.random() < human_share) else bots
    return rng.choice(pool)
