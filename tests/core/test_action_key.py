"""The action key: built and read in one place, the same string as the ledger has always held."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fleet.core.kinds import Action, ActionKey, action_of

actions = st.sampled_from([action.value for action in Action])


def test_a_tick_key_is_agent_due_second_and_action() -> None:
    key = ActionKey.tick(42, 1_763_294_400, "like")
    assert str(key) == "42:1763294400:like" == key.text
    assert key.due_at == 1_763_294_400


def test_an_admins_act_has_a_key_space_of_its_own() -> None:
    key = ActionKey.manual(7, 1_763_294_400, "a1b2c3d4", "post")
    assert str(key) == "7:manual-1763294400-a1b2c3d4:post"
    assert key.due_at is None
    assert ActionKey.parse(str(key)) == key


@given(st.integers(min_value=1, max_value=2**63 - 1), st.integers(0, 2**40), actions)
def test_parse_reads_back_what_format_wrote(agent_id: int, due_at: int, action: str) -> None:
    key = ActionKey.tick(agent_id, due_at, action)
    assert ActionKey.parse(str(key)) == key
    assert action_of(str(key)) == action


@pytest.mark.parametrize(
    "text", ["", "like", "x:1:like", "12:like", "12::like", ":1:like", "12:1:"]
)
def test_what_is_not_a_key_is_refused_by_name(text: str) -> None:
    with pytest.raises(ValueError, match="is not an action key"):
        ActionKey.parse(text)
