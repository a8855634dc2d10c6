"""Reading the settings: the environment, the dotenv file beneath it, and errors that name the variable."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError
from pydantic_settings import SettingsError

from fleet.errors import ConfigError
from fleet.settings.root import Settings


def _variable(loc: tuple[int | str, ...]) -> str:
    names = [str(part) for part in loc]
    if names and names[0].startswith("ANTHROPIC_"):
        return names[0]
    # A field inside a JSON list (FLEET_LLM__FALLBACKS) is named as in the JSON.
    index = next((i for i, part in enumerate(loc) if isinstance(part, int)), len(loc))
    named = "FLEET_" + "__".join(name.upper() for name in names[:index])
    if index < len(loc):
        named += f"[{loc[index]}]" + "".join(f".{part}" for part in names[index + 1 :])
    return named


def _not_json(message: str) -> str:
    """The variables of the field pydantic-settings could not parse, named."""
    import os
    import re

    found = re.search(r'field "(\w+)"', message)
    prefix = f"FLEET_{found.group(1).upper()}" if found else "FLEET_"
    named = []
    for name, value in os.environ.items():
        if name == prefix or name.startswith(prefix + "__"):
            try:
                json.loads(value)
            except ValueError:
                named.append(name)
    if not named:
        return message
    return "; ".join(f"{name}: not valid JSON" for name in sorted(named))


# What `make run` writes to .env: the fleet a second shell's `fleet` reads.
RUN_VARIABLES = ("FLEET_DATABASE_URL", "FLEET_BROKER_URL", "FLEET_REDIS_URL", "FLEET_GALLERY__URL")


def write_env_file(path: Path, values: dict[str, str]) -> None:
    """Write ``values`` to the dotenv file ``path`` as the settings read it back: readable
    by its owner only (0600: a database URL may hold a password), each value single-quoted
    with its backslashes and quotes escaped (a ``$`` kept as it is). A value the dotenv
    reader would change (``${NAME}`` is expanded even quoted, a line break) is refused by
    name, and ``path`` is left as it was. ``path`` must not exist (never overwritten)."""
    import os

    from dotenv import dotenv_values

    lines = ["# Written by make run: the fleet that `fleet` in this directory reads."]
    for name, value in values.items():
        if "\n" in value or "\r" in value:
            raise ConfigError(f"{name}: a line break cannot be written to {path}")
        quoted = value.replace("\\", "\\\\").replace("'", "\\'")
        lines.append(f"{name}='{quoted}'")
    text = "\n".join(lines) + "\n"
    partial = path.with_name(path.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(partial, 0o600)  # whatever the umask
        read = dotenv_values(partial)
        for name, value in values.items():
            if read.get(name) != value:
                raise ConfigError(
                    f"{name}: its value cannot be written to {path} as it is (a ${{...}} in "
                    "it would be expanded when read); export it in each shell instead"
                )
        if path.exists():
            raise ConfigError(f"{path} exists: it is never overwritten")
        partial.rename(path)
    finally:
        partial.unlink(missing_ok=True)


def write_run_env(path: str = ".env") -> None:
    """`make run`'s .env, from this process's environment (make's own expansion would eat
    a ``$`` in a password): ``RUN_VARIABLES`` that are set."""
    import os

    write_env_file(
        Path(path), {name: os.environ[name] for name in RUN_VARIABLES if name in os.environ}
    )


def env_file() -> Path | None:
    """The dotenv file the settings read beneath the environment: ``.env`` in the working
    directory, or the file ``FLEET_ENV_FILE`` names (empty: none). `make run` writes
    one, so a second shell's ``fleet`` reads the same fleet without exporting anything."""
    import os

    named = os.environ.get("FLEET_ENV_FILE")
    path = Path(named if named is not None else ".env")
    if named is not None and not named.strip():
        return None
    if named is not None and not path.is_file():
        raise ConfigError(f"FLEET_ENV_FILE: no file at {path}")
    return path if path.is_file() else None


# The deepest nesting of brackets a setting's JSON may have: the deepest setting is a list
# of lists or of objects (3 levels); a value nested thousands deep overflows the parser's
# stack (a RecursionError, a traceback) before any check could name it.
DEEPEST_JSON = 16


def json_depth(value: str) -> int:
    """How deeply ``value``'s brackets nest (``[[1]]``: 2), strings skipped; cheap and
    iterative, so that any length is measured without recursion."""
    depth = deepest = 0
    quoted = escaped = False
    for char in value:
        if quoted:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(0, depth - 1)
    return deepest


def _too_deep(path: Path | None) -> list[str]:
    """The ``FLEET_*`` variables (of the environment, then of the dotenv file) whose
    value nests deeper than ``DEEPEST_JSON``."""
    import os

    from dotenv import dotenv_values

    values = {
        name: value for name, value in os.environ.items() if name.upper().startswith("FLEET_")
    }
    if path is not None:
        for name, value in dotenv_values(path).items():
            if name.upper().startswith("FLEET_") and value is not None:
                values.setdefault(name, value)
    return sorted(name for name, value in values.items() if json_depth(value) > DEEPEST_JSON)


# Where a credential goes, and the credentials that go there: a dotenv file that names
# the destination must hold the credential too (or the environment the destination).
# Else a .env in any directory (a clone, a download) would send the shell's key to its
# own server.
DESTINATIONS: dict[str, tuple[str, ...]] = {
    "ANTHROPIC_BASE_URL": ("ANTHROPIC_API_KEY", "FLEET_LLM__API_KEY"),
    "FLEET_LLM": ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "FLEET_LLM__API_KEY"),
    "FLEET_LLM__BASE_URL": ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "FLEET_LLM__API_KEY"),
    "FLEET_LLM__FALLBACKS": ("ANTHROPIC_API_KEY", "OPENAI_API_KEY"),
    "FLEET_EMBEDDINGS": ("FLEET_EMBEDDINGS__API_KEY",),
    "FLEET_EMBEDDINGS__BASE_URL": ("FLEET_EMBEDDINGS__API_KEY",),
    "FLEET_GALLERY": ("FLEET_GALLERY__TOKEN",),
    "FLEET_GALLERY__URL": ("FLEET_GALLERY__TOKEN",),
}


def _moved_credentials(path: Path | None) -> list[str]:
    """Each credential of the environment that the dotenv file at ``path`` would send
    elsewhere (it names the destination, not the credential), said as a problem."""
    import os

    from dotenv import dotenv_values

    if path is None:
        return []
    in_file = {name.upper() for name, value in dotenv_values(path).items() if value is not None}
    in_environment = {name.upper() for name in os.environ}
    problems = []
    for destination, credentials in DESTINATIONS.items():
        if destination not in in_file or destination in in_environment:
            continue
        moved = [c for c in credentials if c in in_environment and c not in in_file]
        if moved:
            problems.append(
                f"{destination} in {path} would send {' and '.join(moved)} from the "
                f"environment to where the file says: set {destination} in the environment "
                "too, or the credential in the file"
            )
    return problems


def load_settings(**overrides: object) -> Settings:
    """Read the settings (the environment first, then ``env_file()``), or raise
    ConfigError naming each bad variable and why."""
    path = env_file()
    moved = _moved_credentials(path)
    if moved:
        raise ConfigError("bad configuration: " + "; ".join(moved))
    deep = _too_deep(path)
    if deep:
        raise ConfigError(
            "bad configuration: "
            + "; ".join(f"{name}: JSON nested deeper than {DEEPEST_JSON} levels" for name in deep)
        )
    try:
        return Settings(_env_file=path, **overrides)  # type: ignore[arg-type]
    except SettingsError as exc:
        # A value that should be JSON and is not: name the variable, not pydantic's field.
        raise ConfigError("bad configuration: " + _not_json(str(exc))) from None
    except ValidationError as exc:
        problems = [
            # A check across settings (loc (), or a nested model's own check) names its
            # variables in its message.
            (f"{_variable(error['loc'])}: " if error["loc"] and not named else "") + message
            for error in exc.errors()
            for message in [error["msg"].removeprefix("Value error, ")]
            for named in [message.startswith("FLEET_")]
        ]
        raise ConfigError("bad configuration: " + "; ".join(problems)) from None
