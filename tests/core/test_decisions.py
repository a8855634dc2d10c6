from __future__ import annotations

import random
from collections import Counter

import pytest
from pydantic import ValidationError

from fleet.core.persona import (
    Action,
    ActionWeights,
    choose_action,
    effective_interval,
    effective_weights,
)
from fleet.infra.persona_files import PersonaCatalogue

CATALOGUE = PersonaCatalogue.from_directory()


@pytest.mark.parametrize("slug", CATALOGUE.slugs())
def test_actions_are_chosen_in_proportion_to_the_normalised_weights(slug: str) -> None:
    weights = CATALOGUE.get(slug).weights
    rng = random.Random(7)
    draws = 20_000
    counts = Counter(choose_action(weights, rng) for _ in range(draws))
    for action, probability in weights.normalised().items():
        # Four standard deviations of a binomial share: fails on a real bias, not on noise.
        tolerance = 4 * (probability * (1 - probability) / draws) ** 0.5
        assert abs(counts[action] / draws - probability) < tolerance, action


def test_an_action_with_zero_weight_is_never_chosen() -> None:
    weights = ActionWeights(post=0, comment=0, like=1, browse=1)
    rng = random.Random(3)
    assert {choose_action(weights, rng) for _ in range(2000)} == {Action.LIKE, Action.BROWSE}


def test_the_same_seed_chooses_the_same_actions() -> None:
    weights = CATALOGUE.get("ux_ui_designer").weights
    first = [choose_action(weights, random.Random(s)) for s in range(50)]
    assert first == [choose_action(weights, random.Random(s)) for s in range(50)]


def test_an_agent_may_override_weights_and_interval() -> None:
    persona = CATALOGUE.get("product_photographer")
    weights = effective_weights(persona, {"post": 0, "like": 5})
    browse = persona.weights.weight(Action.BROWSE)
    assert weights.as_dict() == {**persona.weights.as_dict(), "post": 0, "like": 5}
    assert weights.weight(Action.LIKE) == 5 and weights.weight(Action.BROWSE) == browse
    assert effective_interval(persona, 1, 3).max_seconds == 3
    assert effective_interval(persona, None, None) == persona.interval
    with pytest.raises(ValidationError):
        effective_weights(
            persona, {"post": 0, "comment": 0, "reply": 0, "like": 0, "browse": 0, "follow": 0}
        )


def test_an_override_is_validated_once_and_each_override_on_its_own() -> None:
    persona = CATALOGUE.get("product_photographer")
    first = effective_weights(persona, {"like": 5, "post": 0})
    # The same override again (in any order) is the weights validated the first time.
    assert effective_weights(persona, {"post": 0, "like": 5}) is first
    assert effective_weights(persona, {"like": 1}).weight(Action.LIKE) == 1
    # True equals 1 and hashes alike, but is no weight: refused, whatever came before.
    with pytest.raises(ValidationError):
        effective_weights(persona, {"like": True})
    with pytest.raises(ValidationError):  # a refusal is not kept: refused again
        effective_weights(persona, {"like": True})
    with pytest.raises(ValidationError):  # an unhashable value is refused as ever
        effective_weights(persona, {"like": [1]})  # type: ignore[dict-item]
