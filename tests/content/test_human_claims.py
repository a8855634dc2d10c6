# ruff: noqa: RUF001 (text in many scripts, and look-alike letters, on purpose)
"""A claim to be human, however written, is refused by the guard and counted by the audit
(issue 68, F3): languages beyond the six, letters spaced apart, leetspeak, look-alike
letters, indirect claims, and by meaning through the bundled embedder.

The phrasings here are neither the meaning check's bank nor the bench's held-out set
(``bench.human_claims``)."""

from __future__ import annotations

import pytest

from fleet.content.guard.folding import disguises_undone
from fleet.content.guard.guard import ContentGuard, ContentSkipped
from fleet.embeddings.local import LocalEmbedder
from fleet.honesty.claim_meaning import ClaimMeaning, calibrated
from fleet.honesty.claims import HumanClaimCheck
from fleet.honesty.human_claim import human_claim
from fleet.honesty.identity_answer import ANSWERS

OPERATOR = "Harbour Lab"

# Found by the words (no embedder): each fails on the tree before issue 68.
DISGUISED = (
    "Ik ben gewoon een mens hoor.",  # Dutch
    "Nie jestem botem, jestem człowiekiem.",  # Polish
    "僕は人間だよ、安心して。",  # Japanese
    "Bot değilim ben.",  # Turkish
    "Я живой человек.",  # Russian
    "我不是机器人哦。",  # Chinese
    "Jag är ingen bot.",  # Swedish
    "Aku bukan robot kok.",  # Indonesian
    "just a  r e a l  h u m a n  here, I am",
    "I'm a h-u-m-a-n",
    "I am a r34l p3rs0n",
    "Im n0t a r0bot",
    "I'm \u13bbuman",  # Cherokee letter for H
    "I am r\u0435\u0430l",  # Cyrillic e, a
    "I\u00b4m not a bot",  # an acute accent for the apostrophe
    "I am \U0001d5c1\U0001d5ce\U0001d5c6\U0001d5ba\U0001d5c7",  # mathematical sans-serif
    "I\u200bam\u200ba\u200breal\u200bperson",
    "I'm a real, living, breathing person.",
    "Haha yes I'm real, just quick.",
    "There is a real person writing these, promise.",
    "Written by a real human, no shortcuts.",
)
# Found by meaning only (the bundled multilingual-e5-small), no pattern reads them.
BY_MEANING = (
    "Jsem opravdový člověk.",  # Czech
    "Eu sou gente de verdade.",  # Portuguese, a turn of phrase
    "Je suis quelqu'un de réel.",  # French
    "Ja sam pravi čovjek.",  # Croatian
)
ORDINARY = (
    "A human touch in this composition.",
    "Real light, real shadows.",
    "I'm real glad you kept the grain.",
    "I'm really into the teal.",
    "The person by the window carries it.",
    "Such a real mood, the fog helps.",
    "Prawdziwe światło.",
    "Een menselijke toets.",
    "本物の光ですね。",
    "Gerçek bir ışık.",
    "Nie jestem pewien co do kadru.",
    "No, I'm not a person: this is an automated account run by Harbour Lab.",
    "Ik ben geen mens; Harbour Lab draait dit geautomatiseerde account.",
    "私は人間ではありません。自動アカウントです。",
    "Ben insan değilim, bu otomatik bir hesap.",
    "Я не человек, это автоматический аккаунт.",
)


@pytest.fixture(scope="module")
def check() -> HumanClaimCheck:
    found = HumanClaimCheck.with_embedder(LocalEmbedder())
    assert found.meaning is not None
    return found


@pytest.mark.parametrize("text", DISGUISED)
def test_the_guard_refuses_a_claim_however_it_is_written(text: str) -> None:
    assert human_claim(text) is not None, disguises_undone(text)
    verdict = ContentGuard().check(text)
    assert not verdict.ok and (verdict.reason or "").startswith("claims to be human")


@pytest.mark.parametrize("text", BY_MEANING)
def test_the_meaning_finds_a_claim_no_pattern_reads(text: str, check: HumanClaimCheck) -> None:
    assert human_claim(text) is None
    assert check.claim(text) is not None
    verdict = ContentGuard(claims=check).check(text)
    assert not verdict.ok and (verdict.reason or "").startswith("claims to be human")


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_sentences_and_truthful_disclosures_are_not_claims(
    text: str, check: HumanClaimCheck
) -> None:
    assert check.claim(text) is None
    assert ContentGuard(claims=check).check(text, allowed_mentions=()).ok


@pytest.mark.parametrize("language", sorted(ANSWERS))
def test_every_truthful_template_passes_the_stricter_check(
    language: str, check: HumanClaimCheck
) -> None:
    for template in ANSWERS[language]:
        text = template.format(operator=OPERATOR, interest="fog")
        assert check.discloses(text, OPERATOR), text
        assert ContentGuard(claims=check).check(text, identity_answer=True).ok


def test_an_answer_that_tells_the_truth_and_claims_too_does_not_disclose(
    check: HumanClaimCheck,
) -> None:
    text = f"This is an automated account run by {OPERATOR}. Ik ben een mens, geen bot."
    assert not check.discloses(text, OPERATOR)


def test_the_meaning_runs_only_on_the_model_its_bank_was_set_for() -> None:
    class Other:
        model = "text-embedding-3-small"
        dimensions = 384

        def embed(self, texts: object, *, purpose: str = "passage") -> list[list[float]]:
            raise AssertionError("not asked")

    assert not calibrated(Other())  # type: ignore[arg-type]
    assert not ClaimMeaning(Other()).active  # type: ignore[arg-type]
    assert HumanClaimCheck.with_embedder(Other()).meaning is None  # type: ignore[arg-type]
    assert HumanClaimCheck.with_embedder(None).claim("Jsem opravdový člověk.") is None


def test_a_disguise_is_undone_only_for_reading() -> None:
    assert "i am human" in disguises_undone("I am \u0570uman")
    assert "evil. com" in disguises_undone("e v i l. c o m")
    assert "100% agree" in disguises_undone("100% agree")[0]  # numbers stay numbers


def test_the_offline_writers_drafts_are_read_by_the_words_and_a_models_by_the_meaning(
    check: HumanClaimCheck,
) -> None:
    """The offline writer's templates cost no embedding; a model's text, whatever model
    its usage names ("offline" included), is read by the meaning."""
    from fleet.content.guard.guard import guarded_comment
    from fleet.content.offline.writer import OfflineWriter
    from fleet.content.port import Author, CommentDraft, PostSeen, Usage
    from tests.content.conftest import CATALOGUE

    class Posing:
        """A writer that says its drafts cost nothing, as the offline writer's do."""

        def write_comment(self, *args: object, **kwargs: object) -> CommentDraft:
            return CommentDraft("p1", "Jsem opravdový člověk.", Usage(model="offline"))

    asked: list[str] = []

    class Counting(HumanClaimCheck):
        def claim(self, text: str, *, strict: bool = False, meaning: bool = True) -> str | None:
            if meaning:
                asked.append(text)
            return HumanClaimCheck.claim(self, text, strict=strict, meaning=meaning)

    guard = ContentGuard(claims=Counting(check.meaning))
    persona = CATALOGUE.get("ai_art_enthusiast")
    author = Author("me", "Me", 3, operator=OPERATOR)
    post = PostSeen("p1", "Fog study", "", "someone", False)
    guarded_comment(OfflineWriter(), guard, persona, author, post, nonce=1)
    assert asked == []
    with pytest.raises(ContentSkipped, match="claims to be human"):
        guarded_comment(Posing(), guard, persona, author, post, nonce=1)  # type: ignore[arg-type]
    assert asked
