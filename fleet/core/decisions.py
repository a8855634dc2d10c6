"""What an agent does on a tick, and the persona values an agent may override."""

from __future__ import annotations

import random
from collections.abc import Mapping

from fleet.core.persona import Action, ActionWeights, Interval, Persona


def effective_weights(persona: Persona, override: Mapping[str, float] | None) -> ActionWeights:
    """The persona's action weights with the agent's overrides applied."""
    if not override:
        return persona.weights
    return ActionWeights.model_validate({**persona.weights.as_dict(), **override})


def effective_interval(
    persona: Persona, min_seconds: float | None, max_seconds: float | None
) -> Interval | None:
    """The agent's own steady interval, else the persona's (None: the persona has sessions)."""
    if min_seconds is None or max_seconds is None:
        return persona.interval
    return Interval(min_seconds=min_seconds, max_seconds=max_seconds)


def choose_action(weights: ActionWeights, rng: random.Random) -> Action:
    """One action drawn with the normalised weights (browse included)."""
    probabilities = weights.normalised()
    draw = rng.random()
    cumulative = 0.0
    chosen = Action.BROWSE
    for action, probability in probabilities.items():
        if probability <= 0:
            continue
        chosen = action
        cumulative += probability
        if draw < cumulative:
            return action
    # Rounding can leave the cumulative sum a hair below 1: the last positive action wins.
    return chosen
