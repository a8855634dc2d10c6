"""The application layer's modules import each other one way: no two modules of
``fleet/service`` import each other, a function's lazy import included (a circle broken
by importing late is still a circle: ``service.drafts`` carried out an approval with
``service.work``'s parse of a key while ``service.work`` expired drafts; the parse is
the key's own, ``fleet.core.kinds.parsed_key``)."""

from __future__ import annotations

import ast
from pathlib import Path

import fleet

PACKAGE = Path(fleet.__file__).parent


def imports_of(source: str, modules: frozenset[str]) -> set[str]:
    """Which of ``modules`` a module's ``source`` imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                whole = f"{node.module}.{alias.name}"
                found.add(whole if whole in modules else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found & modules


def mutual(sources: dict[str, str]) -> list[tuple[str, str]]:
    """The pairs of modules (name: source) that import each other."""
    modules = frozenset(sources)
    edges = {name: imports_of(source, modules) - {name} for name, source in sources.items()}
    return sorted({(a, b) for a in edges for b in edges[a] if a < b and a in edges[b]})


def test_the_check_finds_a_lazy_circle() -> None:
    sources = {
        "fleet.service.a": "from fleet.service import b\n",
        "fleet.service.b": "def f():\n    from fleet.service.a import g\n",
        "fleet.service.c": "from fleet.service.a import g\n",
    }
    assert mutual(sources) == [("fleet.service.a", "fleet.service.b")]


def test_no_two_modules_of_the_service_import_each_other() -> None:
    sources = {
        ".".join(("fleet", *path.relative_to(PACKAGE).with_suffix("").parts)): path.read_text()
        for path in sorted((PACKAGE / "service").glob("*.py"))
        if path.name != "__init__.py"
    }
    assert "fleet.service.drafts" in sources
    found = mutual(sources)
    assert not found, f"modules of fleet/service import each other: {found}"
