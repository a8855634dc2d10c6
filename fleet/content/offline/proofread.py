"""A rule-based proofreader for the offline writer's texts (its tests and ``bench.comments``).

It reads finished text, not templates, and shares no rule with the writer: it knows the
voices' words only as a lexicon (phrase -> parts of speech). ``problems`` flags:

- ``article``: "a" or "an" that does not fit the sound of the next word;
- ``determiner``: a determiner that does not fit its noun ("a coffee prices", "these cat");
- ``agreement``: a plural subject with a singular verb ("the coffee prices sits"), a
  singular one with a plural verb, "Does the prices...";
- ``part of speech``: a word of the wrong kind in a slot: an adverbial after a preposition
  or determiner ("from on a slow Sunday"), an adjective or participle standing as a noun
  ("get the clean to look", "the plotted honestly works"), a label inside a sentence, a
  singular countable noun with no article after a preposition ("in night palette");
- ``doubled``: a word twice in a row; ``empty``: a slot left empty or unfilled;
- ``capital``: a sentence that does not open with a capital; ``punctuation``: prose that
  does not end with ".", "!" or "?" (captions may end bare); ``ordinal``: "2th".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from fleet.content.offline.lexicon import GENERAL, MEDIUMS, voice_of
from fleet.core.persona import Persona
from fleet.core.wording import NOMINAL, Form, Kind, word_set


class Lexicon(dict[str, frozenset[Kind]]):
    """Known phrases (lower case, tokens joined by spaces) with their parts of speech."""

    def __init__(self, entries: dict[str, frozenset[Kind]]) -> None:
        super().__init__(entries)
        self.first = {phrase.split(" ", 1)[0] for phrase in entries}
        self.longest = max((phrase.count(" ") + 1 for phrase in entries), default=0)


_WORD = re.compile(r"[A-Za-z0-9][\w':.-]*[\w]|[A-Za-z0-9]|[^\s\w]")
_PREPOSITIONS = word_set(
    """in on at with from for of about into onto over under through toward towards against
    as by like without between before after per across since around near than to off
    beside behind inside via until during within"""
)
_PREP_PAIRS = {("from", "above"), ("from", "under"), ("from", "behind"), ("from", "inside")}
_SINGULAR_DET = frozenset({"a", "an", "another", "every", "each", "one"})
_ANY_DET = word_set("the my your our their its his her")
_DEMONSTRATIVE = word_set("this that these those")
_SINGULAR_VERBS = frozenset({"is", "was", "has", "does", "doesn't"})
_PLURAL_VERBS = frozenset({"are", "were", "have", "do", "don't"})
_ADVERBS = word_set("almost also always never now finally just only really still even")
_NOT_VERBS_IN_S = word_set("this is was has does its plus less thus as us yes")
# Present verbs a noun phrase may meet: where an unknown phrase ends.
_VERBS_S = word_set(
    """is was has does reads sits feels seems looks works needs melts stops draws tells
    gives holds pops breathes makes shows sings stays fits"""
)
_VERBS_BASE = word_set(
    """are were have do read sit feel seem look work need melt stop draw tell give hold pop
    breathe make show sing stay fit"""
)
_QUANTITY = frozenset({"few", "lot", "couple", "bit"})  # "a few tries", "a lot of"
_MODALS = word_set("would could should can will might must may and or but")
_PAST = word_set("caught made took gave had got felt kept went saw drew grew")
_ENDS_PHRASE = (
    _PREPOSITIONS | _VERBS_S | _VERBS_BASE | _ADVERBS | _MODALS | _PAST | _ANY_DET | _SINGULAR_DET
)
_INVARIANT = word_set("series species lens canvas news")
_VOWEL_SOUND = ("hour", "honest", "honour", "honor", "heir")
_CONSONANT_SOUND = ("uni", "use", "usu", "uti", "ure", "eu", "one", "once", "ubiq")
_ABBREVIATIONS = frozenset({"a.m", "p.m", "e.g", "i.e", "vs", "etc"})


def lexicon(personas: Iterable[Persona], extra: Iterable[tuple[str, Kind]] = ()) -> Lexicon:
    """The tagged words of the personas' voices (and the general one), lower case."""
    found: dict[str, set[Kind]] = {}
    voices = [voice_of(p) for p in personas] + [GENERAL]
    pairs = [(w, k) for v in voices for slot in v.words for w, k in v.all_words(slot)]
    for word, kind in [*pairs, *MEDIUMS.items(), *extra]:
        for form in {word.lower(), word.lower().replace("-", " ")}:
            found.setdefault(" ".join(_tokens(form)), set()).add(kind)
    return Lexicon({phrase: frozenset(kinds) for phrase, kinds in found.items()})


def _tokens(text: str) -> list[str]:
    return _WORD.findall(text)


def _match(words: list[str], at: int, lex: Lexicon) -> tuple[int, frozenset[Kind]]:
    """The longest lexicon phrase starting at ``at``: (its length in words, its kinds)."""
    if at >= len(words) or words[at] not in lex.first:
        return 0, frozenset()
    for size in range(min(lex.longest, len(words) - at), 0, -1):
        kinds = lex.get(" ".join(words[at : at + size]))
        if kinds:
            return size, kinds
    return 0, frozenset()


def _expects_an(word: str) -> bool:
    lower = word.lower()
    if lower.startswith(_VOWEL_SOUND):
        return True
    if lower.startswith(_CONSONANT_SOUND):
        return False
    if lower[0].isdigit():
        return lower.startswith("8") or lower in ("11", "18") or lower.startswith(("11-", "18-"))
    if len(word) > 1 and word.isupper():
        return lower[0] in "aefhilmnorsx"
    return lower[0] in "aeiou"


def _plural_guess(word: str) -> bool:
    w = word.lower()
    plain = not w.endswith(("ss", "us", "is", "ics")) and w not in _INVARIANT
    return w.endswith("s") and plain and len(w) > 3


def _noun_phrase(words: list[str], at: int, lex: Lexicon) -> tuple[int, str | None]:
    """After a determiner: where the noun phrase ends and its number ("plural",
    "singular", "mass"; None when unsure or when it only modifies a noun after it)."""
    i = at
    while i < len(words):
        size, kinds = _match(words, i, lex)
        if kinds and kinds <= {Kind.ADJECTIVE}:
            i += size
            continue
        nominal = kinds & {Kind.NOUN, Kind.MASS, Kind.PLURAL}
        if nominal:
            end = i + size
            number = {Kind.PLURAL: "plural", Kind.NOUN: "singular", Kind.MASS: "mass"}
            sure = number[next(iter(nominal))] if len(nominal) == 1 else None
            return end, None if _modifies(words, end) else sure
        break
    # Words the lexicon does not know: up to a verb, a preposition or punctuation.
    if i < len(words) and words[i] in _MODALS | _PREPOSITIONS | _PAST:
        return i, None
    j = i
    while j < len(words) and words[j][0].isalnum() and j - i < 5:
        if j > i and (words[j] in _ENDS_PHRASE or words[j].endswith("ed")):
            break
        j += 1
    if j == i:
        return i, None
    return j, "plural" if _plural_guess(words[j - 1]) else "singular"


def _modifies(words: list[str], end: int) -> bool:
    """Whether the word after a noun phrase is a noun it modifies ("a pixel art piece")."""
    if end >= len(words) or not words[end][0].isalnum():
        return False
    closed = _PREPOSITIONS | _VERBS_S | _ADVERBS | {"and", "or", "but", "to"}
    closed |= {"are", "were", "have", "do"}
    return words[end] not in closed and not words[end].endswith(("ed", "ly"))


@dataclass
class _Text:
    """A text being read: its tokens as written and in lower case."""

    raw: list[str]
    lex: Lexicon
    flags: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.words = [w.lower() for w in self.raw]
        self.inside: set[int] = set()  # words inside a longer known noun: "before and after"
        for i in range(len(self.words)):
            size, kinds = _match(self.words, i, self.lex)
            if i not in self.inside and kinds & NOMINAL:
                self.inside.update(range(i + 1, i + size))

    def word(self, i: int) -> str:
        """The word at ``i`` ("" past the end; a word inside a known noun is not one)."""
        if i >= len(self.words) or i in self.inside:
            return ""
        return self.words[i]

    def flag(self, rule: str, at: int, span: int = 3) -> None:
        self.flags.append(f"{rule}: {' '.join(self.raw[max(0, at - 1) : at + span])!r}")


def problems(text: str, lex: Lexicon, *, form: Form = Form.PROSE) -> list[str]:
    """What the proofreader flags in ``text``, as "rule: excerpt" lines (a headline needs
    no closing stop)."""
    t = _Text(_tokens(text), lex)
    if not text.strip() or "{" in text or "}" in text or re.search(r"\s\s|\s[,.:;!?]", text):
        t.flags.append(f"empty: {text!r}")
    for i in range(len(t.words)):
        for rule in (_empty_and_doubled, _articles, _kinds, _determiners, _agreement, _capital):
            rule(t, i)
    for found in re.finditer(r"\b(\d+)(st|nd|rd|th)\b", text):
        n = int(found.group(1))
        right = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
        if found.group(2) != right:
            t.flags.append(f"ordinal: {found.group(0)!r}")
    bare = re.sub(r"(?:\s+(?:#\w+|[^\w\s.!?,;:'\"()-]+))+$", "", text.strip())
    if form is Form.PROSE and bare and bare[-1] not in ".!?":
        t.flags.append(f"punctuation: {text[-20:]!r}")
    return t.flags


def _starts(t: _Text, i: int) -> bool:
    return i == 0 or t.words[i - 1] in (".", "!", "?")


def _empty_and_doubled(t: _Text, i: int) -> None:
    w, nxt = t.word(i), t.word(i + 1)
    if w and nxt == w and w[0].isalnum():
        t.flag("doubled", i)
    nxt = t.words[i + 1] if i + 1 < len(t.words) else ""
    if (w in ("a", "an", "the") and (not nxt or nxt in ".,;!?:")) or (
        w in _PREPOSITIONS and nxt in (",", ":", ";")
    ):
        t.flag("empty", i)


def _articles(t: _Text, i: int) -> None:
    w, nxt = t.word(i), t.word(i + 1) or (t.words[i + 1] if i + 1 < len(t.words) else "")
    letter = t.raw[i] == "A" and not _starts(t, i)  # "Plan A is"
    article = w in ("a", "an") and nxt[:1].isalnum() and not letter
    if article and (w == "an") != _expects_an(t.raw[i + 1]):
        t.flag("article", i)


def _kinds(t: _Text, i: int) -> None:
    """Words of the wrong part of speech after a determiner or a preposition."""
    w, words, lex = t.word(i), t.words, t.lex
    if w in _PREPOSITIONS | _SINGULAR_DET | _ANY_DET | _DEMONSTRATIVE:
        size, kinds = _match(words, i + 1, lex)
        if kinds and kinds <= {Kind.ADVERBIAL, Kind.QUALIFIER, Kind.LABEL}:
            t.flag("part of speech", i, size + 1)  # "from on a slow Sunday"
        if kinds and kinds <= {Kind.ADJECTIVE}:  # "get the clean to look"
            after = words[i + 1 + size] if i + 1 + size < len(words) else ""
            noun_next = _match(words, i + 1 + size, lex)[1] & NOMINAL
            bad = {"to"} | _PREPOSITIONS | _VERBS_S | _PLURAL_VERBS | _MODALS
            if not noun_next and (not after[:1].isalnum() or after in bad):
                t.flag("part of speech", i, size + 2)
        if i + 2 < len(words) and words[i + 1].endswith("ed") and words[i + 2].endswith("ly"):
            t.flag("part of speech", i, 3)  # "the plotted honestly"
    nxt = t.word(i + 1)
    opens = i + 2 < len(words) and words[i + 2] in _ANY_DET | _SINGULAR_DET
    if w in _PREPOSITIONS and nxt in _PREPOSITIONS and (w, nxt) not in _PREP_PAIRS and opens:
        t.flag("part of speech", i)
    if w in _PREPOSITIONS and w != "of":  # "drawn as heatmap"
        size, kinds = _match(words, i + 1, lex)
        if kinds == {Kind.NOUN}:
            t.flag("part of speech", i, size + 1)


def _determiners(t: _Text, i: int) -> None:
    w = t.word(i)
    if w not in _SINGULAR_DET | _DEMONSTRATIVE or t.word(i + 1) in _QUANTITY:
        return
    end, number = _noun_phrase(t.words, i + 1, t.lex)
    wrong = {"plural", "mass"} if w in _SINGULAR_DET else {"singular"}
    if w in ("this", "that"):
        wrong = {"plural"}
    if number in wrong:
        t.flag("determiner", i, end - i)


def _agreement(t: _Text, i: int) -> None:
    w, words = t.word(i), t.words
    subject = w in _ANY_DET | _DEMONSTRATIVE
    if subject and not (i > 0 and words[i - 1] in _PREPOSITIONS):
        end, number = _noun_phrase(words, i + 1, t.lex)
        while end < len(words) and words[end] in _ADVERBS:
            end += 1
        verb = words[end] if end < len(words) else ""
        if number == "plural" and (verb in _SINGULAR_VERBS or _third_person(verb, t.lex)):
            t.flag("agreement", i, end - i + 1)  # "the coffee prices sits"
        if number in ("singular", "mass") and verb in _PLURAL_VERBS:
            t.flag("agreement", i, end - i + 1)
    asks = w in ("does", "do", "is", "are") and (i == 0 or words[i - 1] in ".!?,")
    if asks and t.word(i + 1) in _ANY_DET:
        end, number = _noun_phrase(words, i + 2, t.lex)
        singular_verb = w in ("does", "is")
        if (number == "plural" and singular_verb) or (
            number in ("singular", "mass") and not singular_verb
        ):
            t.flag("agreement", i, end - i)  # "Does the prices hold"


def _capital(t: _Text, i: int) -> None:
    lower_start = _starts(t, i) and t.raw[i][0].isalpha() and not t.raw[i][0].isupper()
    if lower_start and not (i > 1 and t.words[i - 2] in _ABBREVIATIONS):
        t.flag("capital", i)


def _third_person(word: str, lex: Lexicon) -> bool:
    """A present verb in the singular, as the word after a plural subject would be."""
    if not word.endswith("s") or word.endswith("ss") or word in _NOT_VERBS_IN_S:
        return False
    kinds = lex.get(word, frozenset())
    return not kinds & {Kind.PLURAL, Kind.NOUN, Kind.MASS}
