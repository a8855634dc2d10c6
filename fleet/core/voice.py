"""A persona's voice for the offline writer: word lists tagged by part of speech, templates.

A persona file's ``[voice]`` holds it: ``[voice.words.<slot>]`` tables list the words of a
slot under their kind (``noun = [...]``, ``plural = [...]``...), and lists of templates
say what a post, a comment or a thought may look like. A template whose slot may get a
word that cannot stand there is refused with the field, the template and the reason
(``fleet.core.wording``).
"""

from __future__ import annotations

import string
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from fleet.core.wording import NOMINAL, PHRASAL, Form, Kind, TemplateReading, read, slot_problems

SlotName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]{0,31}$")]
Item = Annotated[str, StringConstraints(min_length=1, max_length=80, pattern=r"^[^{}]+$")]
Template = Annotated[str, StringConstraints(min_length=1, max_length=300)]
Words = dict[Kind, tuple[Item, ...]]

# Slots the writer fills itself, by the kind of text a template writes.
WRITER_SLOTS = {"noun", "n", "nth", "post_subject", "post_medium", "post_palette"}
POST_SLOTS: dict[str, frozenset[Kind]] = {
    "n": frozenset({Kind.NUMBER}),
    "nth": frozenset({Kind.ORDINAL}),
}
# What a comment reads from the post it answers (``fleet.content.offline.reading``).
POST_READING: dict[str, frozenset[Kind]] = {
    "post_subject": NOMINAL,
    "post_medium": NOMINAL,
    "post_palette": frozenset({Kind.NOUN}),
}
REQUIRED = ("subject", "look", "palette", "mood", "composition")
POSTS = ("captions", "notes", "questions")
COMMENTS = ("replies", "shop_talk", "follow_ups")
TEMPLATED = (*POSTS, *COMMENTS, "thoughts")  # the fields that hold templates


class Voice(BaseModel):
    """How a persona writes when no model writes for it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Declared first: the template validators below read it.
    words: dict[SlotName, Words]
    captions: tuple[Template, ...] = Field(min_length=1)  # a post's title
    notes: tuple[Template, ...] = Field(min_length=1)  # sentences of its description
    questions: tuple[Template, ...] = ()  # may end a description
    replies: tuple[Template, ...] = Field(min_length=1)  # comments on any post
    shop_talk: tuple[Template, ...] = ()  # comments on a post in the persona's own field
    follow_ups: tuple[Template, ...] = ()  # a comment's second sentence
    thoughts: tuple[Template, ...] = ()  # a note to self after browsing
    emoji: tuple[Annotated[str, StringConstraints(min_length=1, max_length=8)], ...] = ()
    hashtags: bool = False
    _hash: int = PrivateAttr(default=0)
    # Each list's words with their kinds, flattened once (the writer asks dozens of times
    # a text).
    _listed: dict[str, tuple[tuple[str, Kind], ...]] = PrivateAttr(default_factory=dict)
    # Each template read once, when the voice loads, by (template, form): rendering looks
    # it up (``reading``) and reads no template while an agent writes. One reading serves
    # every word a slot gets: a reading hangs on whether the slot's kinds are phrasal, and
    # a list's words are all phrasal or all of one kind (``_lists``); the slots a field
    # adds (``slot_kinds``) are phrasal, so a template reads alike in every field.
    _readings: dict[tuple[str, Form], TemplateReading] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: object, /) -> None:
        # A persona is hashed (prompts are cached by it); the word lists are dicts.
        self._hash = hash(self.model_dump_json())
        self._listed = {
            slot: tuple((word, kind) for kind, words in listed.items() for word in words)
            for slot, listed in self.words.items()
        }
        for field in TEMPLATED:
            form, kinds = Form.of_field(field), slot_kinds(self.words, field)
            for template in getattr(self, field):
                self._readings[template, form] = read(template, kinds, form=form)

    def __hash__(self) -> int:
        return self._hash

    @field_validator("words")
    @classmethod
    def _lists(cls, value: dict[str, Words]) -> dict[str, Words]:
        missing = [name for name in REQUIRED if name not in value]
        if missing:
            raise ValueError(f"no word list for {', '.join(missing)}")
        for name, listed in value.items():
            if name in WRITER_SLOTS:
                raise ValueError(f"{name!r} is filled by the writer; choose another name")
            kinds = set(listed)
            if not kinds or any(not words for words in listed.values()):
                raise ValueError(f"{name}: an empty list")
            if kinds & {Kind.NUMBER, Kind.ORDINAL}:
                raise ValueError(f"{name}: numbers are the writer's ({{n}}, {{nth}})")
            if not (kinds <= PHRASAL or len(kinds) == 1):
                raise ValueError(
                    f"{name} mixes {', '.join(sorted(kinds))}: adverbials, qualifiers and "
                    "labels go in lists of their own"
                )
        if not set(value["subject"]) <= NOMINAL:
            raise ValueError("subject: nouns, plurals or mass nouns only")
        return value

    @field_validator(*TEMPLATED)
    @classmethod
    def _templates(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        words: dict[str, Words] | None = info.data.get("words")
        if words is None or info.field_name is None:
            return value  # the words were refused: that error is enough
        field = info.field_name
        kinds = slot_kinds(words, field)
        problems: list[str] = []
        for index, template in enumerate(value):
            found = _format_problems(template)
            if not found:
                found = slot_problems(template, kinds, words, form=Form.of_field(field))
            names_post = any("{" + name + "}" in template for name in POST_READING)
            if not found and field in ("replies", "shop_talk") and not names_post:
                found = [
                    "names nothing of the post: use {post_subject}, {post_medium} or {post_palette}"
                ]
            problems.extend(f"[{index}] {template!r}: {p}" for p in found)
        if problems:
            raise ValueError("; ".join(problems))
        return value

    def kinds(self, slot: str) -> frozenset[Kind]:
        """The kinds of the words a slot may receive."""
        return frozenset(self.words[slot])

    def all_words(self, slot: str) -> tuple[tuple[str, Kind], ...]:
        """Every word of a list with its kind, in the file's order."""
        return self._listed[slot]

    def reading(self, template: str, form: Form) -> TemplateReading | None:
        """One of the voice's templates as read when the voice loaded, for the kinds of
        its lists' words (None for a template not the voice's)."""
        return self._readings.get((template, form))


def slot_kinds(words: dict[str, Words], field: str) -> dict[str, frozenset[Kind]]:
    """The slots a template of ``field`` may use, with the kinds each may receive."""
    kinds = {name: frozenset(listed) for name, listed in words.items()}
    kinds.update({name + "2": value for name, value in kinds.items()})
    kinds["noun"] = kinds["subject"]
    if field in POSTS:
        kinds.update(POST_SLOTS)
    elif field in COMMENTS:
        kinds.update(POST_READING)
    elif field == "thoughts":
        kinds["post_subject"] = POST_READING["post_subject"]
    return kinds


def _format_problems(template: str) -> list[str]:
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as error:
        return [str(error)]
    bad = [
        name for _, name, spec, conv in parsed if name is not None and (spec or conv or not name)
    ]
    return [f"{{{name}}} is not a plain slot" for name in bad]
