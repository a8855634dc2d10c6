"""PageTaste: what a page's choices share is made once a page, and chooses the same.

``choose_target`` has one path: a caller's ``PageTaste`` or one made for the choice. The
oracle below is the per-choice path it had before the page's values were shared (at
159e4ea), kept here to say that sharing them changed no choice."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from fleet.core import target_choice as choice_module
from fleet.core import taste as taste_module
from fleet.core.target_choice import PageTaste, choose_target
from fleet.core.taste import (
    Candidate,
    PageFit,
    Weights,
    Welcome,
    draw,
    draw_or_pass,
    seen,
)
from fleet.impact.holdout import Spared


def _oracle(
    candidates: list[Candidate],
    *,
    me: str,
    already: set[str],
    recent_bot_engagements: dict[str, int],
    cap_per_hour: int,
    human_share: float,
    rng: random.Random,
    taste: Weights | None,
    welcome: Welcome | None,
    kind: str,
    spared: Spared | None,
) -> Candidate | None:
    """The choice made post by post, nothing shared (``choose_target`` before PageTaste)."""
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
    liked_back = _liked_back
    owed = liked_back(open_posts, taste, rng) if taste is not None and kind == "like" else None
    if owed is not None:
        return owed
    newcomers = [] if welcome is None else _newcomers(open_posts, welcome, kind)
    open_posts = newcomers or open_posts
    if taste is not None:
        if welcome is not None:
            open_posts = _welcomed(open_posts, welcome, kind)
        if kind == "comment":
            taste = replace(taste, tie=taste.comment_tie)
        pick = draw_or_pass if kind == "like" and not newcomers else draw
        return pick(open_posts, taste, rng, page=candidates)
    return choice_module._people_first(open_posts, human_share, rng)


def _liked_back(
    open_posts: list[Candidate], taste: Weights, rng: random.Random
) -> Candidate | None:
    """A person the agent answered, liked back first at the ``courtesy`` of the time."""
    owed = [c for c in open_posts if not c.author_is_agent and c.ties > 0]
    if owed and rng.random() < taste.courtesy:
        return max(owed, key=lambda c: (c.ties, -c.age_seconds, c.post_id))
    return None


def _newcomers(open_posts: list[Candidate], welcome: Welcome, kind: str) -> list[Candidate]:
    """The posts a newcomer's welcome puts first, post by post (before PageTaste)."""
    if kind == "comment":
        return [c for c in open_posts if welcome.awaits_greeting(c)]
    if kind == "like":
        return [c for c in open_posts if welcome.awaits_first_like(c)]
    return []


def _welcomed(open_posts: list[Candidate], welcome: Welcome, kind: str) -> list[Candidate]:
    """People's posts with what their welcome leaves for ``kind``, post by post."""
    return [
        c
        if c.author_is_agent
        else replace(c, welcome_left=welcome.left(c, kind), kindred=c.kindred or kind == "comment")
        for c in open_posts
    ]


def _page(rng: random.Random, size: int = 40) -> list[Candidate]:
    """A page of agents' and people's posts of every kind the choice tells apart."""
    page = []
    for i in range(size):
        person = rng.random() < 0.5
        page.append(
            Candidate(
                f"p{i}",
                f"{'person' if person else 'agent'}{rng.randrange(12)}",
                not person,
                likes=rng.choice([0, 0, 1, 3, 9, 20]),
                comments=rng.choice([0, 0, 1, 4]),
                age_seconds=rng.choice([60.0, 900.0, 4000.0, 30000.0, 200000.0]),
                similarity=None if rng.random() < 0.1 else rng.uniform(0.7, 0.9),
                kindred=rng.random() < 0.3,
                places=(rng.randrange(size), None if rng.random() < 0.5 else rng.randrange(size)),
                appeal=rng.gauss(0, 1),
                author_id=f"u{rng.randrange(12)}",
            )
        )
    return page


def _ties(rng: random.Random, page: list[Candidate]) -> dict[str, int]:
    return {c.author: rng.randrange(1, 4) for c in rng.sample(page, 4)}


def _tied(candidates: list[Candidate], ties: dict[str, int]) -> list[Candidate]:
    return [replace(c, ties=ties[c.author]) if c.author in ties else c for c in candidates]


@pytest.mark.parametrize("kind", ["like", "comment"])
@pytest.mark.parametrize("ranked", [True, False])
def test_a_choice_on_the_page_taste_is_the_choice_without_it(kind: str, ranked: bool) -> None:
    weights = Weights() if ranked else None
    welcome = Welcome()
    spared = Spared("impact", 0.0, opted_out=frozenset({"u3"}))
    differing = 0
    for seed in range(150):
        rng = random.Random(seed)
        page = _page(rng)
        ties = _ties(rng, page)
        # Consent leaves some out for some agents: the page's fit is then not theirs.
        kept = [c for c in _tied(page, ties) if seed % 3 or c.author != "person1"]
        shared = PageTaste(page, kind=kind, taste=weights, welcome=welcome, spared=spared)
        on_page = [c for c in _tied(shared.candidates, ties) if seed % 3 or c.author != "person1"]
        already = {f"p{i}" for i in rng.sample(range(40), 5)}
        recent = {f"p{i}": 2 for i in rng.sample(range(40), 5)}
        args = {
            "me": "agent1",
            "already": already,
            "recent_bot_engagements": recent,
            "cap_per_hour": 2,
            "human_share": 0.7,
            "taste": weights,
            "welcome": welcome,
            "kind": kind,
            "spared": spared,
        }
        without = _oracle(kept, rng=random.Random(seed), **args)  # type: ignore[arg-type]
        made_here = choose_target(kept, rng=random.Random(seed), **args)  # type: ignore[arg-type]
        assert (without and without.post_id) == (made_here and made_here.post_id), seed
        with_page = choose_target(
            on_page,
            rng=random.Random(seed),
            page=shared,
            **args,  # type: ignore[arg-type]
        )
        assert (without and without.post_id) == (with_page and with_page.post_id), seed
        differing += without is not None
    assert differing > 100  # the pages gave choices to compare, not only Nones


class _CountingWelcome(Welcome):
    calls = 0

    def open(self, candidate: Candidate, kind: str) -> bool:
        type(self).calls += 1
        return Welcome.open(self, candidate, kind)

    def left(self, candidate: Candidate, kind: str) -> float:
        type(self).calls += 1
        return Welcome.left(self, candidate, kind)


def test_the_page_values_are_made_once_a_page_not_at_each_choice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[int] = []
    of = PageFit.of.__func__  # type: ignore[attr-defined]

    def counted(cls: type[PageFit], page: list[Candidate]) -> PageFit:
        made.append(len(page))
        return of(cls, page)  # type: ignore[no-any-return]

    monkeypatch.setattr(taste_module.PageFit, "of", classmethod(counted))
    welcome = _CountingWelcome()
    page = _page(random.Random(7))
    shared = PageTaste(page, kind="like", taste=Weights(), welcome=welcome, spared=None)
    after_page = _CountingWelcome.calls
    assert after_page >= len(page)  # each post's welcome, once
    chosen = set()
    for agent in range(20):
        pick = choose_target(
            shared.candidates,
            me=f"agent{agent}",
            already=set(),
            recent_bot_engagements={},
            cap_per_hour=5,
            human_share=0.7,
            rng=random.Random(agent),
            taste=Weights(explore=0.0),
            welcome=welcome,
            page=shared,
        )
        chosen.add(pick and pick.post_id)
    assert _CountingWelcome.calls == after_page  # no welcome asked again by a choice
    assert made == [len(page)]  # the page's fit, made once for the twenty
    assert chosen != {None}  # choices were made on the page


def test_a_look_on_the_page_feeds_sees_what_a_look_without_them_sees() -> None:
    for seed in range(300):
        rng = random.Random(seed)
        page = _page(rng)  # places drawn with repeats: ties go by the page's order
        shared = PageTaste(page, kind="like", taste=Weights(), welcome=None, spared=None)
        some = [c for c in _tied(page, _ties(rng, page)) if rng.random() < 0.6]
        scroll = rng.choice([1.0, 2.0, 4.0, 12.0])
        without = seen(some, scroll, random.Random(seed))
        assert seen(some, scroll, random.Random(seed), shared.feeds) == without, seed
