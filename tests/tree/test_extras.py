"""Dependencies by role (pyproject.toml's extras): the ticks and engage workers import
none of the console's, provenance's or statistics' libraries, and a part run without
its extra says which extra to install (fleet.errors.MissingExtra)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from fleet.errors import MissingExtra, from_extra

# Each extra's top-level packages, as pyproject.toml lists the distributions.
EXTRAS = {
    "console": [
        "starlette",
        "uvicorn",
        "jinja2",
        "sse_starlette",
        "pygal",
        "multipart",
        "python_multipart",
        "zxcvbn",
    ],
    "provenance": ["c2pa", "defusedxml"],
    "stats": ["scipy"],
}
EVERY = sorted(name for names in EXTRAS.values() for name in names)

# A meta-path finder that refuses the named top-level packages, as if not installed.
BLOCKER = textwrap.dedent(
    """
    import sys
    from importlib.abc import MetaPathFinder

    class _NotInstalled(MetaPathFinder):
        def __init__(self, names):
            self.names = frozenset(names)

        def find_spec(self, fullname, path=None, target=None):
            if fullname.split(".")[0] in self.names:
                raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
            return None

    sys.meta_path.insert(0, _NotInstalled(sys.argv[1].split(",")))
    """
)


def _ran(
    code: str, blocked: list[str], *, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCKER + textwrap.dedent(code), ",".join(blocked) or "-"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def _run(code: str, blocked: list[str], *, env: dict[str, str] | None = None) -> str:
    ran = _ran(code, blocked, env=env)
    assert ran.returncode == 0, ran.stderr[-2000:]
    return ran.stdout


# What a ticks or engage worker process loads: the Celery app and the task modules, the
# use cases a tick and a like run, the settings (a console signing key among them).
WORKER_MODULES = "fleet.worker.app, fleet.worker.tasks, fleet.service.work, fleet.actions.engage"


def test_a_ticks_worker_imports_no_library_of_an_extra() -> None:
    found = _run(
        f"""
        import {WORKER_MODULES}
        from fleet.settings import Settings
        Settings()
        print(" ".join(sorted({{m.split(".")[0] for m in sys.modules}} & set({EVERY!r}))))
        """,
        [],
    )
    assert found.split() == []


def test_a_ticks_worker_loads_with_no_extra_installed() -> None:
    key = "Zq8vN2xLr5Tb9Wk3Hs7Jd4Mf6Pc1Ya0Ge_uXoRiSn-EtVwBhKlQz"
    said = _run(
        f"""
        import {WORKER_MODULES}
        from fleet.settings import Settings
        print(Settings().console.secret_key is not None)
        """,
        EVERY,
        env={"FLEET_CONSOLE__SECRET_KEY": key},
    )
    assert said.split() == ["True"]


def test_the_console_without_its_extra_names_the_extra() -> None:
    ran = _ran(
        """
        from fleet.cli import main
        sys.argv = ["fleet", "console", "serve"]
        main()
        """,
        ["starlette"],
    )
    assert ran.returncode == 2, ran.stderr[-2000:]
    assert "install fleet[console]" in ran.stderr
    assert "starlette" in ran.stderr
    assert "Traceback" not in ran.stderr


def test_a_missing_library_names_its_extra() -> None:
    with pytest.raises(MissingExtra, match=r"install fleet\[stats\]"):
        from_extra("no_such_package_of_fleet", "stats", "the impact report")
    assert from_extra("json", "stats", "a test").__name__ == "json"
