"""What the fleet must never say, whoever wrote the text (issue 31.11).

A person's title may hold anything ("that scam wallet", "the kill all"), and a writer that
takes up what people say could carry it into a bot's comment. These words and phrases are
refused wherever they come from: the guard checks every text against them, and the
offline writer's reading of a post does not name a thing that holds one. The check reads
words, not patterns: linear in the text, whatever it holds.

Besides the words below (the fleet's own: scams, spam, harm, prompt injection), the
insults, slurs and sexual vocabulary of a maintained list are refused: the word list the
``better-profanity`` package ships (over 900 entries with their common misspellings),
read from its file on first use, offline, without importing the package (whose import
builds a censor of its own: 3 MiB and 140 ms in every process that read the list). Words of that list an image gallery uses innocently ("strip",
"pot", "virgin" olive oil, a "slope" chart, "gay", "queer") are kept sayable
(``INNOCENT``).
"""

from __future__ import annotations

import functools
import importlib.util
import re
from collections.abc import Sequence
from pathlib import Path

from fleet.core.wording import word_set

# Single words, matched whole and case-blind (with simple plural/verb endings).
WORDS = word_set(
    """
    kill kills killing killed murder murders suicide suicidal selfharm rape raped rapist
    nazi nazis hitler genocide terrorist terrorism bomb bombs bombing massacre behead
    scam scams scammer scammers fraud phishing ponzi airdrop
    porn porno nude nudes nsfw onlyfans xxx sexting
    viagra cialis casino gambling betting
    crypto bitcoin btc ethereum nft nfts memecoin
    cocaine heroin meth fentanyl
    slur retard retarded idiot idiots imbecile imbeciles loser losers
    """
)
# Phrases, matched as whole runs of words.
PHRASES = (
    ("seed", "phrase"),
    ("wallet", "address"),
    ("send", "money"),
    ("wire", "transfer"),
    ("free", "money"),
    ("click", "here"),
    ("dm", "me"),
    ("kys",),
    ("self", "harm"),
    ("kill", "yourself"),
    ("end", "every", "reply"),
    ("new", "rule"),
    ("ignore", "previous"),
    ("ignore", "all"),
    ("system", "prompt"),
)
_WORD = re.compile(r"[a-z0-9]+")
# Letters read as the filter must read them (a "k1ll" is a "kill").
_LEET = str.maketrans("013457@$", "oieastas")


# Entries of the maintained list that name innocent things on an image gallery (a comic
# strip, a plant pot, virgin olive oil, a screw, the naked eye) or people (gay, queer):
# refusing them would refuse people's ordinary posts and the fleet's replies to them.
INNOCENT = word_set(
    """strip pot virgin gay queer god hell damn crap drunk rum weed naked nude screw suck
    sucks erect thrust sniper blow kinky knob tit tramp wang fanny cow girl blue waffle
    bloody balls ball nuts hump pawn lesbian homo sex sexy xx kill slope"""
)


def _plain(word: str) -> str:
    # A word of ``_WORD`` that is not all letters has a digit.
    return word if word.isalpha() else word.translate(_LEET)


@functools.cache
def maintained() -> tuple[frozenset[str], tuple[tuple[str, ...], ...]]:
    """The maintained list's words and phrases (``better-profanity``'s word list), the
    innocent ones left out; empty when the package is not installed."""
    # find_spec locates the package without running it.
    spec = importlib.util.find_spec("better_profanity")
    places = list(spec.submodule_search_locations or ()) if spec is not None else []
    try:
        text = (Path(places[0]) / "profanity_wordlist.txt").read_text(encoding="utf-8")
    except (IndexError, FileNotFoundError):  # pragma: no cover - a dependency
        return frozenset(), ()
    words: set[str] = set()
    phrases: set[tuple[str, ...]] = set()
    for line in text.splitlines():
        parts = tuple(_plain(w) for w in _WORD.findall(line.lower()))
        if not parts or (len(parts) == 1 and parts[0] in INNOCENT):
            continue
        if len(parts) == 1:
            words.add(parts[0])
        elif not all(part in INNOCENT for part in parts):
            phrases.add(parts)
    return frozenset(words), tuple(sorted(phrases))


def never_say(text: str) -> str | None:
    """The first word or phrase of ``text`` the fleet must never say, or None."""
    words: list[str] = _WORD.findall(text.lower())
    plain: list[str] = list(map(_plain, words))
    listed, _ = maintained()
    for word in plain:
        if word in WORDS or word in listed:
            return word
    present = set(plain)
    for phrase in _phrases_by_first().get_many(present):
        size = len(phrase)
        for i in range(len(plain) - size + 1):
            if tuple(plain[i : i + size]) == phrase:
                return " ".join(phrase)
    return None


class _ByFirst:
    """Phrases indexed by their first word, so that a text is weighed only against the
    phrases whose first word it has, in the phrases' own order (the first found is the
    one named, as when every phrase is tried)."""

    def __init__(self, phrases: Sequence[tuple[str, ...]]) -> None:
        self._at: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
        for order, phrase in enumerate(phrases):
            if phrase:
                self._at.setdefault(phrase[0], []).append((order, phrase))

    def get_many(self, words: set[str]) -> list[tuple[str, ...]]:
        found = [entry for word in words for entry in self._at.get(word, ())]
        return [phrase for _, phrase in sorted(found)]


@functools.cache
def _phrases_by_first() -> _ByFirst:
    return _ByFirst((*PHRASES, *maintained()[1]))
