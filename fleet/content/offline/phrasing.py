"""Rendering a template with typed words: agreement, articles by sound, capitals.

A template is read as ``fleet.core.wording`` reads it (a voice's templates once, when the
voice loads), so each word lands where its kind was checked to fit, and what the word
still asks of its neighbours is done here: "a" dropped before a plural or mass noun,
"this" made "these" and "is" made "are" after a plural, a sentence-initial "Does" made
"Do". Then articles follow the sound of the next word, a word said twice in a row is
said once, and sentences open with a capital.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from fleet.core.voice import Voice
from fleet.core.wording import (
    DET_A,
    DET_THESE,
    DET_THIS,
    PHRASAL,
    Form,
    Kind,
    TemplateReading,
    plural_of,
    read,
)


@dataclass(frozen=True, slots=True)
class Fill:
    """A word for a slot, with its part of speech."""

    text: str
    kind: Kind


def render(
    template: str, fills: Mapping[str, Fill], *, form: Form = Form.PROSE, voice: Voice | None = None
) -> str:
    """The template with its slots filled, agreeing and capitalised.

    ``form``: prose, or a caption's headline, whose lines may open on a bare noun ("Pixel
    cat in 16 colours"). ``voice``: the voice whose template it is, which read it when it
    loaded; a template read so is not read again (a fill whose kind the voice's lists do
    not have for its slot has the template read for the fills). Raises ``KeyError`` for a
    slot with no fill.
    """
    reading = voice.reading(template, form) if voice is not None else None
    if reading is not None:
        for use in reading.uses:  # the voice's reading holds for the fills' kinds
            if (fills[use.slot].kind in PHRASAL) is (use.slot in reading.alone):
                reading = None
                break
    if reading is None:
        kinds = tuple(sorted((name, fill.kind) for name, fill in fills.items()))
        reading = _read(template, kinds, form)
    tokens, texts = reading.tokens, list(reading.texts)
    dropped: set[int] = set()
    for use in reading.uses:
        fill = fills[use.slot]
        texts[use.index] = fill.text
        if not use.head:
            continue
        plural = fill.kind is Kind.PLURAL
        if use.det is not None:
            det = tokens[use.det].lower
            if det in DET_A and fill.kind in (Kind.PLURAL, Kind.MASS):
                dropped.add(use.det)
            elif plural and det in DET_THIS:
                texts[use.det] = _same_case(DET_THIS[det], texts[use.det])
            elif not plural and det in DET_THESE:
                texts[use.det] = _same_case(DET_THESE[det], texts[use.det])
        for verb in (use.verb, use.aux):
            if plural and verb is not None:
                texts[verb] = plural_of(texts[verb])
    out, carry = [], ""
    for index, token in enumerate(tokens):
        if index in dropped:
            carry = carry or token.space
            continue
        out.append((carry or token.space) + texts[index])
        carry = ""
    return finish("".join(out).strip())


@lru_cache(maxsize=8192)
def _read(template: str, kinds: tuple[tuple[str, Kind], ...], form: Form) -> TemplateReading:
    """A template read for the kinds of given fills (one not read with its voice)."""
    return read(template, {name: frozenset({kind}) for name, kind in kinds}, form=form)


def finish(text: str) -> str:
    """Articles by sound, no word twice in a row, a capital at each sentence's start."""
    return capitalised(with_articles(said_once(text)))


def _same_case(word: str, like: str) -> str:
    return word[:1].upper() + word[1:] if like[:1].isupper() else word


_DOUBLED = re.compile(r"\b(\w+)(\s+\1\b)+", re.IGNORECASE)


def said_once(text: str) -> str:
    """``text`` without a word repeated in a row ("the giveaway post post")."""
    return _DOUBLED.sub(r"\1", text)


_SENTENCE_START = re.compile(r"(^|[.!?]\s+)([a-z])")


def capitalised(text: str) -> str:
    """Each sentence opening on a capital letter."""
    return _SENTENCE_START.sub(lambda m: m.group(1) + m.group(2).upper(), text)


def lead_into(lead: str, sentence: str) -> str:
    """``sentence`` after an interjection: "Oh, " + "The cat..." -> "Oh, the cat..."."""
    first = sentence.split(" ", 1)[0]
    keep = first in ("I", "I'm", "I've", "I'd", "I'll") or (first.isupper() and len(first) > 1)
    return lead + (sentence if keep else sentence[:1].lower() + sentence[1:])


_ARTICLE = re.compile(r"\b([Aa])(n?) ([A-Za-z0-9][\w'-]*)")
# Words whose sound the first letter does not tell: a silent h, a "you" or "w" sound.
_VOWEL_SOUND = ("hour", "honest", "honour", "honor", "heir", "herb")
_CONSONANT_SOUND = ("uni", "use", "usu", "uti", "ure", "euro", "eu", "one", "once", "ubiq")
_LETTER_VOWEL_SOUND = set("aefhilmnorsx")  # "an f-stop", "an HDR", "an 8-bit"


def _sounds_like_vowel(word: str) -> bool:
    lower = word.lower()
    if lower.startswith(_VOWEL_SOUND):
        return True
    if lower.startswith(_CONSONANT_SOUND):
        return False
    if lower[0].isdigit():
        return lower.startswith(("8", "11", "18"))
    if len(word) > 1 and word.isupper():  # an acronym read letter by letter
        return lower[0] in _LETTER_VOWEL_SOUND
    return lower[0] in "aeiou"


def with_articles(text: str) -> str:
    """``a`` or ``an`` before each word as it sounds: "an ink", "an hour", "a user"."""

    def choose(found: re.Match[str]) -> str:
        a, word = found.group(1), found.group(3)
        before = text[: found.start()].rstrip()
        if a == "A" and before and before[-1] not in ".!?:\"'(":
            return found.group(0)  # a letter, not an article: "Plan A is", "option A or B"
        return f"{a}{'n' if _sounds_like_vowel(word) else ''} {word}"

    return _ARTICLE.sub(choose, text)
