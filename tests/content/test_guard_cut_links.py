"""Round 4's R13, the rest (issue 68): a domain written letter by letter, one whose dot is
a bullet or a middle dot, and the fragment a link leaves where it was cut are refused."""

from __future__ import annotations

import pytest

from fleet.content.domains import find_domain
from fleet.content.guard.guard import ContentGuard
from fleet.content.sanitise import sanitise

GUARD = ContentGuard()


@pytest.mark.parametrize(
    ("text", "domain"),
    [
        ("more on e v i l. c o m", "evil.com"),
        ("more on e v i l . c o m today", "evil.com"),
        ("see p r i z e . i c u", "prize.icu"),
        ("go to e-v-i-l.c-o-m", "evil.com"),
        ("more on evil•com", "evil.com"),
        ("more on evil·com", "evil.com"),
        ("more on evil\u30fbcom", "evil.com"),  # katakana middle dot
        ("more on evil\u3002com", "evil.com"),  # ideographic full stop
    ],
)
def test_a_domain_spaced_out_or_dotted_with_a_bullet_is_refused(text: str, domain: str) -> None:
    verdict = GUARD.check(text)
    assert not verdict.ok and verdict.reason == f"contains a link ({domain!r})", verdict


@pytest.mark.parametrize(
    "text",
    [
        "Nice work, [click]",
        "Nice work, [click here]",
        "Grab it here: [link]()",
        "Prints at () soon",
        "Nice work, click here",
        "Nice work, tap here!",
    ],
)
def test_the_fragment_of_a_cut_link_is_refused(text: str) -> None:
    verdict = GUARD.check(text)
    assert not verdict.ok, verdict


def test_a_link_the_sanitiser_cut_leaves_nothing_the_guard_publishes() -> None:
    cut = sanitise("Nice work, [click](https://evil.example/x)", limit=200)
    assert not GUARD.check(cut).ok, cut


@pytest.mark.parametrize(
    "text",
    [
        "A B C of colour: the teal first",
        "Lovely • calm • blue",
        "Warm light · soft shadows",
        "So nice. Me too!",
        "I like it. Co-op games need art like this.",
        "The link is on my profile.",
        "Score: 9 / 10, the fog is a t h i n veil",
        "Love the grain (and the teal).",
        "x y z axes in the corner, fun detail",
    ],
)
def test_ordinary_text_with_bullets_spaced_letters_and_brackets_is_accepted(text: str) -> None:
    verdict = GUARD.check(text)
    assert verdict.ok, verdict.reason
    assert find_domain(text) is None
