"""An agent's identity: drawn once from its seed, within its persona's voice."""

from __future__ import annotations

from fleet.core.identity import identity_of
from fleet.core.persona import Persona
from fleet.core.voice import Voice
from tests.content.conftest import persona as load


def _voice() -> tuple[Persona, Voice]:
    persona = load("indie_game_dev")
    assert persona.voice is not None
    return persona, persona.voice


def test_the_same_seed_draws_the_same_identity_and_others_differ() -> None:
    persona, voice = _voice()
    kw = {"styles": persona.workflow_styles, "interests": persona.interests}
    assert identity_of(7, voice, **kw) == identity_of(7, voice, **kw)
    subjects = {identity_of(seed, voice, **kw).subjects for seed in range(30)}
    assert len(subjects) >= 25


def test_an_identity_keeps_within_its_persona() -> None:
    persona, voice = _voice()
    me = identity_of(3, voice, styles=persona.workflow_styles, interests=persona.interests)
    assert 3 <= len(me.subjects) <= 5 and set(me.subjects) <= set(voice.all_words("subject"))
    assert set(me.styles) <= set(persona.workflow_styles)
    assert set(me.interests) <= set(persona.interests)
    assert set(me.captions) <= set(voice.captions) and me.captions
    assert 0 < me.catchphrase_rate <= 0.15  # used sparingly


def test_reply_habits_are_an_agents_own_and_leave_its_identity_as_it_was() -> None:
    from fleet.core.identity import reply_habits

    persona, voice = _voice()
    kw = {"styles": persona.workflow_styles, "interests": persona.interests}
    before = identity_of(7, voice, **kw)
    assert reply_habits(7) == reply_habits(7)
    assert identity_of(7, voice, **kw) == before  # drawn apart: the identity is unchanged
    habits = [reply_habits(seed) for seed in range(72)]
    # Agents differ in the shape of their replies, not only in their words.
    assert len({h.sentences for h in habits}) == 3
    assert len({h.ending for h in habits}) >= 4
    assert len({h.thanks for h in habits}) >= 30
    assert 0 < sum(h.lower for h in habits) < 36
    assert all(1 <= len(h.thanks) <= 2 for h in habits)
