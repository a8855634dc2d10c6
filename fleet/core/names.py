"""Deterministic, append-safe agent identities that look chosen by people.

An agent's seed, handle and display name are functions of (fleet seed, persona, index).
A handle is a person's first name and a word of the persona's craft (its name nouns),
in one of a few shapes people use: ``mira_slime``, ``miraslime``, ``slime_mira``,
``slimebymira``; once a persona's combinations run out, with a short number, as people
add one when their name is taken (``mira_slime42``). The index is mapped onto these
combinations by an affine permutation per tier (no number, two digits, three, four), so
distinct indices of one persona never share a handle and creating more agents later
never collides with the ones made before. Personas' craft words are distinct from each
other and from the first names (the catalogue refuses a clash), so no two personas
share a handle either. Agents made before handles looked like this keep theirs.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from fleet.core.persona import Persona

# First names people go by online: short, from many places, none a craft word.
FIRST_NAMES = (
    "ada",
    "alba",
    "amara",
    "arlo",
    "asha",
    "bea",
    "cleo",
    "dario",
    "eli",
    "elsa",
    "ezra",
    "felix",
    "finn",
    "hana",
    "hugo",
    "ines",
    "iris",
    "ivo",
    "jonah",
    "june",
    "kai",
    "kit",
    "lena",
    "leo",
    "lou",
    "luca",
    "mae",
    "maya",
    "milo",
    "mira",
    "nadia",
    "nico",
    "nina",
    "noor",
    "ola",
    "omar",
    "otto",
    "pia",
    "priya",
    "quinn",
    "rafa",
    "ravi",
    "remy",
    "rosa",
    "sami",
    "sana",
    "sol",
    "tess",
    "theo",
    "tomas",
    "tove",
    "uma",
    "vera",
    "wes",
    "wren",
    "yara",
    "yuki",
    "zara",
    "zeke",
    "juno",
)
# The shapes of a handle, as people write them.
SHAPES = ("{first}_{word}", "{first}{word}", "{word}_{first}", "{word}by{first}")
# The tiers of numbers a handle may end with: none, then two, three and four digits.
TIERS: tuple[range | None, ...] = (None, range(10, 100), range(100, 1000), range(1000, 10000))


@dataclass(frozen=True, slots=True)
class Birth:
    """Who one agent is, before it is stored."""

    index: int
    seed: int
    handle: str
    display_name: str


def _digest(*parts: object) -> int:
    data = "\x1f".join(str(part) for part in parts).encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


def _agent_digest(fleet_seed: int, persona_slug: str, index: int) -> bytes:
    data = f"agent\x1f{fleet_seed}\x1f{persona_slug}\x1f{index}".encode()
    return hashlib.blake2b(data, digest_size=16).digest()


def agent_seed(fleet_seed: int, persona_slug: str, index: int) -> int:
    """A 63-bit seed for one agent, stable across processes and Python versions."""
    return int.from_bytes(_agent_digest(fleet_seed, persona_slug, index)[:8], "big") >> 1


def handle_words(persona: Persona) -> tuple[str, ...]:
    """The persona's craft words for handles: its name nouns, lower case, letters only."""
    return _handle_words(persona.names.nouns)


# Asked for each handle made (bulk creation makes thousands): built once per noun list.
@lru_cache(maxsize=64)
def _handle_words(nouns: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(
        dict.fromkeys("".join(ch for ch in noun.lower() if ch.isalpha()) for noun in nouns)
    )


def capacity(persona: Persona) -> int:
    """How many agents of ``persona`` can have a handle of their own."""
    base = len(FIRST_NAMES) * len(handle_words(persona)) * len(SHAPES)
    return sum(base * (1 if numbers is None else len(numbers)) for numbers in TIERS)


@lru_cache(maxsize=1024)
def _permutation(fleet_seed: int, persona_slug: str, tier: int, size: int) -> tuple[int, int]:
    """(a, b) with a coprime to ``size``: i -> (a * i + b) % size is a bijection."""
    key = _digest("handle", fleet_seed, persona_slug, tier)
    a = key % size or 1
    while math.gcd(a, size) != 1:
        a = a % size + 1
    return a, (key >> 32) % size


def handle_of(persona: Persona, fleet_seed: int, index: int) -> str:
    """The handle of a persona's ``index``-th agent, distinct for every index below
    ``capacity(persona)``."""
    words = handle_words(persona)
    base = len(FIRST_NAMES) * len(words) * len(SHAPES)
    offset, tier = index, 0
    while tier < len(TIERS):
        numbers = TIERS[tier]
        size = base * (1 if numbers is None else len(numbers))
        if 0 <= offset < size:
            break
        offset -= size
        tier += 1
    else:
        raise ValueError(
            f"agent index {index} is outside 0..{capacity(persona) - 1} for {persona.slug}"
        )
    if index < 0:
        raise ValueError(f"agent index {index} is negative")
    a, b = _permutation(fleet_seed, persona.slug, tier, size)
    slot = (a * offset + b) % size
    number = ""
    if numbers is not None:
        slot, which = divmod(slot, len(numbers))
        number = str(numbers[which])
    slot, shape = divmod(slot, len(SHAPES))
    first, word = divmod(slot, len(words))
    return SHAPES[shape].format(first=FIRST_NAMES[first], word=words[word]) + number


def handle_clashes(personas: Iterable[Persona]) -> list[str]:
    """Why these personas' handles could meet: a craft word two personas share, or one
    that is also a first name (empty when they never can)."""
    owner: dict[str, str] = {name: "a first name" for name in FIRST_NAMES}
    problems = []
    for persona in personas:
        words = handle_words(persona)
        if not words:
            problems.append(f"{persona.slug}: no name noun gives a handle word")
        for word in words:
            if word in owner and owner[word] != f"{persona.slug}'s":
                problems.append(f"{persona.slug}: handle word {word!r} is also {owner[word]}")
            owner.setdefault(word, f"{persona.slug}'s")
    return problems


def identity(persona: Persona, fleet_seed: int, index: int) -> Birth:
    """The seed, handle and display name of a persona's ``index``-th agent."""
    digest = _agent_digest(fleet_seed, persona.slug, index)
    seed = int.from_bytes(digest[:8], "big") >> 1
    # The digest's other bytes pick the words: no Random() to build per agent (bulk creation).
    names = persona.names
    adjective = names.adjectives[int.from_bytes(digest[8:11], "big") % len(names.adjectives)]
    noun = names.nouns[int.from_bytes(digest[11:14], "big") % len(names.nouns)]
    template = names.templates[int.from_bytes(digest[14:16], "big") % len(names.templates)]
    display_name = template.format(adjective=adjective, noun=noun)
    return Birth(index, seed, handle_of(persona, fleet_seed, index), display_name)
