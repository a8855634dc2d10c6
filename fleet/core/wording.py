"""Typed words and templates: the parts of speech of a voice's slots, and where each may go.

A voice's word lists are tagged by part of speech (``Kind``). A template is text with
slots, ``{look}``; reading it as runs of words (an optional determiner, modifiers, a
head) tells what each slot stands for: the head of a noun phrase after "the", a modifier
before another noun, an adverbial after a verb... ``slot_problems`` refuses a template
whose slot may receive a word of a kind that cannot stand there ("Pixels from {time}"
with adverbials such as "on a slow Sunday"; "the {mood}" with adjectives). What a word
of the right kind still needs (a dropped "a" before a plural, "is" made "are" after one,
"that" made "those") is done at rendering, from the same reading.

Templates are written in the singular: "a {look}", "that {x} is", "Does the {x} hold".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache


class Kind(StrEnum):
    """The part of speech of a word in a list (and of what fills a slot)."""

    NOUN = "noun"  # singular and countable, without article: "pixel cat"
    PLURAL = "plural"  # "coffee prices by city"
    MASS = "mass"  # uncountable: "moonlight", "pixel art"
    ADJECTIVE = "adjective"  # "moody", "teal and orange"
    ADVERBIAL = "adverbial"  # "tonight", "on a slow Sunday"
    QUALIFIER = "qualifier"  # follows a noun: "on wet slate", "per capita"
    LABEL = "label"  # opens a caption: "WIP:"
    NUMBER = "number"  # filled by the writer: {n}
    ORDINAL = "ordinal"  # filled by the writer: {nth}


class Form(StrEnum):
    """What a template's text is: running prose, or a caption's headline, whose lines may
    open on a bare noun ("Pixel cat in 16 colours") and need no closing stop."""

    PROSE = "prose"
    HEADLINE = "headline"

    @classmethod
    def of_field(cls, field: str) -> Form:
        """The form of a voice's field: its captions are headlines, the rest prose."""
        return cls.HEADLINE if field == "captions" else cls.PROSE


def word_set(text: str) -> frozenset[str]:
    """A set of words written as one string, separated by white space."""
    return frozenset(text.split())


NOMINAL = frozenset({Kind.NOUN, Kind.PLURAL, Kind.MASS})
# Kinds that form phrases with the words around them; the others stand alone.
PHRASAL = NOMINAL | {Kind.ADJECTIVE, Kind.NUMBER, Kind.ORDINAL}

DET_A = frozenset({"a", "an"})  # dropped before a plural or mass noun
DET_ONE = frozenset({"another", "every", "each", "one"})  # a singular count noun only
DET_THIS = {"this": "these", "that": "those"}
DET_THESE = {v: k for k, v in DET_THIS.items()}
DET_ANY = frozenset(
    {"the", "my", "your", "our", "their", "its", "his", "her", "some", "no", "any", "whose"}
)
DETERMINERS = DET_A | DET_ONE | DET_ANY | set(DET_THIS) | set(DET_THESE)
PREPOSITIONS = word_set(
    """in on at with from for of about into onto over under through toward towards against
    as by like without between before after per across since around near than to off
    beside behind inside via until during within among along past"""
)
CLOSED = word_set(
    """and or but so because if while then nor yet when where i you it we they me him them
    us he she what which who how why everyone everything something nothing anyone not
    would could should can will might must may just also too very really quite more less
    still even now finally always never already almost only barely simply again here
    there today are were have
    do don't had did be been being get got gave made took went felt caught kept stuck
    broke drew grew saw said found left lost meant ran sat stood told thought wrote won"""
)
# Verbs that agree with the noun before them, as templates write them (the singular).
AGREEING = {"is": "are", "was": "were", "has": "have", "does": "do", "doesn't": "don't"}
VERBS = word_set(
    """works sits looks feels reads tells stops needs holds makes gives sings melts pops
    shows ties goes stays fits says breathes carries deserves lands pulls catches draws
    steals earns wins reminds keeps brings belongs comes seems matters helps sells glows
    shines gets lives plays hits nails owns asks begs invites lifts speaks echoes rewards
    crushes counts"""
)
PREDICATIVE = word_set(
    """, : and or but it so too very really quite more less is was are were feels looks
    seems stays gets still"""
)
PRONOUNS_BACK = frozenset({"it", "its", "itself", "it's"})
SENTENCE_END = frozenset(".!?")

SLOT = re.compile(r"\{([a-z_]+2?)\}")  # {mood2}: another word of the list {mood}
_TOKEN = re.compile(r"(\s*)(\{[a-z_]+2?\}|[\w][\w':.-]*[\w]|[\w]|[^\s\w])")


def plural_of(verb: str) -> str:
    """The plural form of a singular present verb: "sits" -> "sit", "catches" -> "catch"."""
    lower = verb.lower()
    if lower in AGREEING:
        out = AGREEING[lower]
    elif lower.endswith(("sses", "shes", "ches", "xes", "zes", "oes")):
        out = lower[:-2]
    elif lower.endswith("ies") and len(lower) > 4:
        out = lower[:-3] + "y"
    else:
        out = lower[:-1]
    return out[:1].upper() + out[1:] if verb[:1].isupper() else out


@dataclass(frozen=True, slots=True)
class Token:
    """A word, a punctuation mark or a slot of a template, with the space before it."""

    text: str
    space: str
    slot: str | None  # the slot's name, for a slot
    lower: str


@lru_cache(maxsize=4096)
def tokenise(template: str) -> tuple[Token, ...]:
    """The template's tokens; joining ``space + text`` gives it back (less trailing space)."""
    tokens = []
    for found in _TOKEN.finditer(template):
        text = found.group(2)
        slot = SLOT.fullmatch(text)
        tokens.append(Token(text, found.group(1), slot.group(1) if slot else None, text.lower()))
    return tuple(tokens)


@dataclass(frozen=True, slots=True)
class Use:
    """How a template uses one slot, read from the words around it."""

    index: int  # of the slot's token
    slot: str
    head: bool  # the last word of its phrase (else a modifier of what follows)
    det: int | None  # index of the phrase's determiner
    prev: str  # the word before the phrase (or its determiner), lower case; "" at the start
    verb: int | None  # index of an agreeing verb right after the phrase, if the slot heads it
    aux: int | None  # index of a sentence-initial "Does"/"Is" before the phrase
    headline: bool  # the phrase opens a caption's line: a bare singular noun is fine there
    back: bool  # "it"/"its" later in the sentence refers back to it


@dataclass(frozen=True, slots=True)
class TemplateReading:
    """A template as read for the kinds of its slots: what rendering it looks up."""

    tokens: tuple[Token, ...]
    texts: tuple[str, ...]  # each token's text, the slots' to be replaced by their words
    uses: tuple[Use, ...]  # one for each slot's token, in order
    alone: frozenset[str]  # the slots read as standing alone (no phrasal kind)


def read(template: str, kinds: Mapping[str, frozenset[Kind]], *, form: Form) -> TemplateReading:
    """The template read once for slots of ``kinds`` (``uses``). How a slot is used hangs
    on one thing of its kinds: whether any is phrasal (``alone`` says which are not), so
    the reading holds for every word of those kinds, whichever fills it."""
    tokens = tokenise(template)
    alone = frozenset(
        token.slot
        for token in tokens
        if token.slot is not None and not kinds.get(token.slot, NOMINAL) & PHRASAL
    )
    return TemplateReading(
        tokens, tuple(token.text for token in tokens), tuple(uses(tokens, kinds, form=form)), alone
    )


def _open(token: Token, kinds: Mapping[str, frozenset[Kind]]) -> bool:
    """Whether the token belongs in a phrase: a phrasal slot or an open-class word."""
    name = token.slot
    if name is not None:
        return bool(kinds.get(name, NOMINAL) & PHRASAL)
    word = token.lower
    return (
        token.text[0].isalnum()
        and word not in DETERMINERS
        and word not in PREPOSITIONS
        and word not in CLOSED
        and word not in AGREEING
        and word not in VERBS
        and not (word.endswith("ed") and len(word) > 4)  # a past tense: "appeared"
    )


def uses(
    tokens: Sequence[Token], kinds: Mapping[str, frozenset[Kind]], *, form: Form = Form.PROSE
) -> list[Use]:
    """How each slot of a tokenised template is used (``kinds``: each slot's kinds)."""
    out: list[Use] = []
    i = 0
    while i < len(tokens):
        if not _open(tokens[i], kinds):
            if tokens[i].slot is not None:
                out.append(_alone(tokens, i))
            i += 1
            continue
        start = i
        # "Does the {x} hold up?": in a question, the verb after the noun is bare.
        asked = _asks(tokens, start)
        while i < len(tokens) and _open(tokens[i], kinds):
            i += 1
            if asked and tokens[i - 1].slot is not None:
                break
        out.extend(_phrase_uses(tokens, start, i, form))
    return out


def _phrase_uses(tokens: Sequence[Token], start: int, end: int, form: Form) -> list[Use]:
    """How each slot of the phrase ``tokens[start:end]`` is used: its determiner, the
    word before it, the verb agreeing with its head."""
    det = start - 1 if start > 0 and tokens[start - 1].lower in DETERMINERS else None
    if (
        det is None
        and start > 1
        and [t.lower for t in tokens[start - 2 : start]]
        == [
            "one",
            "more",
        ]
    ):
        det = start - 2  # "one more {x}" counts as "one"
    before = (det if det is not None else start) - 1
    prev = tokens[before].lower if before >= 0 else ""
    at_line_start = before < 0 or prev in {".", "?", "!", ":"}
    verb = None if prev in PREPOSITIONS else _verb_after(tokens, end)
    opens = before == 0 or (before > 0 and tokens[before - 1].text in ".!?,:")
    aux = before if prev in AGREEING and opens else None
    subject = prev not in PREPOSITIONS and _says_something(tokens, end)
    back = subject and _refers_back(tokens, end)
    out: list[Use] = []
    for j in range(start, end):
        name = tokens[j].slot
        if name is None:
            continue
        head = j == end - 1
        out.append(
            Use(
                j,
                name,
                head,
                det,
                prev,
                verb if head else None,
                aux if head else None,
                form is Form.HEADLINE and det is None and at_line_start,
                back and head,
            )
        )
    return out


# Adverbs that may stand between a noun and its verb: "the cat almost seems".
ADVERBS = word_set("almost also always never now finally just only really still even")


def _verb_after(tokens: Sequence[Token], end: int) -> int | None:
    """The index of an agreeing verb right after a phrase ending before ``end``."""
    while end < len(tokens) and tokens[end].lower in ADVERBS:
        end += 1
    if end < len(tokens) and (tokens[end].lower in AGREEING or tokens[end].lower in VERBS):
        return end
    return None


_PAST_OR_MODAL = word_set(
    """would could should can will might must may had did gave made took went felt caught
    kept stuck broke drew grew saw said found left lost meant ran sat stood told won"""
)


def _says_something(tokens: Sequence[Token], end: int) -> bool:
    """Whether a verb (of any tense) follows the phrase ending before ``end``."""
    while end < len(tokens) and tokens[end].lower in ADVERBS:
        end += 1
    if end >= len(tokens):
        return False
    word = tokens[end].lower
    return (
        word in AGREEING
        or word in VERBS
        or word in _PAST_OR_MODAL
        or (word.endswith("ed") and len(word) > 4)
    )


_QUESTION_AUX = frozenset(AGREEING) | {"do", "did", "can", "could", "would", "will", "should"}


def _asks(tokens: Sequence[Token], start: int) -> bool:
    """Whether the phrase at ``start`` follows a question's opening auxiliary."""
    at = start - 1 if start > 0 and tokens[start - 1].lower in DETERMINERS else start
    if at == 0 or tokens[at - 1].lower not in _QUESTION_AUX:
        return False
    return at == 1 or tokens[at - 2].text in ".!?,:"


def _alone(tokens: Sequence[Token], i: int) -> Use:
    prev = tokens[i - 1].lower if i > 0 else ""
    return Use(i, tokens[i].slot or "", True, None, prev, None, None, False, False)


def _refers_back(tokens: Sequence[Token], after: int) -> bool:
    for token in tokens[after:]:
        if token.text in SENTENCE_END:
            return False
        if token.lower in PRONOUNS_BACK:
            return True
    return False


_NAMES = {Kind.MASS: "mass nouns", Kind.ADVERBIAL: "adverbials"}


def _example(words: Mapping[Kind, Iterable[str]] | None, kind: Kind) -> str:
    name = _NAMES.get(kind, f"{kind.value}s")
    first = next(iter(words[kind]), "") if words is not None and kind in words else ""
    return f"{name} such as {first!r}" if first else name


def slot_problems(
    template: str,
    kinds: Mapping[str, frozenset[Kind]],
    words: Mapping[str, Mapping[Kind, Iterable[str]]] | None = None,
    *,
    form: Form = Form.PROSE,
) -> list[str]:
    """What is wrong with the slots of one template, as sentences; empty when it is fine.

    ``kinds`` gives the kinds each slot may receive, ``words`` (optional) the words, to
    quote one in a message; ``form``, whether the template is prose or a headline.
    """
    tokens = tokenise(template)
    problems: list[str] = []
    names = [t.slot for t in tokens if t.slot is not None]
    for name in names:
        if name not in kinds:
            known = ", ".join("{" + k + "}" for k in sorted(kinds))
            problems.append(f"{{{name}}} is not a slot here (slots: {known})")
    if problems:
        return problems
    for use in uses(tokens, kinds, form=form):
        problems.extend(_use_problems(use, tokens, kinds[use.slot], words))
    return problems


def _use_problems(
    use: Use,
    tokens: Sequence[Token],
    slot_kinds: frozenset[Kind],
    words: Mapping[str, Mapping[Kind, Iterable[str]]] | None,
) -> list[str]:
    name, out = "{" + use.slot + "}", []
    listed = words.get(use.slot) if words else None
    det = tokens[use.det].lower if use.det is not None else None
    after_prep = det is None and use.prev in PREPOSITIONS
    for kind in sorted(slot_kinds):
        held = f"{name} holds {_example(listed, kind)}"
        if kind is Kind.LABEL and use.index != 0:
            out.append(f"{held}, which only open a caption")
        elif kind is Kind.ADVERBIAL and (det is not None or after_prep):
            needs = repr(det or use.prev)
            out.append(f"{held}, but {needs} needs a noun phrase")
        elif kind is Kind.QUALIFIER and not _after_noun(tokens, use.index):
            out.append(f"{held}, which must follow a noun")
        elif kind is Kind.PLURAL and not use.head:
            nxt = tokens[use.index + 1].text
            out.append(
                f"{held}, but stands before {nxt!r} as a modifier, where a plural cannot "
                f"go (if {nxt!r} is a verb, write it in the singular and add it to VERBS)"
            )
        elif kind is Kind.ADJECTIVE and use.head and (det or after_prep):
            out.append(f"{held}, but stands where a noun is needed (after {det or use.prev!r})")
        elif kind is Kind.ADJECTIVE and use.head and use.prev not in PREDICATIVE:
            where = f"after {use.prev!r}" if use.prev else "at the start"
            out.append(f"{held}, but stands alone {where}, where no adjective can")
        elif kind is not Kind.NOUN and use.head and det in DET_ONE and kind in NOMINAL:
            out.append(f"{held}, but {det!r} needs a singular countable noun")
        elif kind is Kind.NOUN and use.head and det is None and not use.headline:
            out.append(
                f"{held}, which need an article here: write 'a {name}' (dropped before a "
                f"plural or mass noun) or 'the {name}'"
            )
        elif kind is Kind.PLURAL and use.back:
            out.append(f"{held}, but 'it' or 'its' later in the sentence refers back to it")
    return out


def _after_noun(tokens: Sequence[Token], index: int) -> bool:
    if index == 0:
        return False
    before = tokens[index - 1]
    return before.slot is not None or (
        before.text[0].isalnum() and before.lower not in DETERMINERS | PREPOSITIONS | CLOSED
    )
