from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleet.core.names import SUFFIX_SPACE, agent_seed, handle_suffix, identity
from fleet.infra.persona_files import PersonaCatalogue

CATALOGUE = PersonaCatalogue.from_directory()
SLUGS = CATALOGUE.slugs()


def test_handles_are_unique_across_100000_agents_of_all_personas() -> None:
    handles = {
        identity(persona, 7, index).handle
        for persona in CATALOGUE
        for index in range(100_000 // len(SLUGS) + 1)
    }
    assert len(handles) == (100_000 // len(SLUGS) + 1) * len(SLUGS)


@given(
    slug=st.sampled_from(SLUGS),
    fleet_seed=st.integers(0, 2**63 - 1),
    index=st.integers(0, SUFFIX_SPACE - 1),
)
def test_the_same_seed_gives_the_same_identity(slug: str, fleet_seed: int, index: int) -> None:
    persona = CATALOGUE.get(slug)
    assert identity(persona, fleet_seed, index) == identity(persona, fleet_seed, index)


@settings(max_examples=200)
@given(
    slug=st.sampled_from(SLUGS),
    fleet_seed=st.integers(0, 2**63 - 1),
    a=st.integers(0, SUFFIX_SPACE - 1),
    b=st.integers(0, SUFFIX_SPACE - 1),
)
def test_distinct_indices_never_share_a_handle_suffix(
    slug: str, fleet_seed: int, a: int, b: int
) -> None:
    if a != b:
        assert handle_suffix(fleet_seed, slug, a) != handle_suffix(fleet_seed, slug, b)


def test_later_agents_never_collide_with_earlier_ones() -> None:
    persona = CATALOGUE.get("indie_game_dev")
    first_batch = {identity(persona, 7, i).handle for i in range(100)}
    next_week = {identity(persona, 7, i).handle for i in range(100, 120)}
    assert not first_batch & next_week


def test_handles_are_lower_case_and_carry_the_persona_prefix() -> None:
    for persona in CATALOGUE:
        handle = identity(persona, 1, 0).handle
        assert handle.startswith(persona.names.handle_prefix + "_")
        assert handle == handle.lower() and len(handle) <= 64


def test_another_fleet_seed_gives_other_agents() -> None:
    assert agent_seed(1, "ux_ui_designer", 0) != agent_seed(2, "ux_ui_designer", 0)
    assert 0 <= agent_seed(1, "ux_ui_designer", 0) < 2**63


def test_an_index_outside_the_suffix_space_is_refused() -> None:
    with pytest.raises(ValueError, match="outside"):
        handle_suffix(1, "ux_ui_designer", SUFFIX_SPACE)
