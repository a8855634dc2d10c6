"""The rule-based proofreader flags what the offline writer used to write, and passes
good English."""

from __future__ import annotations

import pytest

from fleet.content.offline.proofread import lexicon, problems
from fleet.core.wording import Form
from tests.content.conftest import CATALOGUE

LEXICON = lexicon(CATALOGUE)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        # Written by the offline writer before typed slots (issue 20).
        ("Pixels from on a slow Sunday: a frog bard.", "part of speech"),
        ("How did you get the clean to look like that?", "part of speech"),
        ("Oh, the plotted honestly works so well here.", "part of speech"),
        ("The coffee prices sits on a slope chart.", "agreement"),
        ("Honestly, does the fonts hold up at larger text sizes?", "agreement"),
        ("Wow, the fonts is so strange and so good.", "agreement"),
        ("I want to explore that recycling rates in a game.", "determiner"),
        ("Obsessed with the blacksmith after, not even kidding.", "empty"),
        ("Drawn as a infographic with a warm earth scale.", "article"),
        ("An user flow.", "article"),
        ("Made as a pixel art.", "determiner"),
        ("Drawn as heatmap.", "part of speech"),
        ("The giveaway post post is live.", "doubled"),
        ("The {kw} is lovely.", "empty"),
        ("The cat is lovely. the dog too.", "capital"),
        ("Lighthouse of bones, the 2th variation.", "ordinal"),
        ("The pixel cat is lovely", "punctuation"),
    ],
)
def test_the_proofreader_flags_a_grammar_mistake(text: str, rule: str) -> None:
    assert any(found.startswith(rule) for found in problems(text, LEXICON)), problems(text, LEXICON)


@pytest.mark.parametrize(
    "text",
    [
        "Those coffee prices are great, and the light on them is soft.",
        "Do the coffee prices by city hold up at larger text sizes?",
        "An hour-long timelapse, a user flow, an 8-bit sprite and a UX review.",
        "A bold before and after in neon gradients.",
        "What small multiples show about rainfall over ten years.",
        "The contrast around the museum visits is very well judged.",
        "Spent a while on typography this morning, and it took a few tries.",
        "Oh, the frog bard almost seems to breathe. Keep going! ✨ #PixelArt",
        "Plan A is fine, option A or B.",
        "Made at 3 a.m. in the studio.",
    ],
)
def test_the_proofreader_passes_good_english(text: str) -> None:
    assert problems(text, LEXICON) == []


def test_a_caption_may_end_without_a_full_stop() -> None:
    assert problems("Pixel cat in a night palette", LEXICON, form=Form.HEADLINE) == []
