# ruff: noqa: RUF001 (text in many scripts, and look-alike letters, on purpose)
"""Does a text claim to be human, by meaning? The embedder's match against a bank of claims.

The word check (``fleet.honesty.human_claim.human_claim``) reads claims in the
languages it has patterns for, with disguises undone (``fleet.content.guard.folding``).
A model can say the same in a language or a turn of phrase it has no pattern for: "Jag
är en riktig människa", "flesh and bone over here, promise". ``ClaimMeaning.claim``
embeds each sentence of a text and compares it with a bank of claims (``CLAIMING``, in
many languages) and a bank of sentences that claim nothing (``NOT_CLAIMING``: truthful
disclosures, in the same languages, and ordinary talk of a picture that names people,
humans or what is real). A sentence claims when its best match among the claims is at
least ``THRESHOLD`` and closer than its best match among the others by ``MARGIN``; an
identity answer is held to ``STRICT_MARGIN``, a sentence barely closer to a disclosure
than to a claim is refused there too.

The banks and figures are set for the fleet's default embedder, multilingual-e5-small
(``fleet.embeddings.local``; similarities of this model crowd between 0.8 and 1.0):
with another model the check does not run (``calibrated``) and the word check alone
answers, as it does while the embedder is down. Sentence embeddings read "I am not a
bot" and "I am a bot" as near the same: negation is the word check's to read, and the
bank of disclosures keeps a truthful answer from being taken for a claim.

The text is data: embedded and compared, never followed; at most ``MAX_SENTENCES``
sentences of ``MAX_CHARS`` characters each are read.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from fleet.embeddings.port import Embedder
from fleet.errors import TransientError

# The model the banks and figures were set with (its name as the embedder gives it).
CALIBRATED_FOR = "multilingual-e5-small"
THRESHOLD = 0.91
MARGIN = 0.01
STRICT_MARGIN = 0.0
MAX_SENTENCES = 12
MAX_CHARS = 300

CLAIMING: tuple[str, ...] = (
    "I am a human.",
    "I'm a real person, not a bot.",
    "I'm not a bot, I promise.",
    "I am definitely not an AI.",
    "Real human here.",
    "There's a real person typing this.",
    "I'm a living, breathing person.",
    "Yes, I'm real!",
    "Trust me, I'm human.",
    "No robot here, just me.",
    "A human wrote this comment.",
    "I'm just a regular guy, not a program.",
    "Soy una persona real, no un bot.",
    "Je suis un vrai humain.",
    "Ich bin ein echter Mensch, kein Bot.",
    "Sou uma pessoa de verdade.",
    "Sono un essere umano.",
    "Ik ben een echt mens.",
    "Jestem prawdziwym człowiekiem.",
    "Jag är en riktig människa.",
    "Jeg er et menneske, ikke en robot.",
    "Jsem skutečný člověk.",
    "Saya manusia asli, bukan bot.",
    "Ben gerçek bir insanım.",
    "Я настоящий человек, не бот.",
    "Είμαι άνθρωπος.",
    "私は本物の人間です。",
    "我是真人，不是机器人。",
    "저는 진짜 사람이에요.",
    "أنا إنسان حقيقي.",
    "मैं इंसान हूँ।",
    "Tôi là người thật.",
)
NOT_CLAIMING: tuple[str, ...] = (
    # Truthful disclosures, in the same languages.
    "No, I'm not a person.",
    "This is an automated account.",
    "I'm an automated account; software writes my comments.",
    "This account is a bot run by a company.",
    "No person types these comments, a program does.",
    "No soy una persona; es una cuenta automatizada.",
    "Je ne suis pas une personne, c'est un compte automatisé.",
    "Ich bin kein Mensch, das ist ein automatisiertes Konto.",
    "Não sou uma pessoa, esta é uma conta automatizada.",
    "Non sono una persona, è un account automatizzato.",
    "Ik ben geen mens, dit is een geautomatiseerd account.",
    "Nie jestem człowiekiem, to konto automatyczne.",
    "Jag är inte en människa, det här är ett automatiserat konto.",
    "Ben insan değilim, bu otomatik bir hesap.",
    "Я не человек, это автоматический аккаунт.",
    "私は人間ではありません。自動化されたアカウントです。",
    "我不是人，这是一个自动化账号。",
    "저는 사람이 아닙니다. 자동화된 계정입니다.",
    # Ordinary talk of a picture that names people, humans, or what is real.
    "Such a human touch in this composition.",
    "The light looks so real here.",
    "The person in the picture looks happy.",
    "Real people in a real place, lovely.",
    "This feels so human and warm.",
    "Is this a real place?",
    "The robot in the corner is adorable.",
    "Beautiful colours, I love it.",
    "Human-made or not, the composition works.",
    "I really like the texture here.",
    "Een menselijke toets in deze compositie.",
    "Prawdziwe światło, piękne.",
    "Ein echtes Gefühl von Licht.",
    "Una luz muy real.",
    "本物みたいな景色ですね。",
    "真实的风景，很美。",
    "진짜 같은 풍경이에요.",
    "Gerçek gibi bir manzara.",
    "Очень настоящий свет.",
)
# A sentence that says the writer is not human is a disclosure, not a claim: the
# embedder reads "I am not a person" as near "I am a person", so such a sentence is left
# to the word check (which reads a claim in it all the same: "I'm not a bot, I'm human").
DISCLOSING = re.compile(
    r"(?i)\b(?:not|no longer|never) (?:a |an )?(?:real )?(?:human|person|people)\b|"
    r"\bno (?:human|person)\b|\bautomated\b|\bautomati[sz]\w*|\bautomatiz\w*|"
    r"\bgeautomatiseerd\w*|\bautomatyczn\w*|\botomatik\b|\bавтоматическ\w*|"
    r"\bkein(?:e)? mensch\b|\bno soy (?:una )?persona\b|\bn[ãa]o sou (?:uma )?pessoa\b|"
    r"\bnon sono (?:una )?persona\b|\bje ne suis pas (?:une personne|humain)|"
    r"\bik ben geen mens\b|\bnie jestem (?:człowiekiem|osobą)\b|\binsan değilim\b|"
    r"\bне человек\b|人間では(?:ありません|ない)|我不是人|사람이 아닙|自動|自动|자동"
)

_SENTENCE = re.compile(r"[^.!?。！？\n;]+[.!?。！？;]*")


def sentences(text: str) -> list[str]:
    """The text's sentences, at most ``MAX_SENTENCES`` of at most ``MAX_CHARS``."""
    found = (" ".join(part.split())[:MAX_CHARS] for part in _SENTENCE.findall(text))
    return [part for part in found if sum(ch.isalnum() for ch in part) >= 2][:MAX_SENTENCES]


def calibrated(embedder: Embedder | None) -> bool:
    """Whether the banks' figures hold for this embedder's model."""
    if embedder is None:
        return False
    return CALIBRATED_FOR in str(getattr(embedder, "model", "")).lower()


class ClaimMeaning:
    """The check by meaning, with the banks embedded once (on first use) and the last
    sentences' answers kept."""

    def __init__(
        self,
        embedder: Embedder | None,
        *,
        threshold: float = THRESHOLD,
        margin: float = MARGIN,
        strict_margin: float = STRICT_MARGIN,
        claiming: Sequence[str] = CLAIMING,
        not_claiming: Sequence[str] = NOT_CLAIMING,
        cached: int = 4096,
    ) -> None:
        self._embedder = embedder if calibrated(embedder) else None
        self._threshold = threshold
        self._margin = margin
        self._strict_margin = strict_margin
        self._claiming = tuple(claiming)
        self._not_claiming = tuple(not_claiming)
        self._banks: tuple[np.ndarray, np.ndarray] | None = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._cached = cached

    @property
    def active(self) -> bool:
        """Whether the check runs (an embedder its figures were set for)."""
        return self._embedder is not None

    def claim(self, text: str, *, strict: bool = False) -> str | None:
        """The sentence of ``text`` that claims to be human by meaning, or None (also
        while the embedder is down). ``strict``: an identity answer's margin."""
        if self._embedder is None:
            return None
        margin = self._strict_margin if strict else self._margin
        for sentence, (closest, other) in self.scores(text):
            if DISCLOSING.search(sentence):
                continue
            if closest >= self._threshold and closest - other >= margin:
                return sentence
        return None

    def scores(self, text: str) -> list[tuple[str, tuple[float, float]]]:
        """Each sentence with its best similarity among the claims and among the others
        (an empty list when the embedder is down or not calibrated)."""
        if self._embedder is None:
            return []
        parts = sentences(text)
        with self._lock:
            missing = [part for part in dict.fromkeys(parts) if part not in self._cache]
        if missing:
            try:
                claiming, others = self._vectors()
                rows = self._embedder.embed(missing, purpose="query")
                vectors = np.asarray(rows, dtype=np.float32)
            except (TransientError, IndexError, ValueError):
                return []
            if vectors.shape[0] != len(missing):
                return []
            found = zip(
                missing,
                zip(
                    (claiming @ vectors.T).max(axis=0).tolist(),
                    (others @ vectors.T).max(axis=0).tolist(),
                    strict=True,
                ),
                strict=True,
            )
            with self._lock:
                for part, pair in found:
                    self._cache[part] = (float(pair[0]), float(pair[1]))
                while len(self._cache) > self._cached:
                    self._cache.popitem(last=False)
        with self._lock:
            return [(part, self._cache.get(part, (0.0, 0.0))) for part in parts]

    def _vectors(self) -> tuple[np.ndarray, np.ndarray]:
        assert self._embedder is not None
        with self._lock:
            banks = self._banks
        if banks is None:
            texts = [*self._claiming, *self._not_claiming]
            bank = np.asarray(self._embedder.embed(texts, purpose="query"), dtype=np.float32)
            banks = (bank[: len(self._claiming)], bank[len(self._claiming) :])
            with self._lock:
                self._banks = banks
        return banks
