from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleet.core.names import (
    FIRST_NAMES,
    TIERS,
    agent_seed,
    capacity,
    handle_clashes,
    handle_of,
    handle_words,
    identity,
)
from fleet.infra.persona_files import PersonaCatalogue
from tests.conftest import examples

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
    index=st.integers(0, 10**6),
)
def test_the_same_seed_gives_the_same_identity(slug: str, fleet_seed: int, index: int) -> None:
    persona = CATALOGUE.get(slug)
    assert identity(persona, fleet_seed, index) == identity(persona, fleet_seed, index)


@settings(max_examples=examples(200))
@given(
    slug=st.sampled_from(SLUGS),
    fleet_seed=st.integers(0, 2**63 - 1),
    a=st.integers(0, 23_000_000),
    b=st.integers(0, 23_000_000),
)
def test_distinct_indices_never_share_a_handle(slug: str, fleet_seed: int, a: int, b: int) -> None:
    persona = CATALOGUE.get(slug)
    if a != b:
        assert handle_of(persona, fleet_seed, a) != handle_of(persona, fleet_seed, b)


def test_every_combination_of_every_persona_is_a_distinct_string() -> None:
    """The bijection gives distinct slots; the shapes must also spell them distinctly,
    within a persona and across personas (the first tier, where fleets live)."""
    seen: dict[str, str] = {}
    for persona in CATALOGUE:
        base = len(FIRST_NAMES) * len(handle_words(persona)) * 4
        for index in range(base):
            handle = handle_of(persona, 11, index)
            assert handle not in seen, (handle, persona.slug, seen.get(handle))
            seen[handle] = persona.slug
    assert len(seen) == sum(len(FIRST_NAMES) * len(handle_words(p)) * 4 for p in CATALOGUE)


# What a random tail looks like: base-36 noise (gamedev_luckyslime_52humr).
NOISE = re.compile(r"\d[a-z]|[a-z]\d[a-z]")


def test_handles_look_chosen_by_people() -> None:
    """Words, a short number only once a persona's names run out, no base-36 tail."""
    for persona in CATALOGUE:
        handles = [identity(persona, 7, index).handle for index in range(2000)]
        words = handle_words(persona)
        for handle in handles:
            assert re.fullmatch(r"[a-z]+(_[a-z]+)?\d{0,4}", handle), handle
            assert not NOISE.search(handle), handle
            assert any(word in handle for word in words), handle
            assert any(name in handle for name in FIRST_NAMES), handle
            assert len(handle) <= 30
        # Fleets of thousands get no number at all.
        assert not any(ch.isdigit() for h in handles for ch in h)
    later = handle_of(CATALOGUE.get("indie_game_dev"), 7, 2400)
    assert re.fullmatch(r"[a-z_]+\d{2}", later), later


def test_a_persona_whose_words_clash_with_anothers_is_refused() -> None:
    ux = CATALOGUE.get("ux_ui_designer")
    twin = ux.model_copy(update={"slug": "ux_twin"})
    problems = handle_clashes([ux, twin])
    assert problems and "handle word 'grid' is also ux_ui_designer's" in problems[0]
    named = ux.model_copy(update={"names": ux.names.model_copy(update={"nouns": ("Mira", "Grid")})})
    assert "handle word 'mira' is also a first name" in handle_clashes([named])[0]
    assert handle_clashes(list(CATALOGUE)) == []


def test_later_agents_never_collide_with_earlier_ones() -> None:
    persona = CATALOGUE.get("indie_game_dev")
    first_batch = {identity(persona, 7, i).handle for i in range(100)}
    next_week = {identity(persona, 7, i).handle for i in range(100, 120)}
    assert not first_batch & next_week


def test_handles_are_lower_case_and_fit_the_column() -> None:
    for persona in CATALOGUE:
        handle = identity(persona, 1, 0).handle
        assert handle == handle.lower() and len(handle) <= 64


def test_another_fleet_seed_gives_other_agents() -> None:
    assert agent_seed(1, "ux_ui_designer", 0) != agent_seed(2, "ux_ui_designer", 0)
    assert 0 <= agent_seed(1, "ux_ui_designer", 0) < 2**63


def test_an_index_outside_the_capacity_is_refused() -> None:
    persona = CATALOGUE.get("ux_ui_designer")
    assert capacity(persona) == sum(
        len(FIRST_NAMES) * len(handle_words(persona)) * 4 * (1 if t is None else len(t))
        for t in TIERS
    )
    with pytest.raises(ValueError, match="outside"):
        handle_of(persona, 1, capacity(persona))
