"""One meaning per word: no public class name is defined in two modules of ``fleet/``
(ARCHITECTURE.md, "Glossary"). Two ``Claim`` types, one a delivery's hold on an activity
and one a person's claim to be human, make a reader ask which one a line means."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import fleet

PACKAGE = Path(fleet.__file__).parent


def twins(modules: dict[str, str]) -> dict[str, list[str]]:
    """The public class names defined at the top of more than one of ``modules``
    (name: source), with the modules that define each."""
    defined: dict[str, list[str]] = defaultdict(list)
    for name, source in sorted(modules.items()):
        for node in ast.parse(source).body:
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                defined[node.name].append(name)
    return {cls: where for cls, where in defined.items() if len(where) > 1}


def test_the_check_finds_a_name_defined_twice() -> None:
    modules = {
        "a.py": "class Claim:\n    pass\nclass _Private:\n    pass\n",
        "b.py": "class Claim(int):\n    pass\nclass _Private:\n    pass\nclass Other:\n    pass\n",
    }
    assert twins(modules) == {"Claim": ["a.py", "b.py"]}


def test_no_public_class_name_is_defined_twice_in_fleet() -> None:
    modules = {
        f"fleet/{path.relative_to(PACKAGE)}": path.read_text()
        for path in sorted(PACKAGE.rglob("*.py"))
    }
    found = twins(modules)
    assert not found, f"one name, two meanings (rename one for what it is): {found}"
