"""Parsing the CLI's compact option values: an interval, action weights, a level."""

from __future__ import annotations

import math

from fleet.errors import InputError


def interval(value: str | None) -> tuple[float, float] | None:
    if value is None:
        return None
    try:
        low, _, high = value.partition("-")
        bounds = (float(low), float(high or low))
    except ValueError:
        raise InputError(f"--interval {value!r}: expected MIN-MAX seconds, e.g. 1-3") from None
    if bounds[0] <= 0 or bounds[0] > bounds[1]:
        raise InputError(f"--interval {value!r}: need 0 < MIN <= MAX")
    return bounds


def weights(value: str | None) -> dict[str, float] | None:
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
                f"--weights {value!r}: expected ACTION=NUMBER,..., e.g. post=1,like=3"
            ) from None
    return out


def activity_level(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        level = float(value)
    except ValueError:
        raise InputError(f"--activity {value!r}: expected a number, e.g. 0.5") from None
    if not math.isfinite(level) or level <= 0:
        raise InputError(f"--activity {value!r}: must be a positive, finite number")
    return level
