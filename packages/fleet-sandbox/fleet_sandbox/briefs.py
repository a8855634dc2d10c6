"""Reading a prompt: the subject it names, its palette, and words from a motif's vocabulary.

Pure and deterministic. The writers' prompts read "{style} image of {subject}, {look},
{palette} palette, {composition}, {mood} mood, ..."; a model's are free text. Both are
read by words: the subject is what follows "image of" (or the first clause), a palette
is a named one ("monochrome blue"), else colour words ("blue and gold"), else the
persona's own.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field, replace

from fleet_sandbox import palettes
from fleet_sandbox.palettes import Palette, from_hls, shade, tint


@dataclass(frozen=True)
class Brief:
    """What one picture shows, as read from its prompt: the decision record of a render.

    ``family`` is the motif (chart, pixel, packshot, social, dream, mockup) and ``form``
    its workflow variant; ``scene`` the subject the renderer recognised (None: a generic
    one); ``chart`` the chart type drawn; ``palette`` the colours and ``palette_named`` the
    palette the prompt named, if it named one; ``subject`` the prompt's subject phrase;
    ``text`` the prompt in lower case and ``words`` its words (light, weather, framing).
    """

    family: str
    form: str
    subject: str
    palette: Palette
    palette_named: str | None = None
    scene: str | None = None
    chart: str | None = None
    text: str = ""
    words: frozenset[str] = field(default_factory=frozenset)

    def has(self, *phrases: str) -> bool:
        """Whether the prompt says any of these words or phrases."""
        return any(p in self.text if " " in p else p in self.words for p in phrases)

    def record(self) -> dict[str, str | None]:
        """The decisions, as JSON-ready strings."""
        return {
            "family": self.family,
            "form": self.form,
            "scene": self.scene,
            "chart": self.chart,
            "palette": self.palette.name,
            "palette_named": self.palette_named,
            "subject": self.subject,
        }


_IMAGE_OF = re.compile(r"\b(?:image|picture|render|illustration|photo|shot) of (.+?)(?:,|\.|$)")
_ARTICLE = re.compile(r"^(?:a|an|the|some|my|our)\s+")


def subject_of(text: str) -> str:
    """The subject phrase: what follows "image of", or else the first clause."""
    found = _IMAGE_OF.search(text)
    phrase = found.group(1) if found else re.split(r"[,.;:\n]", text, maxsplit=1)[0]
    phrase = _ARTICLE.sub("", " ".join(phrase.split()))
    return phrase[:80].strip() or "untitled"


@functools.cache
def _pattern(keys: tuple[str, ...]) -> re.Pattern[str]:
    ordered = sorted(keys, key=len, reverse=True)  # the longest phrase at a place wins
    return re.compile(r"\b(" + "|".join(re.escape(k) for k in ordered) + r")")


def first_match(text: str, table: dict[str, str]) -> str | None:
    """The value of the leftmost (then longest) key of ``table`` found in ``text``."""
    found = _pattern(tuple(table)).search(text)
    return table[found.group(1)] if found else None


def hashed_palette(seed: bytes) -> Palette:
    """A palette for an unknown persona: hues spread from a hash."""
    hue = seed[0] / 255 * 360
    pure = tuple(from_hls(hue + k * 72, 0.55, 0.65) for k in range(4))
    return Palette("hashed", pure, from_hls(hue, 0.94, 0.35), from_hls(hue, 0.15, 0.35))


def palette_for(text: str, persona: str, seed: bytes) -> tuple[Palette, str | None]:
    """The palette a prompt asks for, and its name when it named a known one."""
    name = palettes.named_in(text)
    if name is not None:
        chosen = palettes.NAMED[name]
    else:
        chosen = palettes.from_words(text) or palettes.PERSONAS.get(persona) or hashed_palette(seed)
        if re.search(r"\bmonochrome\b", text):
            chosen = palettes.monochrome(chosen)
    if "game boy" in text:  # four shades of one hue
        first = chosen.hues[0]
        chosen = replace(chosen, hues=(shade(first, 0.55), first, tint(first, 0.45)))
    elif re.search(r"\b1-bit\b", text):
        chosen = chosen.limited(1)
    return chosen, name


def seed_of(*parts: str) -> bytes:
    """The 32 bytes every choice of a render is drawn from."""
    return hashlib.sha256("\x1f".join(parts).encode()).digest()


def words_of(text: str) -> frozenset[str]:
    """The words of a lower-case text."""
    return frozenset(re.findall(r"[a-z0-9][a-z0-9'-]*", text))
