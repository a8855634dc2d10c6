"""Does a comment ask what the agent is? The keyword pre-check, then the embedder (the
bundled multilingual-e5-small, offline) against a bank of examples (issue 48).

The phrasings asked here are none of the banks' examples: most hold no keyword the
pre-check knows, so only the embedder's match can find them."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from fleet.core.vectors import Vector
from fleet.embeddings.local import LocalEmbedder
from fleet.embeddings.port import EmbeddingUnavailable, Purpose
from fleet.honesty.identity_intent import ASKING, IdentityIntent

INDIRECT = (
    "Somebody is on the other end of these replies, yes?",
    "Be straight with me: human or AI?",
    "Is this one of those automated accounts?",
    "Honest question: flesh and blood, or software, on your end?",
    "Do you ever sleep? You reply at all hours, almost like a program would.",
    "¿Esta cuenta la lleva una empresa o una persona?",
    "Qui se cache derrière ce profil ?",
    "Ces réponses sont écrites par un programme ?",
    "Ist dieser Account ein Mensch aus Fleisch und Blut?",
)
ABOUT_THE_WORK = (
    "What model did you use? The hands look great.",
    "Is this AI art? Looks amazing",
    "Are these prints for sale?",
    "Did you use Midjourney or Stable Diffusion?",
    "Is that a real lighthouse?",
    "The robot in this scene is adorable",
    "Who is the artist that inspired this?",
    "Was this generated or painted?",
    "C'est magnifique, quel prompt ?",
    "Wie lange hast du dafür gebraucht?",
)


@pytest.fixture(scope="module")
def intent() -> IdentityIntent:
    return IdentityIntent(LocalEmbedder())


@pytest.mark.parametrize("text", INDIRECT)
def test_the_embedder_finds_a_question_no_keyword_names(intent: IdentityIntent, text: str) -> None:
    assert text not in {example for _, example in ASKING}
    found = intent.check(text)
    assert found.asks, (text, found)


def test_the_indirect_phrasings_hold_mostly_no_keyword(intent: IdentityIntent) -> None:
    """So the test above measures the embedder, not the keywords."""
    by_meaning = [intent.check(text).how for text in INDIRECT]
    assert by_meaning.count("meaning") >= 7


@pytest.mark.parametrize("text", ABOUT_THE_WORK)
def test_a_question_about_the_work_is_not_taken_for_one(intent: IdentityIntent, text: str) -> None:
    assert not intent.asks(text)


class Counting:
    """An embedder that counts its calls, on the real model, or fails on demand."""

    def __init__(self, *, fail: bool = False) -> None:
        self.inner = LocalEmbedder()
        self.calls = 0
        self.fail = fail

    @property
    def model(self) -> str:
        return self.inner.model

    @property
    def dimensions(self) -> int:
        return self.inner.dimensions

    def embed(self, texts: Sequence[str], *, purpose: Purpose = "passage") -> list[Vector]:
        self.calls += 1
        if self.fail:
            raise EmbeddingUnavailable("down")
        return self.inner.embed(texts, purpose=purpose)


def test_a_comment_is_embedded_once_and_a_keyword_match_embeds_nothing() -> None:
    embedder = Counting()
    intent = IdentityIntent(embedder)
    assert intent.check("are you a bot?").how == "words"
    assert embedder.calls == 0, "the pre-check answered"
    text = INDIRECT[0]
    assert intent.asks(text) and intent.asks(text)
    assert embedder.calls == 2, "the banks once, the comment once"


def test_without_an_embedder_or_with_one_down_the_keywords_answer_alone() -> None:
    for intent in (IdentityIntent(None), IdentityIntent(Counting(fail=True))):
        assert intent.asks("Bist du ein Bot?")
        assert not intent.asks(INDIRECT[0])
        assert not intent.asks("")


def test_a_question_found_by_meaning_takes_the_language_of_its_closest_example(
    intent: IdentityIntent,
) -> None:
    """So the offline answer is written in it (``fleet.honesty.identity_answer``)."""
    found = intent.check("¿Esta cuenta la lleva una empresa o una persona?")
    assert (found.asks, found.how, found.language) == (True, "meaning", "es")
    assert intent.check("Bist du ein Bot?").language == "de"


def test_the_held_out_phrasings_are_kept_apart_from_the_banks() -> None:
    """bench/data/identity_heldout.json measures the check (issue 67): none of its
    phrasings may be one of the banks' (or of the development set's) examples."""
    import json
    from pathlib import Path

    from fleet.honesty.identity_intent import ASKING, NOT_ASKING

    data = Path(__file__).resolve().parents[2] / "bench" / "data"
    held = json.loads((data / "identity_heldout.json").read_text(encoding="utf-8"))
    dev = json.loads((data / "identity_dev.json").read_text(encoding="utf-8"))

    def norm(text: str) -> str:
        return " ".join(text.lower().split())

    held_out = {norm(t) for _, t in held["asking"]} | {norm(t) for t in held["ordinary"]}
    banks = {norm(t) for _, t in ASKING} | {norm(t) for t in NOT_ASKING}
    developed = {norm(t) for _, t in dev["asking"]} | {norm(t) for t in dev["ordinary"]}
    assert not held_out & banks
    assert not held_out & developed
    assert len(held["asking"]) >= 40 and len({lang for lang, _ in held["asking"]}) >= 8
    assert len(held["ordinary"]) >= 40
