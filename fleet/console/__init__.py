"""The web console: the fleet seen and steered in a browser (a face on fleet.service).

Its libraries are the ``console`` extra (``pip install 'fleet[console]'``; the demo's and
the development install include it): without one of them, importing the console raises
MissingExtra naming the extra (``fleet console serve`` exits 2 with it) rather than a
bare ModuleNotFoundError from a page deep inside.
"""

from __future__ import annotations

from importlib.util import find_spec

from fleet.errors import MissingExtra

# The console extra's top-level packages (pyproject.toml, [project.optional-dependencies]).
CONSOLE_PACKAGES = (
    "starlette",
    "uvicorn",
    "jinja2",
    "sse_starlette",
    "pygal",
    "python_multipart",
    "zxcvbn",
)


def _installed(name: str) -> bool:
    try:
        return find_spec(name) is not None
    except ImportError:  # a finder that refuses it: not importable either
        return False


def _missing() -> list[str]:
    return [name for name in CONSOLE_PACKAGES if not _installed(name)]


if missing := _missing():
    raise MissingExtra(
        f"the web console needs {', '.join(missing)}, not installed: "
        "install fleet[console] (pip install 'fleet[console]')"
    )
