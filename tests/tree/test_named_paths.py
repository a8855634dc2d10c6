"""The docs name files that exist: every ``fleet/...py`` path written in ``docs/*.md``,
``ARCHITECTURE.md`` and ``README.md``, and every ``a/b.py`` path a module of ``fleet/``
names in its text (relative to ``fleet/``, the repository or the sandbox package), is a
file of the tree. A file renamed or folded into another leaves no stale name behind."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FLEET_PATH = re.compile(r"(?<![\w/.-])fleet/[\w/]+\.py\b")
ANY_PATH = re.compile(r"(?<![\w/.-])[a-z_]+/[\w/]*\.py\b")
BASES = (ROOT, ROOT / "fleet", ROOT / "packages" / "fleet-sandbox")
# The pattern docs/testing.md and docs/layout.md explain the tests' mirror with.
EXAMPLES = frozenset({"fleet/a/b.py", "a/b.py"})


def _docs() -> list[Path]:
    return [*sorted((ROOT / "docs").glob("*.md")), ROOT / "ARCHITECTURE.md", ROOT / "README.md"]


def stale(text: str, pattern: re.Pattern[str]) -> list[str]:
    """The paths ``pattern`` finds in ``text`` that are no file of the tree."""
    return sorted(
        {
            p
            for p in pattern.findall(text)
            if p not in EXAMPLES and not any((b / p).is_file() for b in BASES)
        }
    )


def test_the_check_finds_a_missing_file() -> None:
    text = "see fleet/core/kinds.py and fleet/infra/nowhere.py, not myfleet/x.py"
    assert stale(text, FLEET_PATH) == ["fleet/infra/nowhere.py"]


def test_every_fleet_path_the_docs_name_exists() -> None:
    found = [
        f"{doc.relative_to(ROOT)}: {path}"
        for doc in _docs()
        for path in stale(doc.read_text(), FLEET_PATH)
    ]
    assert not found, f"the docs name files the tree does not have: {found}"


def test_every_path_fleet_names_in_its_text_exists() -> None:
    found = [
        f"{module.relative_to(ROOT)}: {path}"
        for module in sorted((ROOT / "fleet").rglob("*.py"))
        for path in stale(module.read_text(), ANY_PATH)
    ]
    assert not found, f"modules of fleet/ name files the tree does not have: {found}"
