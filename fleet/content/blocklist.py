"""What the fleet must never say, whoever wrote the text (issue 31.11).

A person's title may hold anything ("that scam wallet", "the kill all"), and a writer that
takes up what people say could carry it into a bot's comment. These words and phrases are
refused wherever they come from: the guard checks every text against them, and the
offline writer's reading of a post does not name a thing that holds one. The check reads
words, not patterns: linear in the text, whatever it holds.
"""

from __future__ import annotations

import re

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
    slur retard retarded
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


def never_say(text: str) -> str | None:
    """The first word or phrase of ``text`` the fleet must never say, or None."""
    words: list[str] = _WORD.findall(text.lower())
    plain: list[str] = [w.translate(_LEET) if any(c.isdigit() for c in w) else w for w in words]
    for word in plain:
        if word in WORDS:
            return word
    for phrase in PHRASES:
        size = len(phrase)
        for i in range(len(plain) - size + 1):
            if tuple(plain[i : i + size]) == phrase:
                return " ".join(phrase)
    return None
