"""Parsing the compact values an admin types for new agents (the CLI's options, the
console's create form): an interval, action weights, an activity level. Each error
names the field it is about as the face calls it (``--interval`` on the command line,
``interval`` on the form)."""

from __future__ import annotations

import math

from fleet.errors import InputError


def interval(value: str | None, *, field: str = "--interval") -> tuple[float, float] | None:
    """``MIN-MAX`` seconds (or one number for both); None when not given."""
    if value is None:
        return None
    try:
        low, _, high = value.partition("-")
        bounds = (float(low), float(high or low))
    except ValueError:
        raise InputError(f"{field} {value!r}: expected MIN-MAX seconds, e.g. 1-3") from None
    if not all(math.isfinite(b) for b in bounds) or bounds[0] <= 0 or bounds[0] > bounds[1]:
        raise InputError(f"{field} {value!r}: need 0 < MIN <= MAX")
    return bounds


def weights(value: str | None, *, field: str = "--weights") -> dict[str, float] | None:
    """``ACTION=NUMBER,...``; None when not given."""
    if value is None:
        return None
    out: dict[str, float] = {}
    for part in value.split(","):
        name, sep, number = part.partition("=")
        try:
            if not sep:
                raise ValueError
            out[name.strip()] = float(number)
        except ValueError:
            raise InputError(
                f"{field} {value!r}: expected ACTION=NUMBER,..., e.g. post=1,like=3"
            ) from None
    return out


def activity_level(value: str | None, *, field: str = "--activity") -> float | None:
    """A positive multiplier of the persona's session rate; None when not given."""
    if value is None:
        return None
    try:
        level = float(value)
    except ValueError:
        raise InputError(f"{field} {value!r}: expected a number, e.g. 0.5") from None
    if not math.isfinite(level) or level <= 0:
        raise InputError(f"{field} {value!r}: must be a positive, finite number")
    return level
