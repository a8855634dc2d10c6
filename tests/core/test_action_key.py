"""An action's key keeps its text, made once: the text the ledger, the gallery and the
broker hold, equal keys for equal texts, whichever way the key was made."""

from __future__ import annotations

import pickle
from dataclasses import replace

import pytest

from fleet.core.kinds import Action, ActionKey


def test_a_key_made_parsed_or_built_is_the_same_key_with_the_same_text() -> None:
    built = ActionKey(12, "1700000000", Action.LIKE)
    ticked = ActionKey.tick(12, 1700000000, "like")
    parsed = ActionKey.parse("12:1700000000:like")

    assert built == ticked == parsed
    assert len({built, ticked, parsed}) == 1
    assert built.text == ticked.text == parsed.text == "12:1700000000:like"
    assert parsed != ActionKey.parse("12:1700000000:post")
    assert parsed != ActionKey.parse("13:1700000000:like")


def test_a_key_written_otherwise_is_read_into_its_one_text() -> None:
    # "012" names agent 12: the key's text is the one its parts make, as the ledger has it.
    assert ActionKey.parse("012:1700000000:like").text == "12:1700000000:like"
    assert ActionKey.parse("012:1700000000:like") == ActionKey.tick(12, 1700000000, "like")


def test_a_key_changed_or_copied_keeps_a_text_true_to_its_parts() -> None:
    key = ActionKey.parse("12:manual-1700000000-ab:like")

    moved = replace(key, when="1700000060")

    assert moved.text == "12:1700000060:like"
    assert pickle.loads(pickle.dumps(moved)).text == "12:1700000060:like"
    assert str(key) == key.text == "12:manual-1700000000-ab:like"


def test_what_is_not_a_key_is_refused() -> None:
    with pytest.raises(ValueError, match="not an action key"):
        ActionKey.parse("12:1700000000:wave")
