"""Deterministic, append-safe agent identities.

An agent's seed, handle and display name are functions of (fleet seed, persona, index).
The handle's suffix is an affine permutation of the index, so distinct indices of one
persona never share a handle, and creating more agents later (higher indices) never
collides with the ones made before.
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass
from functools import lru_cache

from fleet.core.persona import Persona

_ALPHABET = string.digits + string.ascii_lowercase
SUFFIX_WIDTH = 6
SUFFIX_SPACE = len(_ALPHABET) ** SUFFIX_WIDTH  # 36**6 = 2**12 * 3**12


@dataclass(frozen=True, slots=True)
class Identity:
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


def _base36(value: int) -> str:
    out = []
    for _ in range(SUFFIX_WIDTH):
        value, digit = divmod(value, len(_ALPHABET))
        out.append(_ALPHABET[digit])
    return "".join(reversed(out))


@lru_cache(maxsize=256)
def _suffix_key(fleet_seed: int, persona_slug: str) -> tuple[int, int]:
    key = _digest("suffix", fleet_seed, persona_slug)
    # A multiplier coprime with 36**6 (not divisible by 2 or 3) makes i -> a*i+b a bijection.
    return (key % (SUFFIX_SPACE // 6)) * 6 + 1, (key >> 32) % SUFFIX_SPACE


def handle_suffix(fleet_seed: int, persona_slug: str, index: int) -> str:
    """A 6-character suffix, distinct for every index below 36**6 of one persona."""
    if not 0 <= index < SUFFIX_SPACE:
        raise ValueError(f"agent index {index} is outside 0..{SUFFIX_SPACE - 1}")
    multiplier, offset = _suffix_key(fleet_seed, persona_slug)
    return _base36((multiplier * index + offset) % SUFFIX_SPACE)


def identity(persona: Persona, fleet_seed: int, index: int) -> Identity:
    """The seed, handle and display name of a persona's ``index``-th agent."""
    digest = _agent_digest(fleet_seed, persona.slug, index)
    seed = int.from_bytes(digest[:8], "big") >> 1
    # The digest's other bytes pick the words: no Random() to build per agent (bulk creation).
    names = persona.names
    adjective = names.adjectives[int.from_bytes(digest[8:11], "big") % len(names.adjectives)]
    noun = names.nouns[int.from_bytes(digest[11:14], "big") % len(names.nouns)]
    template = names.templates[int.from_bytes(digest[14:16], "big") % len(names.templates)]
    display_name = template.format(adjective=adjective, noun=noun)
    words = "".join(ch for ch in f"{adjective}{noun}".lower() if ch.isalnum())[:24]
    suffix = handle_suffix(fleet_seed, persona.slug, index)
    return Identity(index, seed, f"{names.handle_prefix}_{words}_{suffix}", display_name)
