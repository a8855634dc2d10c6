from __future__ import annotations

import random
from collections import Counter

from fleet.core.target_choice import choose_target
from fleet.core.taste import Candidate


def _feed() -> list[Candidate]:
    return [
        Candidate("p1", "me", True),
        Candidate("p2", "alice", False),
        Candidate("p3", "bot_a", True),
        Candidate("p4", "bob", False),
        Candidate("p5", "bot_b", True),
    ]


def _choose(**overrides: object) -> Candidate | None:
    options: dict[str, object] = {
        "me": "me",
        "already": set(),
        "recent_bot_engagements": {},
        "cap_per_hour": 3,
        "human_share": 0.5,
        "rng": random.Random(7),
    }
    options.update(overrides)
    return choose_target(_feed(), **options)  # type: ignore[arg-type]


def test_an_agent_never_targets_its_own_post() -> None:
    rng = random.Random(1)
    assert all(_choose(rng=rng).post_id != "p1" for _ in range(200))  # type: ignore[union-attr]


def test_posts_already_engaged_with_or_over_the_cap_are_left_alone() -> None:
    chosen = _choose(already={"p2", "p3"}, recent_bot_engagements={"p4": 3})
    assert chosen is not None and chosen.post_id == "p5"
    assert _choose(already={"p2", "p3", "p4", "p5"}) is None


def test_human_posts_are_preferred_in_the_configured_share() -> None:
    rng = random.Random(3)
    picks = Counter(_choose(rng=rng, human_share=0.8).author_is_agent for _ in range(4000))  # type: ignore[union-attr]
    assert abs(picks[False] / 4000 - 0.8) < 0.03


def test_with_only_bot_posts_left_a_bot_post_is_chosen() -> None:
    chosen = _choose(already={"p2", "p4"}, human_share=1.0)
    assert chosen is not None and chosen.author_is_agent
