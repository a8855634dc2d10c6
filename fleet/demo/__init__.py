"""``fleet demo``: the whole fleet in one process, on a simulated clock, with no servers."""

from fleet.demo.run import (
    SLICE_SECONDS,
    STEP_SECONDS,
    Demo,
    DemoOptions,
    Summary,
    Traffic,
    _dispatch_settings,
    _settings,
    run,
)

__all__ = [
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
