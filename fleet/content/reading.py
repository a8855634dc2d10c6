"""Reading a post as a commenter does: what it shows, in what medium, in which colours.

A comment names what the post is about, so the writer first reads the post's title and
description (as data: nothing in them is an instruction). The commenter knows its own
words exactly (its voice's subjects, styles, interests: a post that uses them is in its
own field); anything else is read as plain English: the first noun phrase of the title
that is a thing (not "Day 5", not "so clean", not "plotted honestly"), the medium named
from a general list, a palette from colour words before "palette".
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from fleet.content.phrasing import Fill
from fleet.content.port import PostSeen
from fleet.content.voices import COLOURS, MEDIUMS, NOT_A_THING
from fleet.core.voice import Voice
from fleet.core.wording import NOMINAL, VERBS, Kind, word_set

_TOKEN = re.compile(r"[A-Za-z][A-Za-z'-]*|\d[\w:.-]*|[^\sA-Za-z\d]")
_DETERMINERS = word_set("a an the this that these those my our your their its")
_BREAKS = word_set(
    """in on at with from for about into onto over under through toward towards against as
    by like without between before after per across since around near than to off beside
    behind inside via until during within but or so because if while then is are was
    were be been has have had do does did would could should can will might must may i
    you it we they me him them us he she what which who how why not just also too very
    really made drawn shot built seen caught done take vs"""
)
_IN_FIELD = ("subject", "style", "interest")


@dataclass(frozen=True, slots=True)
class Reading:
    """What a commenter makes of a post."""

    subject: Fill | None = None
    medium: Fill | None = None
    palette: Fill | None = None
    in_field: bool = False  # the post is in the commenter's own field

    def fills(self) -> dict[str, Fill]:
        """The post's words for a comment's ``{post_subject}``, ``{post_medium}``..."""
        found = {"post_subject": self.subject, "post_medium": self.medium}
        found["post_palette"] = self.palette
        return {name: fill for name, fill in found.items() if fill is not None}


def read_post(post: PostSeen, voice: Voice) -> Reading:
    """The post's subject, medium and palette as this voice reads them."""
    own = {
        slot: sorted(voice.all_words(slot), key=lambda wk: -len(wk[0]))
        for slot in _IN_FIELD
        if slot in voice.words
    }
    texts = [post.title, post.description]
    subject = _find(texts, own.get("subject", [])) or _first_thing(texts)
    mediums = [(w.replace("-", " "), k) for w, k in own.get("style", []) + own.get("interest", [])]
    medium = _find(texts, [wk for wk in mediums if wk[1] in NOMINAL] + list(MEDIUMS.items()))
    if medium and subject and medium.text in subject.text:
        medium = None
    in_field = any(_find(texts, own[slot]) for slot in own)
    return Reading(subject, medium, _palette(texts), in_field)


@functools.lru_cache(maxsize=4096)
def _whole(phrase: str) -> re.Pattern[str]:
    """``phrase`` as a whole word or phrase (not inside a longer word)."""
    return re.compile(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])")


def _find(texts: list[str], phrases: list[tuple[str, Kind]]) -> Fill | None:
    """The first listed phrase found in the title, else in the description."""
    for text in texts:
        lower = text.lower()
        hits = [
            (found.start(), -len(phrase), phrase, kind)
            for phrase, kind in phrases
            # The substring test first: most phrases are not in the text at all.
            if phrase.lower() in lower and (found := _whole(phrase.lower()).search(lower))
        ]
        if hits:
            _, _, phrase, kind = min(hits)
            return Fill(phrase.lower() if phrase[:1].islower() else phrase, kind)
    return None


def _first_thing(texts: list[str]) -> Fill | None:
    for text in texts:
        segments = re.split(r"(?<=[:?!.;])\s+", text)
        # "WIP: a thing", "Day 5 of glitch: a thing": the thing after a colon comes first.
        after_colon = [
            i > 0 and segments[i - 1].endswith(":") and re.match(r"(?i)an? ", s) is not None
            for i, s in enumerate(segments)
        ]
        ordered = [s for s, x in zip(segments, after_colon, strict=True) if x] + [
            s for s, x in zip(segments, after_colon, strict=True) if not x
        ]
        for segment in ordered:
            first = segment.split(" ", 1)[0]
            if first[1:].islower():  # a capital that only opens the title or sentence
                segment = segment[:1].lower() + segment[1:]
            for phrase in _phrases(segment):
                thing = _as_thing(phrase)
                if thing is not None:
                    return thing
    return None


def _phrases(segment: str) -> list[list[str]]:
    """Runs of words between determiners, prepositions, verbs and punctuation."""
    tokens = _TOKEN.findall(segment)
    runs: list[list[str]] = [[]]
    for i, token in enumerate(tokens):
        lower = token.lower()
        after = tokens[i + 1].lower() if i + 1 < len(tokens) else ""
        # "city folded in half": a participle before a preposition ends the thing's name.
        participle = lower.endswith("ed") and "-" not in lower and after in _BREAKS
        if (
            lower in _DETERMINERS
            or lower in _BREAKS
            or lower in VERBS
            or (participle and bool(runs[-1]))
            or not token[0].isalnum()
        ):
            runs.append([])
        else:
            runs[-1].append(token)
    return [run for run in runs if run]


def _as_thing(words: list[str]) -> Fill | None:
    """A noun phrase naming a thing, or None ("Still thinking", "so clean", "Day 5")."""
    while words and (words[0].lower() in NOT_A_THING or words[0].lower() in COLOURS):
        words = words[1:]
    if "of" in words:  # "bar of olive soap": the thing is the bar
        cut = words.index("of")
        words = words if 0 < cut < len(words) - 1 else words[:cut]
    if not words or any(w[0].isdigit() for w in words) or words[0].lower() == "and":
        return None
    head = (words[words.index("of") - 1] if "of" in words else words[-1]).lower()
    if (
        len(head) < 3
        or head in NOT_A_THING
        or head in COLOURS
        or head.endswith("ly")
        or (head.endswith("ed") and len(head) > 4)
        or (head.endswith("ing") and len(words) == 1)
        or words[-1].isupper()
    ):
        return None
    plural = head.endswith("s") and not head.endswith(("ss", "us", "is", "ics", "series", "lens"))
    return Fill(" ".join(words), Kind.PLURAL if plural else Kind.NOUN)


_PALETTE = re.compile(r"((?:[a-z][a-z-]*\s+){1,4})(?:palette|colours|scale)\b")


def _palette(texts: list[str]) -> Fill | None:
    for text in texts:
        for found in _PALETTE.finditer(text.lower()):
            words = found.group(1).split()
            while words and words[0] not in COLOURS:
                words = words[1:]
            if words and words[-1] in COLOURS:
                return Fill(" ".join(words) + " palette", Kind.NOUN)
    return None
