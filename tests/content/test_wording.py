"""Typed slots: loading refuses a template whose slot may get the wrong kind of word, and
rendering makes a word of the right kind agree with the words around it."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleet.content.offline.phrasing import Fill, lead_into, render
from fleet.core.wording import Form, Kind, slot_problems
from fleet.errors import PersonaFileError
from fleet.infra.persona_files import BUNDLED_DIR, load_persona

GAME_DEV = BUNDLED_DIR / "indie_game_dev.toml"


def _with(tmp_path: Path, old: str, new: str, source: Path = GAME_DEV) -> Path:
    """A copy of a bundled persona file with one line of its voice changed."""
    text = source.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / source.name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _refused(path: Path) -> str:
    with pytest.raises(PersonaFileError) as raised:
        load_persona(path)
    message = str(raised.value)
    assert str(path) in message
    return message


def test_the_bundled_voices_load() -> None:
    assert load_persona(GAME_DEV).voice is not None


def test_an_adverbial_after_a_preposition_is_refused_naming_file_field_and_template(
    tmp_path: Path,
) -> None:
    # The caption that wrote "Pixels from on a slow Sunday".
    path = _with(tmp_path, '"Pixels made {time}: a {subject}"', '"Pixels from {time}: a {subject}"')
    message = _refused(path)
    assert "voice.captions" in message and "'Pixels from {time}: a {subject}'" in message
    assert "{time} holds adverbials such as 'tonight', but 'from' needs a noun phrase" in message


def test_an_adjective_where_a_noun_is_needed_is_refused(tmp_path: Path) -> None:
    # "How did you get the clean to look like that?": an adjective after "the".
    template = '"How did you get the {mood} to look like that?"'
    message = _refused(_with(tmp_path, '"Keep going!"', template))
    assert "voice.follow_ups" in message and "How did you get the {mood}" in message
    assert "{mood} holds adjectives such as 'cosy', but stands where a noun is needed" in message


def test_a_plural_before_a_noun_it_would_modify_is_refused(tmp_path: Path) -> None:
    message = _refused(_with(tmp_path, '"Keep going!"', '"The {interest} post is great."'))
    assert "{interest} holds plurals such as 'sprites'" in message
    assert "stands before 'post' as a modifier" in message


def test_a_bare_singular_noun_is_refused_outside_a_caption_s_opening(tmp_path: Path) -> None:
    message = _refused(_with(tmp_path, '"Keep going!"', '"Made with {look} again."'))
    assert "{look} holds nouns such as 'night palette', which need an article here" in message


def test_every_before_a_mass_noun_is_refused(tmp_path: Path) -> None:
    message = _refused(_with(tmp_path, '"Keep going!"', '"Every {interest} counts."'))
    assert "'every' needs a singular countable noun" in message


def test_a_reply_that_names_nothing_of_the_post_is_refused(tmp_path: Path) -> None:
    old = '"That {post_subject} has so much personality.",'
    message = _refused(_with(tmp_path, old, '"So much personality.",'))
    assert "voice.replies" in message and "names nothing of the post" in message


def test_an_unknown_slot_is_refused(tmp_path: Path) -> None:
    message = _refused(_with(tmp_path, '"Keep going!"', '"Keep {going}!"'))
    assert "{going} is not a slot here" in message


def test_an_interest_without_a_part_of_speech_is_refused(tmp_path: Path) -> None:
    old = 'plural = ["sprites", "tilesets", "retro palettes", "game jams"]'
    message = _refused(_with(tmp_path, old, 'plural = ["sprites", "tilesets", "retro palettes"]'))
    assert "voice.words.interest must tag each interest" in message and "game jams" in message


def test_words_of_a_kind_that_stands_alone_are_not_mixed_with_nouns(tmp_path: Path) -> None:
    old = 'qualifier = [\n    "with a walk cycle",'
    message = _refused(
        _with(tmp_path, old, 'noun = ["boss"]\nqualifier = [\n    "with a walk cycle",')
    )
    assert "detail mixes noun, qualifier" in message


@pytest.mark.parametrize(
    ("template", "kinds", "fine"),
    [
        ("Made with a {x}.", {Kind.NOUN, Kind.PLURAL, Kind.MASS}, True),
        ("That {x} is great.", {Kind.NOUN, Kind.PLURAL, Kind.MASS}, True),
        ("Does the {x} hold up?", {Kind.PLURAL}, True),
        ("One more {x} for the game.", {Kind.MASS}, False),
        ("{x}, made at night", {Kind.NOUN}, False),
        ("Quiet and {x}.", {Kind.ADJECTIVE}, True),
        ("A {x} take on it.", {Kind.ADJECTIVE, Kind.NOUN, Kind.MASS}, True),
        ("Shot {x}.", {Kind.ADVERBIAL}, True),
        ("Shot in {x}.", {Kind.ADVERBIAL}, False),
        ("The {x} appeared on its own.", {Kind.PLURAL}, False),
    ],
)
def test_where_a_kind_of_word_may_stand(template: str, kinds: set[Kind], fine: bool) -> None:
    assert (slot_problems(template, {"x": frozenset(kinds)}) == []) is fine


CAT, PRICES = Fill("pixel cat", Kind.NOUN), Fill("coffee prices", Kind.PLURAL)


@pytest.mark.parametrize(
    ("template", "fill", "text"),
    [
        (
            "That {x} is great and it sits well.",
            PRICES,
            "Those coffee prices are great and it sits well.",
        ),
        ("I tried a {x} today.", Fill("pixel art", Kind.MASS), "I tried pixel art today."),
        (
            "I tried a {x} today.",
            Fill("hour-long timelapse", Kind.NOUN),
            "I tried an hour-long timelapse today.",
        ),
        ("I tried a {x} today.", Fill("user flow", Kind.NOUN), "I tried a user flow today."),
        ("Does the {x} hold up?", PRICES, "Do the coffee prices hold up?"),
        ("The {x} almost seems to breathe.", PRICES, "The coffee prices almost seem to breathe."),
        ("The light on the {x} is soft.", PRICES, "The light on the coffee prices is soft."),
        ("I love these {x}.", CAT, "I love this pixel cat."),
        ("{x} in a night palette", CAT, "Pixel cat in a night palette"),
    ],
)
def test_a_word_of_the_right_kind_agrees_with_its_neighbours(
    template: str, fill: Fill, text: str
) -> None:
    assert render(template, {"x": fill}, form=Form.HEADLINE) == text


def test_a_lead_lowers_the_sentence_it_opens_but_not_i() -> None:
    assert lead_into("Oh, ", "The cat.") == "Oh, the cat."
    assert lead_into("Oh, ", "I love it.") == "Oh, I love it."
