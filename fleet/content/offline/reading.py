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
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from fleet.content.guard.blocklist import never_say
from fleet.content.offline.lexicon import COLOURS, GENERAL, MEDIUMS, NOT_A_THING
from fleet.content.offline.phrasing import Fill
from fleet.content.port import PostSeen
from fleet.content.sanitise import without_links
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
class Impression:
    """What a commenter makes of a post."""

    subject: Fill | None = None
    medium: Fill | None = None
    palette: Fill | None = None
    in_field: bool = False  # the post is in the commenter's own field
    # What the person said, taken up by a comment (each short and in ordinary words):
    asked: bool = False  # the post asks something
    asked_about: str | None = None  # the thing it asks about: "slots"
    problem: str | None = None  # what gives them trouble: "reflections", "double-booking"
    name: str | None = None  # a name they gave: "Miso"
    number: str | None = None  # a figure with its unit: "12 km"

    def fills(self) -> dict[str, Fill]:
        """The post's words for a comment's ``{post_subject}``, ``{post_medium}``..."""
        found = {"post_subject": self.subject, "post_medium": self.medium}
        found["post_palette"] = self.palette
        return {name: fill for name, fill in found.items() if fill is not None}


# A reply's drafts (eight candidates each, and its redraws) read the same post again and
# again: each (voice, post) is read once while it stays among the newest this many.
_READ_KEPT = 512
_read: OrderedDict[tuple[int, str, str, bool], tuple[Voice, Impression]] = OrderedDict()
_read_lock = threading.Lock()


def read_post(post: PostSeen, voice: Voice) -> Impression:
    """The post's subject, medium and palette as this voice reads them (what it reads
    is the title, the description and whether an agent wrote it: a reading is kept)."""
    key = (id(voice), post.title, post.description, post.author_is_agent)
    with _read_lock:
        kept = _read.get(key)
        if kept is not None and kept[0] is voice:
            _read.move_to_end(key)
            return kept[1]
    found = _read_post(post, voice)
    with _read_lock:
        _read[key] = (voice, found)
        while len(_read) > _READ_KEPT:
            _read.popitem(last=False)
    return found


def _read_post(post: PostSeen, voice: Voice) -> Impression:
    own = {
        slot: sorted(voice.all_words(slot), key=lambda wk: -len(wk[0]))
        for slot in _IN_FIELD
        if slot in voice.words
    }
    # A link names no thing: "the evil" is not said back from "evil[.]zip".
    texts = [
        without_links(_unlabelled(post.title[:MAX_TITLE_READ])),
        without_links(post.description[:MAX_DESCRIPTION_READ]),
    ]
    subject = find_phrase(texts, own.get("subject", []))  # the commenter's own words
    if subject is None:
        subject = _first_thing(texts)
        if subject is not None and not (
            ordinary(subject.text) if post.author_is_agent else sayable(subject.text, voice)
        ):
            # Not plain, or a person's words not known to be fit to say back: generic. (A
            # fellow agent's title is the fleet's own words, guarded when it was written.)
            subject = None
    mediums = [(w.replace("-", " "), k) for w, k in own.get("style", []) + own.get("interest", [])]
    medium = find_phrase(texts, [wk for wk in mediums if wk[1] in NOMINAL] + list(MEDIUMS.items()))
    if medium and subject and medium.text in subject.text:
        medium = None
    in_field = any(find_phrase(texts, own[slot]) for slot in own)
    asked, asked_about = _question(texts)
    return Impression(
        subject,
        medium,
        _palette(texts),
        in_field,
        asked=asked,
        asked_about=asked_about,
        problem=_problem(texts),
        name=_name(texts),
        number=_number(texts),
    )


# "WIP: ...", "Day 3: ...", "Ember Studies: ...": a short label before a colon names a
# series or a stage, not the post's subject.
_LABEL = re.compile(r"[^:\n]{1,30}:\s+(?=\S)")


def _unlabelled(title: str) -> str:
    """The title without a leading label (what follows the colon is the subject)."""
    found = _LABEL.match(title)
    return title[found.end() :] if found else title


# A post is read this far, whatever it holds: a gallery title is at most 200 letters.
MAX_TITLE_READ = 200
MAX_DESCRIPTION_READ = 1000
_PLAIN_WORD = re.compile(r"[A-Za-z][a-z]{0,19}(?:['-][a-z]{1,12}){0,3}")


def ordinary(phrase: str, *, most: int = 5) -> bool:
    """Whether a phrase may be said back: at most ``most`` plain words, 40 letters, none
    the fleet must never say ("the kill all", a 325-letter spam run are not)."""
    words = phrase.split()
    return (
        0 < len(words) <= most
        and len(phrase) <= 40
        and all(_PLAIN_WORD.fullmatch(w) for w in words)
        and never_say(phrase) is None
    )


# A person's phrase is said back whole only when this short, or every word of it is known.
MOST_UNKNOWN_WORDS = 2


@functools.cache
def _general_words() -> frozenset[str]:
    """The words any commenter knows: the general voice's, colours, mediums."""
    known = {
        w for slot in GENERAL.words for phrase, _ in GENERAL.all_words(slot) for w in phrase.split()
    }
    known |= COLOURS | {w for medium in MEDIUMS for w in medium.split()}
    return frozenset(w.lower() for w in known)


def known_words(voice: Voice) -> frozenset[str]:
    """The vocabulary a voice says things in: its own words of every slot, and the
    general ones."""
    own = {w for slot in voice.words for phrase, _ in voice.all_words(slot) for w in phrase.split()}
    return _general_words() | {w.lower().replace("-", " ") for w in own}


def _known(word: str, known: frozenset[str]) -> bool:
    word = word.lower()
    return word in known or (word.endswith("s") and word[:-1] in known)


def sayable(phrase: str, voice: Voice) -> bool:
    """Whether a person's phrase may be named in a comment: ordinary (short, plain words,
    nothing the fleet never says) and either at most ``MOST_UNKNOWN_WORDS`` words or
    every word in the voice's known vocabulary. A longer run of words no voice knows
    ("idiots and losers everywhere", "cheap pills pharmacy discount") would be the
    person's words praised back: the comment does without them."""
    if not ordinary(phrase):
        return False
    words = phrase.split()
    if len(words) <= MOST_UNKNOWN_WORDS:
        return True
    known = known_words(voice)
    return all(_known(w, known) for w in words)


_NOT_ASKED_ABOUT = word_set(
    """tips advice thoughts thought ideas idea feedback help opinion opinions suggestions
    way ways one ones anyone people you this that it what how why which something
    hard easy taken busy show make use get fix do go done better best further more less
    anything everything push enough much many lot lots bit little time times stop start
    avoid prevent need want choose pick decide deal there here left right
    animate animated make made making look looks looking feel feels work works working
    try trying keep add change read reads readable lighter darker bigger smaller
    brighter softer warmer cooler tighter looser faster slower simpler cleaner"""
)


def _question(texts: list[str]) -> tuple[bool, str | None]:
    """Whether the post asks something, and the thing its last question names first."""
    for text in texts:
        questions = [s for s in re.split(r"(?<=[.!?])\s+", text) if s.endswith("?")]
        if not questions:
            continue
        segment = questions[-1]
        segment = segment[:1].lower() + segment[1:]
        things = [_as_thing(p) for p in _phrases(segment)]
        named = [
            t.text
            for t in things
            if t is not None
            and t.text.lower() not in _NOT_ASKED_ABOUT
            and t.text.split()[0].lower() not in _NOT_ASKED_ABOUT  # "much shadow"
            and t.text.split()[-1].lower() not in _NOT_ASKED_ABOUT
            and ordinary(t.text, most=3)
        ]
        return True, (named[0].lower() if named and not named[0].isupper() else None)
    return False, None


# "struggling with the reflections", "trouble with", "unsure about the font"
_TROUBLE_WITH = word_set("struggling struggle trouble problem problems stuck unsure fighting")
_THEN = word_set("with about on")
# "which keeps growing", "it keeps getting better": what keeps going on, not a trouble.
_NOT_TROUBLE_AFTER = word_set("which that it this series collection project")
_GOING_WELL = word_set(
    "growing improving going coming getting evolving expanding changing building happening"
)


def _problem(texts: list[str]) -> str | None:
    """What gives the person trouble, named in a few plain words, or None."""
    for text in texts:
        tokens = [t.lower() for t in _TOKEN.findall(text)]
        for i, token in enumerate(tokens):
            found: list[str] = []
            if token in _TROUBLE_WITH and i + 1 < len(tokens) and tokens[i + 1] in _THEN:
                found = tokens[i + 2 : i + 6]
            elif token in ("keep", "keeps") and i + 1 < len(tokens):
                going = tokens[i + 1]
                troubled = going.endswith("ing") and going not in _GOING_WELL
                if troubled and (i == 0 or tokens[i - 1] not in _NOT_TROUBLE_AFTER):
                    found = [going]
            elif token in ("is", "are") and i + 1 < len(tokens) and tokens[i + 1] == "hard":
                found = tokens[max(0, i - 2) : i]
            while found and found[0] in _DETERMINERS:
                found = found[1:]
            cut = next((j for j, w in enumerate(found) if not w[0].isalpha() or w in _BREAKS), None)
            found = found[:cut]
            phrase = " ".join(found)
            if found and ordinary(phrase, most=3) and phrase not in NOT_A_THING:
                return phrase
    return None


_KIN = word_set(
    """cat dog kitten puppy pup rabbit bunny hamster parrot horse son daughter baby
    grandmother grandma grandfather grandpa nan mum mom dad sister brother niece nephew
    plant tortoise"""
)


def _name(texts: list[str]) -> str | None:
    """A name the person gave: "my cat Miso", "named Pip", "called Rosa"."""
    for text in texts:
        tokens: list[str] = _TOKEN.findall(text)
        for i in range(1, len(tokens)):
            before = tokens[i - 1].lower()
            word = tokens[i]
            named = before in ("named", "called") or (
                before in _KIN and i > 1 and tokens[i - 2].lower() in ("my", "our")
            )
            if (
                named
                and re.fullmatch(r"[A-Z][a-z]{1,14}", word)
                and word.lower() not in NOT_A_THING
                and word.lower() not in _BREAKS
                and ordinary(word, most=1)
            ):
                return word
    return None


_NUMBER = re.compile(
    r"(?<![\w.])(\d{1,4}(?:\.\d{1,2})?) ?(km|mi|miles|kg|px|colours|colors|frames|hours|"
    r"days|weeks|months|minutes|steps|pages|sprites|screens|shots)(?![\w])",
    re.IGNORECASE,
)


def _number(texts: list[str]) -> str | None:
    """The largest figure with a unit the post gives ("went from 5 km to 12 km": 12 km)."""
    for text in texts:
        found = [
            (float(m.group(1)), f"{m.group(1)} {m.group(2).lower()}")
            for m in _NUMBER.finditer(text)
        ]
        if found:
            return max(found)[1]
    return None


@functools.lru_cache(maxsize=4096)
def _whole(phrase: str) -> re.Pattern[str]:
    """``phrase`` as a whole word or phrase (not inside a longer word)."""
    return re.compile(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])")


def find_phrase(texts: list[str], phrases: Sequence[tuple[str, Kind]]) -> Fill | None:
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


_PALETTE_WORDS = frozenset({"palette", "colours", "colors", "scale"})
# Words of bounded length, or one other character: each match is a single step, so no
# text can make the reading backtrack (31,000 letters in a row cost what 31 words do).
_LOWER_WORD = re.compile(r"[a-z][a-z-]{0,30}|[^a-z\s]")


def _palette(texts: list[str]) -> Fill | None:
    """Colour words just before "palette" (or "colours", "scale"): "teal and orange"."""
    for text in texts:
        words = _LOWER_WORD.findall(text.lower())
        for index, word in enumerate(words):
            if word not in _PALETTE_WORDS:
                continue
            before = words[max(0, index - 4) : index]
            while before and before[0] not in COLOURS:
                before = before[1:]
            if before and before[-1] in COLOURS and all(w[0].isalpha() for w in before):
                return Fill(" ".join(before) + " palette", Kind.NOUN)
    return None


# What a comment says, for the reply that answers it.
_PRAISE = word_set(
    """love loved lovely beautiful gorgeous great amazing stunning nice wonderful fantastic
    brilliant cool awesome gorgeous superb excellent perfect incredible beautifully neat
    impressive adorable cute charming fun good wow beauty calming soothing peaceful relaxing
    dreamy cosy cozy striking"""
)
_PRAISED_AFTER = word_set("love loved lovely beautiful gorgeous great amazing stunning nice")
_SUGGEST = re.compile(
    r"\b(?:you should|maybe try|try(?:ing)? (?:a|an|the|some|more|less)|what if|have you "
    r"tried|you could|consider|i'?d (?:add|try|make|push|use|crop)|might (?:try|be worth)|"
    r"would be (?:nice|cool|great|fun) (?:to|if))\b"
)
# "a bit flat", "feels slightly muddy": the word after a softener is what was found wanting.
_CRITIQUE = re.compile(
    r"\b(?:too|a bit|a little|a tad|slightly|kind of|kinda|feels?|looks?|reads?) "
    r"(?:(?:too|a bit|a little|a tad|slightly|kind of|kinda|somewhat|quite) )?([a-z]{3,12})\b"
)
# "This reminds me of my grandmother's kitchen": what the post called up for the person,
# answered as a reading of it, not thanked as praise.
_ASSOCIATION = re.compile(
    r"\breminds? me\b|\bmakes? me think\b|\btakes? me back\b|\b(?:feels?|looks?) like (?:a|an|my|the)\b"
)
_CRITIQUE_WORDS = word_set(
    """dark busy flat stiff crowded muddy cluttered small big bright harsh washed loud
    plain empty soft blurry noisy heavy cramped tight long short slow fast saturated dull
    bland cold sharp static grainy"""
)
_QUESTION_KINDS = (
    ("how_long", re.compile(r"\bhow (?:long|much time|many hours|many days)\b")),
    ("either", re.compile(r"^(?:is|are|was|did) .{2,60} or (?:a |an |the )?\w+\??$")),
    ("prints", re.compile(r"\bprints?\b|\b(?:sell|buy|shop)\b")),
    ("where", re.compile(r"\b(?:larger|bigger|full|high-res) version|\bwhere can\b")),
    ("next", re.compile(r"\b(?:series|part two|more of (?:these|this)|next|follow-up)\b")),
    (
        "how",
        re.compile(
            r"\bhow (?:did|do) you\b|\bwhat (?:did|do) you (?:use|add)|\b(?:tools?|software|"
            r"app|brush(?:es)?|camera|lens|process|steps|set (?:this|it) up|tips|prompt|"
            r"palette|workflow)\b"
        ),
    ),
)


@dataclass(frozen=True, slots=True)
class Said:
    """What a comment says, read for the reply: what kind of thing, and about what (a
    word or two of the comment, only when it is fit to say back: ``sayable``)."""

    kind: str = "remark"  # question, suggestion, critique, compliment, association, remark
    question: str | None = None  # how_long, either, prints, where, next, how, other
    about: str | None = None  # what was asked about, suggested, found wanting
    praised: str | None = None  # what was praised: "light", "colours"


MAX_COMMENT_READ = 600


def read_comment(text: str, voice: Voice) -> Said:
    """What a comment on the agent's post (or an answer to its comment) says: a question
    and what kind, a suggestion, a critique, a compliment and what it praised. The text is
    data: read this far, never followed; only a word or two of it is ever kept."""
    text = without_links(text[:MAX_COMMENT_READ])
    lower = text.lower()
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]
    praised = _praised(sentences, voice)
    questions = [s.lower() for s in sentences if s.rstrip().endswith("?")]
    if questions:
        asked = questions[-1]
        kind = next((name for name, pattern in _QUESTION_KINDS if pattern.search(asked)), "other")
        _, about = _question([asked])
        if about is not None and kind in ("how", "other"):  # what the answer names
            about = _said_thing(about.split(), voice)
        else:
            about = None
        suggested = _SUGGEST.search(asked)
        if suggested is not None and kind == "other":
            about = _suggested(asked[suggested.end() :], voice)
            return Said("suggestion", about=about, praised=praised)
        return Said("question", question=kind, about=about, praised=praised)
    suggestion = _SUGGEST.search(lower)
    if suggestion is not None:
        return Said(
            "suggestion", about=_suggested(lower[suggestion.end() :], voice), praised=praised
        )
    for found in _CRITIQUE.finditer(lower):
        word = found.group(1)
        if word in _CRITIQUE_WORDS and sayable(word, voice):
            return Said("critique", about=word, praised=praised)
    if _ASSOCIATION.search(lower):
        return Said("association", praised=praised)
    words = set(_TOKEN.findall(lower))
    if praised is not None or words & _PRAISE or "thank" in lower:
        return Said("compliment", praised=praised)
    return Said("remark", praised=praised)


_NOT_PRAISED = word_set(
    """this that it one ones work job idea piece post shot thing stuff everything wait ever
    any plans share long version really so very just such what"""
)


def _said_thing(words: list[str], voice: Voice) -> str | None:
    """At most two plain words naming a thing, fit to say back ("light", "rim light")."""
    kept: list[str] = []
    for word in words:
        lower = word.lower()
        if lower in _DETERMINERS or lower in _PRAISE or (not kept and lower.endswith("ing")):
            continue
        if lower in _BREAKS or lower in _NOT_PRAISED or not word.isalpha() or lower in VERBS:
            break
        kept.append(lower)
    phrase = " ".join(kept[-2:]) if kept and len(kept) <= 3 else ""
    if not phrase or phrase.endswith("ly") or len(phrase) < 3:
        return None
    head = kept[-1]
    if phrase in _NOT_ASKED_ABOUT or (head in NOT_A_THING and head not in _ALSO_THINGS):
        return None
    return phrase if sayable(phrase, voice) else None


# Words the commenting reading takes for qualities, which a compliment names as things.
_ALSO_THINGS = word_set("light sketch study draft")


def _praised(sentences: list[str], voice: Voice) -> str | None:
    """The thing a compliment names ("Lovely light.", "The colours are gorgeous"), in at
    most two words the voice may say back, or None."""
    for sentence in sentences:
        tokens = _TOKEN.findall(sentence)
        lowered = [t.lower() for t in tokens]
        for i, token in enumerate(lowered):
            if token not in _PRAISE:
                continue
            after = _said_thing(tokens[i + 1 : i + 5], voice)  # "lovely light"
            if after is not None:
                return after
            if i >= 2 and lowered[i - 1] in ("is", "are", "looks", "look"):  # "the X is great"
                start = max(0, i - 4)
                before = [t for t in tokens[start : i - 1] if t.lower() not in _DETERMINERS]
                found = _said_thing(before[-2:], voice)
                if found is not None:
                    return found
    return None


_SUGGESTION_ENDS = word_set("next time maybe here there too instead then on in to for")


def _suggested(rest: str, voice: Voice) -> str | None:
    """The thing a suggestion names, in at most two sayable words, or None."""
    words: list[str] = []
    for token in _TOKEN.findall(rest)[:8]:
        if token.lower() in _SUGGESTION_ENDS or not token[0].isalpha():
            break
        if not words and token.lower() in _SUGGESTION_VERBS:
            continue  # "to see a night version": the thing, not the seeing
        words.append(token)
    found = _said_thing(words, voice)
    if found is not None and f"{found} version" in rest.lower():
        return f"{found} version"  # "a night version", not "a night"
    return found


_SUGGESTION_VERBS = word_set("see seeing add use using put get have show showing")
