# ruff: noqa: RUF002 (text in many scripts, and look-alike letters, on purpose)
"""How a text is read when it may be disguised (pure): look-alike letters, leetspeak,
letters spaced apart.

A model told (or tricked) to say something a filter refuses can write it so the filter
does not see it: "hum4n, not a b0t", "a real p e r s o n", "e v i l. c o m", an
Armenian "հ" or a Cherokee letter for a Latin one, "I´m" with an acute accent
(U+00B4, which NFKC turns into a space and a combining mark). ``disguises_undone``
gives the readings a filter should search besides the text as written:

- look-alike letters mapped to the Latin (or digit) they imitate, from Unicode's
  confusables data (TR39) as the ``confusable_homoglyphs`` package ships it, after NFKC
  (which maps full-width and mathematical letters, "𝐡𝐮𝐦𝐚𝐧", to plain ones); format
  characters dropped, and combining marks on Latin letters;
- leetspeak undone in words that mix letters with digits or signs ("b0t", "p3rs0n",
  "hum@n"), never in numbers ("100%", "2024");
- runs of three or more single letters joined ("p e r s o n", "h.u.m.a.n", "e v i l"),
  with a second reading that keeps a leading "a"/"i" apart ("a h u m a n": "a human").

Only for checking: what is published is the text as written.
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import cache
from importlib import resources

# Signs read as an apostrophe: curly ones, the modifier letter, a grave or acute accent
# standing alone, a prime.
APOSTROPHES = str.maketrans(
    {
        "\u2019": "'",
        "\u2018": "'",
        "\u02bc": "'",
        "\u02b9": "'",
        "`": "'",
        "\u00b4": "'",
        "\u2032": "'",
        "\uff07": "'",
    }
)
_LEET = str.maketrans({"4": "a", "@": "a", "3": "e", "1": "i", "0": "o", "5": "s"})
_LEET |= str.maketrans({"$": "s", "7": "t", "|": "l", "8": "b", "9": "g"})
# A word that mixes letters with the digits and signs leetspeak writes them with.
_LEET_WORD = re.compile(r"(?<![\w@$|'])(?=[\w@$|']*[^\W\d_])(?=[\w@$|']*[0-9@$|])[\w@$|']+")
# Three or more single letters, each apart from the next by one space or sign.
_SPACED = re.compile(r"(?<![^\W\d_])(?<!')(?:[^\W\d_][ .\-_*·•/]){2,}[^\W\d_](?![^\W\d_])")
_REPEATS = re.compile(r"([^\W\d_])\1{2,}")
_SPACES = re.compile(r"\s+")
# Format characters that stand for a space between words (others are dropped).
_ZERO_WIDTH_SPACES = frozenset("\u200b\u2060\ufeff")


@cache
def _latin_of() -> dict[str, str]:
    """Every character Unicode's confusables data lists as looking like a Latin letter
    or a digit, and that letter (lower case)."""
    data = resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8")
    table: dict[str, str] = {}
    for char, looks in json.loads(data).items():
        if len(char) != 1 or char.isascii():
            continue
        for look in looks:
            seen = look.get("c", "")
            if len(seen) == 1 and seen.isascii() and seen.isalnum():
                table[char] = seen.lower()
                break
    return table


def skeleton(text: str) -> str:
    """The text with look-alike letters as the Latin ones they imitate, lower case,
    combining marks and format characters dropped."""
    folded = unicodedata.normalize("NFKC", text.translate(APOSTROPHES))
    latin = _latin_of()
    kept: list[str] = []
    for char in unicodedata.normalize("NFD", folded):
        category = unicodedata.category(char)
        if category == "Cf":
            kept.append(" " if char in _ZERO_WIDTH_SPACES else "")
            continue
        if category in ("Mn", "Me") and (not kept or kept[-1].isascii()):
            continue  # an accent on a Latin letter ("ḥuman"); a kana's voicing mark stays
        kept.append(latin.get(char, char))
    return unicodedata.normalize("NFC", "".join(kept)).lower().translate(APOSTROPHES)


def unleet(text: str) -> str:
    """Leetspeak undone in the words that mix letters with digits or signs."""
    return _LEET_WORD.sub(lambda found: found.group(0).translate(_LEET), text)


def joined(text: str, *, article_apart: bool = False) -> str:
    """Runs of three or more single letters joined into a word ("p e r s o n")."""

    def join(found: re.Match[str]) -> str:
        letters = "".join(ch for ch in found.group(0) if ch.isalpha())
        if article_apart and letters[:1] in ("a", "i") and len(letters) > 3:
            return f"{letters[0]} {letters[1:]}"
        return letters

    return _SPACED.sub(join, text)


def disguises_undone(text: str) -> tuple[str, ...]:
    """The readings of ``text`` with its disguises undone (lower case, spaces single),
    each different from the others."""
    # Joined before spaces are made single: two spaces apart are two words ("r e a l  h u").
    base = _REPEATS.sub(r"\1", unleet(skeleton(text)))
    readings = (base, joined(base), joined(base, article_apart=True))
    return tuple(dict.fromkeys(_SPACES.sub(" ", reading).strip() for reading in readings))
