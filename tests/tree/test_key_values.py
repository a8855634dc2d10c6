"""An action's key is a value from the decision to the effect (issue 69): an ``ActionKey``
is made once, serialised only where it leaves Fleet's values (``ActionKey.text``: the
ledger's column, the gallery's Idempotency-Key, the broker's message) and parsed once
where it comes back (``ActionKey.parse``). Two shapes that undid that are held off here:

- ``str(key)``: a key turned to its text in the middle of the work, to be parsed or
  compared as a string further on;
- a decision as an ``(action, key)`` pair of strings, where the key names its action.

An AST check over ``fleet/``: the names are the code's own (a key is ``key``,
``…_key``; an action ``action``, ``…action``), so a rename to dodge it is a rename a
reviewer sees."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import fleet

PACKAGE = Path(fleet.__file__).parent
KEY = re.compile(r"(^|_)key$")
ACTION = re.compile(r"(^|_)action$")


def _name(node: ast.expr) -> str | None:
    """The last name of a name or an attribute (``key``, ``d.idempotency_key``)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def offences(source: str) -> list[str]:
    """Where ``source`` turns a key into a string with ``str()``, or pairs an action with a
    key in a tuple (built, or taken apart in a loop or an assignment): ``line: what``."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "str"
            and len(node.args) == 1
            and KEY.search(_name(node.args[0]) or "")
        ):
            found.append(f"{node.lineno}: str() of a key")
        if isinstance(node, ast.Tuple) and len(node.elts) <= 3:
            names = [_name(element) or "" for element in node.elts]
            if any(ACTION.search(n) for n in names) and any(KEY.search(n) for n in names):
                found.append(f"{node.lineno}: an (action, key) pair")
    return sorted(found, key=lambda line: int(line.split(":")[0]))


def test_the_check_finds_a_stringified_key_and_an_action_key_pair() -> None:
    planted = (
        "def send(key, pairs, d, decisions):\n"
        "    text = str(key)\n"
        "    ledger = str(d.idempotency_key)\n"
        "    fresh = [(d.action, d.idempotency_key) for d in decisions]\n"
        "    for action, key in pairs:\n"
        "        pass\n"
        "    for _, key, action in pairs:\n"
        "        pass\n"
        "    return text, ledger, fresh\n"
    )
    assert offences(planted) == [
        "2: str() of a key",
        "3: str() of a key",
        "4: an (action, key) pair",
        "5: an (action, key) pair",
        "7: an (action, key) pair",
    ]
    # What is no key: a count, a name; a key's own text, where it leaves for the ledger.
    kept = "def f(n, name, key):\n    return str(n), str(name), key.text, (name, n)\n"
    assert offences(kept) == []


def test_no_key_is_stringified_nor_paired_with_its_action_in_fleet() -> None:
    found = {
        str(path.relative_to(PACKAGE.parent)): [w.split(": ", 1)[1] for w in where]
        for path in sorted(PACKAGE.rglob("*.py"))
        if (where := offences(path.read_text()))
    }
    assert not found, (
        "an action key goes as an ActionKey (its text only where it leaves: ActionKey.text), "
        f"and a key names its action: {found}"
    )
