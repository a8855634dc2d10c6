"""The check of a claim to be human that the guard and the audit share: the words, then
the meaning.

``HumanClaimCheck.claim`` is the word check (``fleet.honesty.human_claim``: patterns in
many languages, read with disguises undone) and, when an embedder its figures were set
for is there, the check by meaning
(``fleet.honesty.claim_meaning``). ``discloses`` holds an identity answer to
the stricter margin: it says the account is automated, names the operator, and claims
nothing human by words or by meaning.
"""

from __future__ import annotations

from dataclasses import dataclass

from fleet.embeddings.port import Embedder
from fleet.honesty.claim_meaning import ClaimMeaning
from fleet.honesty.human_claim import human_claim
from fleet.honesty.truthful_answer import discloses


@dataclass(frozen=True, slots=True)
class HumanClaimCheck:
    """Words, then meaning (None: the words alone, as while the embedder is down)."""

    meaning: ClaimMeaning | None = None

    @classmethod
    def with_embedder(cls, embedder: Embedder | None) -> HumanClaimCheck:
        """The check with this embedder's meaning (none unless its model is the one the
        bank was set for)."""
        meaning = ClaimMeaning(embedder)
        return cls(meaning if meaning.active else None)

    def claim(self, text: str, *, strict: bool = False, meaning: bool = True) -> str | None:
        """The words of ``text`` that claim or imply the writer is human, or None.
        ``strict``: an identity answer's margin; ``meaning``: False for the words alone."""
        words = human_claim(text)
        if words is not None or self.meaning is None or not meaning:
            return words
        return self.meaning.claim(text, strict=strict)

    def discloses(self, text: str, operator: str) -> bool:
        """Whether an identity answer tells the truth, held to the stricter check."""
        return discloses(text, operator) and self.claim(text, strict=True) is None
