"""``fleet demo``: the whole fleet in one process, on a simulated clock, with no servers."""

from fleet.demo.run import (
    PEOPLE_POST_SECONDS,
    SLICE_SECONDS,
    STEP_SECONDS,
    Demo,
    DemoOptions,
    Summary,
    Traffic,
    _dispatch_settings,
    _settings,
)
from fleet.demo.watch import run

__all__ = [
    "PEOPLE_POST_SECONDS",
    "SLICE_SECONDS",
    "STEP_SECONDS",
    "Demo",
    "DemoOptions",
    "Summary",
    "Traffic",
    "_dispatch_settings",
    "_settings",
    "run",
]
