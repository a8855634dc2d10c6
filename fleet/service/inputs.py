"""Parsing the compact values an admin types (the CLI's options, the console's forms): a
window of time; for new agents an interval, action weights, an activity level. Each error
names the field it is about as the face calls it (``--interval`` on the command line,
``interval`` on the form)."""

from __future__ import annotations

import math
from datetime import timedelta

from fleet.core.activity_level import SET_ACTIVITY_BOUNDS
from fleet.errors import InputError

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def window(value: str, *, field: str = "window") -> timedelta:
    """``30s``, ``5m``, ``2h``, ``1d``: a positive span of time."""
    try:
        seconds = float(value[:-1]) * UNITS[value[-1]]
        if not 0 < seconds < 1e9:  # also refuses nan and inf
            raise ValueError(value)
        return timedelta(seconds=seconds)
    except (KeyError, ValueError, IndexError):
        raise InputError(
            f"{field} {value!r}: expected a positive number and a unit, e.g. 30s, 5m, 2h, 1d"
        ) from None


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
    """A multiplier of the persona's session rate, from 0.01 to 100; None when not given."""
    if value is None:
        return None
    shown = value if len(value) <= 40 else value[:40] + "…"
    try:
        level = float(value)
    except ValueError:
        raise InputError(f"{field} {shown!r}: expected a number, e.g. 0.5") from None
    low, high = SET_ACTIVITY_BOUNDS
    if not (math.isfinite(level) and low <= level <= high):
        raise InputError(
            f"{field} {shown!r}: must be a positive, finite number from {low:g} to {high:g}"
        )
    return level
