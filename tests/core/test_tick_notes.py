"""A tick's notes: read once from the activity's content by attribute, written back in the
shape the activities have always held (no migration), and a wrong note named."""

from __future__ import annotations

from typing import Any

import pytest

from fleet.core.kinds import Action
from fleet.core.tick_notes import NOTE_NAMES, TickNotes


def test_no_notes_read_as_the_defaults_and_write_nothing() -> None:
    assert TickNotes.of({}) == TickNotes()
    assert TickNotes().content() == {}
    # The action's own keys beside the notes are not the notes' business.
    assert TickNotes.of({"text": "a caption", "usage": {"calls": 1}}) == TickNotes()


@pytest.mark.parametrize(
    "content",
    [
        {"notifications": True},
        {"notifications": True, "identity": True},
        {"degraded_from": "post", "degraded": "the agent's LLM budget is spent"},
        {"degraded_from": "comment", "quota": "comment: 3 a day"},
        {"thinks": False},
        {"notifications": True, "identity": True, "budgeted": False},
        {"session": 1_795_771_200, "says": {"comment": 2, "reply": 1}},
        {"session": 1_795_771_200},
    ],
)
def test_the_notes_a_tick_writes_read_back_as_they_were(content: dict[str, Any]) -> None:
    notes = TickNotes.of(content)
    assert notes.content() == content
    assert set(content) <= set(NOTE_NAMES)


def test_notes_are_read_by_attribute() -> None:
    notes = TickNotes.of(
        {"degraded_from": "post", "quota": "post: 1 a day", "session": 60, "says": {"reply": 1}}
    )
    assert notes.degraded_from is Action.POST
    assert notes.quota == "post: 1 a day"
    assert notes.session == 60
    assert dict(notes.says) == {"reply": 1}
    assert notes.thinks and not notes.notifications


def test_a_truthful_answer_written_under_identity_still_reads_as_one() -> None:
    # The reply keeps its written answer under the note's name (``actions.reply``).
    assert TickNotes.of({"identity": {"asked": "are you a bot?"}}).identity


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ({"notifications": "yes"}, "'notifications'"),
        ({"degraded_from": "dance"}, "'degraded_from'"),
        ({"thinks": 0}, "'thinks'"),
        ({"budgeted": "no"}, "'budgeted'"),
        ({"session": True}, "'session'"),
        ({"session": "60"}, "'session'"),
        ({"says": {"comment": "two"}}, "'says'"),
        ({"quota": 3}, "'quota'"),
    ],
)
def test_a_wrong_note_is_named_with_what_it_holds(content: dict[str, Any], named: str) -> None:
    with pytest.raises(ValueError, match=f"tick note {named} holds"):
        TickNotes.of(content)
