"""Loading persona files from disk into a catalogue of validated personas."""

from __future__ import annotations

import stat
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from fleet.core.activity_clock import ActivityClock
from fleet.core.names import handle_clashes
from fleet.core.persona import Persona
from fleet.core.rhythm import PersonaCadence
from fleet.errors import PersonaFileError, UnknownPersona

# The personas that ship inside the package (``fleet/personas/*.toml``); FLEET_PERSONAS_DIR
# (``Settings.personas_dir``) names another directory.
BUNDLED_DIR = Path(str(files("fleet") / "personas"))
# A persona file is a page of TOML; anything far larger is a mistake (or /dev/zero).
MAX_FILE_BYTES = 256 * 1024
# No persona table or array nests deeper than a few levels (voice.words.interest...).
MAX_DEPTH = 12


def _depth(value: object) -> int:
    """How deep tables and arrays nest in ``value`` (read without recursion)."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        children: Iterable[object] = ()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth + 1)
        if deepest > MAX_DEPTH:
            break
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _too_deep(path: Path) -> PersonaFileError:
    return PersonaFileError(
        str(path), [("", f"tables or arrays nest more than {MAX_DEPTH} levels deep")]
    )


def _problems(error: ValidationError) -> list[tuple[str, str]]:
    out = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"])
        reason = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            reason = "unknown field"
        out.append((field, reason))
    return out


def load_persona(path: Path) -> Persona:
    """Read and validate one persona file, or raise PersonaFileError naming what is wrong."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise PersonaFileError(str(path), [("", "not a regular file")])
        if info.st_size > MAX_FILE_BYTES:
            raise PersonaFileError(
                str(path),
                [("", f"{info.st_size:,} bytes; a persona file is at most {MAX_FILE_BYTES:,}")],
            )
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PersonaFileError(str(path), [("", f"cannot read: {exc.strerror or exc}")]) from None
    except UnicodeDecodeError as exc:
        raise PersonaFileError(str(path), [("", f"not valid TOML: {exc}")]) from None
    return _parsed(path, text)


# A fleet reads its persona files each time it builds a catalogue (each process, each
# `fleet` command, each test's fleet): the same text gives the same persona (immutable),
# so it is parsed and validated once per process. The text, not the file's time, is the
# key: a file rewritten within the clock's granularity is still read afresh.
@lru_cache(maxsize=64)
def _parsed(path: Path, text: str) -> Persona:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PersonaFileError(str(path), [("", f"not valid TOML: {exc}")]) from None
    except RecursionError:  # the TOML reader recurses into nested arrays and tables
        raise _too_deep(path) from None
    if _depth(raw) > MAX_DEPTH:  # dotted keys nest without recursing: a.a.a.a... = 1
        raise _too_deep(path)
    try:
        persona = Persona.model_validate(raw)
    except ValidationError as exc:
        raise PersonaFileError(str(path), _problems(exc)) from None
    if persona.slug != path.stem:
        raise PersonaFileError(
            str(path), [("slug", f"{persona.slug!r} differs from the file name {path.stem!r}")]
        )
    return persona


class _Cadences(dict[str, PersonaCadence]):
    """The personas' cadences by slug; a slug it does not know is an ``UnknownPersona``."""

    def __missing__(self, slug: str) -> PersonaCadence:
        raise UnknownPersona(slug, list(self))


class PersonaCatalogue:
    """The personas Fleet knows, by slug.

    ``cadences``: what every tick of a persona's agents reads of it (``PersonaCadence``: the
    persona, its clock and zone, its own rhythm), resolved once here, when the personas
    are loaded: the dispatcher and the ticks read it by slug, as a mapping (an unknown
    slug raises ``UnknownPersona``), and fill in each agent's own values."""

    def __init__(self, personas: Iterable[Persona]) -> None:
        self._by_slug: dict[str, Persona] = {}
        prefixes: dict[str, str] = {}
        for persona in personas:
            if persona.slug in self._by_slug:
                raise PersonaFileError(persona.slug, [("slug", "defined twice")])
            owner = prefixes.get(persona.names.handle_prefix)
            if owner:
                raise PersonaFileError(
                    persona.slug,
                    [
                        (
                            "names.handle_prefix",
                            f"{persona.names.handle_prefix!r} is used by {owner}",
                        )
                    ],
                )
            prefixes[persona.names.handle_prefix] = persona.slug
            self._by_slug[persona.slug] = persona
        clashes = handle_clashes(self._by_slug.values())
        if clashes:
            slug = clashes[0].split(":", 1)[0]
            raise PersonaFileError(slug, [("names.nouns", "; ".join(clashes))])
        self.cadences: Mapping[str, PersonaCadence] = _Cadences(
            (slug, PersonaCadence.of(persona, ActivityClock(persona.schedule)))
            for slug, persona in self._by_slug.items()
        )

    @classmethod
    def from_directory(cls, directory: Path = BUNDLED_DIR) -> PersonaCatalogue:
        """Load every ``*.toml`` persona file of a directory."""
        if not directory.is_dir():
            raise PersonaFileError(str(directory), [("", "not a directory")])
        return cls(load_persona(path) for path in sorted(directory.glob("*.toml")))

    def get(self, slug: str) -> Persona:
        try:
            return self._by_slug[slug]
        except KeyError:
            raise UnknownPersona(slug, list(self._by_slug)) from None

    def clock(self, slug: str) -> ActivityClock:
        """The persona's activity clock."""
        return self.cadences[slug].clock

    def zone(self, slug: str) -> ZoneInfo:
        """The persona's timezone, where its local days (and daily quotas) turn."""
        return self.cadences[slug].clock.zone

    def slugs(self) -> list[str]:
        return list(self._by_slug)

    def __iter__(self) -> Iterator[Persona]:
        return iter(self._by_slug.values())

    def __len__(self) -> int:
        return len(self._by_slug)

    def __contains__(self, slug: object) -> bool:
        return slug in self._by_slug
