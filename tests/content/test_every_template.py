"""Every template of every voice, with every word that can fill each of its slots, reads as
English to the rule-based proofreader (``fleet.content.offline.proofread``).

The cover is systematic: for each template and each of its slots, every word that slot
can get is rendered once, the template's other slots taking words in turn. A comment's
post slots get what a reading of any bundled persona's post can give: every subject of
every voice (singular, plural and mass), every medium a reader knows, every palette.
"""

from __future__ import annotations

from itertools import cycle

import pytest

from fleet.content.offline.lexicon import GENERAL, MEDIUMS, voice_of
from fleet.content.offline.phrasing import Fill, render
from fleet.content.offline.proofread import lexicon, problems
from fleet.core.voice import COMMENTS, POSTS, Voice, slot_kinds
from fleet.core.wording import SLOT, Form, Kind, tokenise, uses
from tests.content.conftest import CATALOGUE

VOICES: dict[str, Voice] = {slug: voice_of(CATALOGUE.get(slug)) for slug in CATALOGUE.slugs()}
VOICES["general"] = GENERAL
FIELDS = (*POSTS, *COMMENTS, "thoughts")
LEXICON = lexicon(CATALOGUE)
# Words a post read by a commenter can give, from every voice (and sounds that test "a"/"an").
READ = {
    "post_subject": [Fill(w, k) for v in VOICES.values() for w, k in v.all_words("subject")]
    + [Fill("hour-long timelapse", Kind.NOUN), Fill("user flow", Kind.NOUN)],
    "post_medium": [Fill(w, k) for w, k in MEDIUMS.items()],
    "post_palette": [
        Fill(f"{w} palette", Kind.NOUN) for v in VOICES.values() for w, _ in v.all_words("palette")
    ],
}


def candidates(voice: Voice, field: str) -> dict[str, list[Fill]]:
    """Every word each slot of the field's templates can get."""
    out: dict[str, list[Fill]] = {}
    for name in slot_kinds(voice.words, field):
        base = name[:-1] if name.endswith("2") else name
        if name in READ:
            out[name] = READ[name]
        elif name == "n":
            out[name] = [Fill(n, Kind.NUMBER) for n in ("2", "8", "11", "17", "99")]
        elif name == "nth":
            out[name] = [Fill(n, Kind.ORDINAL) for n in ("2nd", "3rd", "11th", "21st", "42nd")]
        elif base in ("subject", "noun"):
            out[name] = [Fill(w, k) for w, k in voice.all_words("subject")]
            if base == "subject" and "detail" in voice.words:
                details = cycle(w for w, _ in voice.all_words("detail"))
                out[name] += [Fill(f"{f.text} {next(details)}", f.kind) for f in list(out[name])]
        else:
            out[name] = [
                Fill(w.replace("-", " ") if base == "style" else w, k)
                for w, k in voice.all_words(base)
            ]
    return out


def renders(voice: Voice, field: str) -> list[tuple[str, dict[str, Fill], str]]:
    """(template, fills, text) for every word of every slot of every template."""
    words = candidates(voice, field)
    out = []
    for template in getattr(voice, field):
        slots = sorted(set(SLOT.findall(template)))
        for slot in slots:
            for turn, word in enumerate(words[slot]):
                fills = {s: words[s][(turn + i) % len(words[s])] for i, s in enumerate(slots)}
                fills[slot] = word
                for s in slots:  # {mood} and {mood2} are two different words
                    if s.endswith("2") and fills[s].text == fills[s[:-1]].text:
                        fills[s] = words[s][(turn + 1) % len(words[s])]
                out.append((template, fills, render(template, fills, form=Form.of_field(field))))
    return out


def _covered() -> int:
    return sum(len(renders(v, f)) for v in VOICES.values() for f in FIELDS)


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("voice", list(VOICES))
def test_every_template_reads_well_with_every_word_of_each_slot(voice: str, field: str) -> None:
    wrong = []
    for template, fills, text in renders(VOICES[voice], field):
        found = problems(text, LEXICON, form=Form.of_field(field))
        lost = [f.text for f in fills.values() if f.text.lower() not in text.lower()]
        if found or lost or "{" in text:
            wrong.append((template, text, found, lost))
    assert wrong == [], wrong[:20]


def test_the_cover_renders_each_word_of_each_slot_of_each_template() -> None:
    # Each (template, slot, word) once: as many renders as words over slots over templates.
    expected = 0
    for voice in VOICES.values():
        for field in FIELDS:
            words = candidates(voice, field)
            for template in getattr(voice, field):
                expected += sum(len(words[s]) for s in set(SLOT.findall(template)))
    assert _covered() == expected > 10_000


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("voice", list(VOICES))
def test_a_template_read_when_its_voice_loads_renders_as_one_read_for_its_fills(
    voice: str, field: str
) -> None:
    # Each render of the cover: the voice's reading is the one a reading for the fills'
    # own kinds gives, and the text it renders is the text rendered without the voice.
    form, wrong = Form.of_field(field), []
    for template, fills, text in renders(VOICES[voice], field):
        reading = VOICES[voice].reading(template, form)
        assert reading is not None, template
        kinds = {slot: frozenset({fill.kind}) for slot, fill in fills.items()}
        if reading.uses != tuple(uses(tokenise(template), kinds, form=form)):
            wrong.append((template, fills, "reading"))
        if render(template, fills, form=form, voice=VOICES[voice]) != text:
            wrong.append((template, fills, "text"))
    assert wrong == [], wrong[:20]


def test_a_fill_of_a_kind_its_slot_s_list_lacks_has_the_template_read_for_it() -> None:
    # The general voice reads "{mood}" (adjectives) into the phrase "A {mood} {noun}", whose
    # "A" a plural drops; an adverbial there stands alone and the "A" stays with it.
    template = "A {mood} {noun} in {look}"
    assert template in GENERAL.captions
    fills = {
        "mood": Fill("tonight", Kind.ADVERBIAL),
        "noun": Fill("foxes", Kind.PLURAL),
        "look": Fill("moonlight", Kind.MASS),
    }
    text = render(template, fills, form=Form.HEADLINE, voice=GENERAL)
    assert text == render(template, fills, form=Form.HEADLINE) == "A tonight foxes in moonlight"
    fills["mood"] = Fill("quiet", Kind.ADJECTIVE)
    assert render(template, fills, form=Form.HEADLINE, voice=GENERAL) == "Quiet foxes in moonlight"
