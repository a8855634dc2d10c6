"""The structural figures of the tree (issue 55's table), counted from the source.

Prints JSON. Nothing runs: every figure is read from the files with ``ast`` (or their
names), so anyone can rerun it on any checkout and compare.

    python -m bench.code_figures [--root .] [--details]

How each figure is counted (the scope is the ``fleet`` package unless said otherwise):

- ``dialect_branches``: reads of ``<x>.dialect.name`` (an attribute ``name`` of an
  attribute ``dialect``), each one place the code picks SQL by its database; outside
  ``fleet/migrations`` and with it.
- ``status_literals``: string constants equal to ``"pending"``, ``"succeeded"`` or
  ``"awaiting_review"`` outside the enum's module (``fleet/core/statuses.py``) and the
  migrations (history, frozen), and quoted in SQL text (``'pending'`` inside a longer
  string) separately; with the files that hold them.
- ``long_functions``: functions (and methods) of more than 50 lines, ``def`` to last line.
- ``many_parameters``: functions with more than 6 parameters, ``self`` and ``cls`` not
  counted (``*args`` and ``**kwargs`` not counted either).
- ``bool_parameters``: parameters annotated ``bool`` (``bool | None`` too).
- ``action_key_parses``: places a key is read back from its string, heuristically: calls
  of ``ActionKey.parse`` and ``action_of`` outside ``fleet/core/kinds.py``, and
  ``.endswith``/``.startswith``/``.split``/``.partition``/``.rpartition`` calls whose
  argument is ``":"`` or starts with ``":"`` followed by an action's name, on a name
  containing ``key``.
- ``flat_test_modules``: ``tests/test_*.py`` directly in ``tests/``.
- ``console_closure_endpoints``: in ``fleet/console``, endpoints defined inside another
  function: a nested function decorated by a ``route``/``get``/``post`` call, or named
  by a ``Route(path, endpoint)`` (through ``guarded(...)``/``reading(...)`` wrappers)
  that is not a module-level function of that module.
- ``action_kit``: the fields of ``ActionKit`` (annotated names in its class body), and
  ``replace``/``dataclasses.replace`` calls whose first argument is a kit: a parameter
  annotated ``ActionKit``, a name bound from a kit's ``replace``, or a ``with ... as``
  name bound from a call given a kit.
- ``ending_types``: the module-level types (classes and aliases) in ``fleet/actions``,
  ``fleet/activities`` and ``fleet/worker`` whose name says how an action ended:
  ``Outcome``, ``Handled``, ``Failed``, ``Ending``, ``Ended``, ``ActionEnded``, ``Finished``,
  ``Result`` (the sum's own parts, ``Performed`` and ``Settled``, are the one ``Outcome``),
  listed by name.
"""

from __future__ import annotations

import argparse
import ast
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

STATUSES = ("pending", "succeeded", "awaiting_review")
ACTIONS = ("post", "comment", "reply", "like", "browse")
KEY_CUTS = frozenset({"endswith", "startswith", "split", "rsplit", "partition", "rpartition"})
ENDING_NAMES = frozenset(
    {"Outcome", "Handled", "Failed", "Ending", "Ended", "ActionEnded", "Finished", "Result"}
)
ENDING_PACKAGES = ("fleet/actions", "fleet/activities", "fleet/worker")
ROUTE_DECORATORS = frozenset({"route", "get", "post", "put", "delete", "patch", "websocket"})
ENDPOINT_WRAPPERS = frozenset({"guarded", "reading"})


def _modules(root: Path, package: str) -> Iterator[tuple[str, ast.Module]]:
    for path in sorted((root / package).rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        yield relative, ast.parse(path.read_text(encoding="utf-8"), filename=relative)


def _functions(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def _parameters(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.arg]:
    args = function.args
    return [
        arg
        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs]
        if arg.arg not in {"self", "cls"}
    ]


def _is_bool(annotation: ast.expr | None) -> bool:
    if annotation is None:
        return False
    text = ast.unparse(annotation).replace(" ", "").strip("'\"")
    return text in {"bool", "bool|None", "None|bool", "Optional[bool]"}


def _call_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _dialect_reads(tree: ast.AST) -> list[int]:
    return sorted(
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr == "name"
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "dialect"
    )


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of docstring constants (not literals of the code)."""
    ids = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and node.body
        ):
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def _status_literals(tree: ast.AST) -> tuple[int, int]:
    exact = quoted = 0
    docs = _docstrings(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
            continue
        if id(node) in docs:
            continue
        if node.value in STATUSES:
            exact += 1
        else:
            quoted += sum(node.value.count(f"'{status}'") for status in STATUSES)
    return exact, quoted


def _splits_a_key(call: ast.Call) -> bool:
    """Whether ``call`` cuts a key string by hand: ``key.endswith(":like")``, ``.split(":")``."""
    func = call.func
    if not isinstance(func, ast.Attribute) or func.attr not in KEY_CUTS:
        return False
    if "key" not in ast.unparse(func.value).lower() or not call.args:
        return False
    first = call.args[0]
    if not isinstance(first, ast.Constant) or not isinstance(first.value, str):
        return False
    return first.value == ":" or any(first.value.startswith(f":{a}") for a in ACTIONS)


def _key_parses(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = ast.unparse(node.func)
        if func in {"action_of", "ActionKey.parse"} or _splits_a_key(node):
            lines.append(node.lineno)
    return sorted(lines)


def _endpoint_name(expr: ast.expr) -> str | None:
    while isinstance(expr, ast.Call) and _call_name(expr) in ENDPOINT_WRAPPERS and expr.args:
        expr = expr.args[0]
    return expr.id if isinstance(expr, ast.Name) else None


def _closure_endpoints(tree: ast.Module) -> list[str]:
    top = {
        node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    nested: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
    for outer in _functions(tree):
        for node in ast.walk(outer):
            if node is not outer and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                nested[node.name] = node
    found = []
    for name, function in nested.items():
        for decorator in function.decorator_list:
            if isinstance(decorator, ast.Call) and _call_name(decorator) in ROUTE_DECORATORS:
                found.append(name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _call_name(node) == "Route" and len(node.args) >= 2:
            endpoint = _endpoint_name(node.args[1])
            if endpoint is not None and endpoint not in top and endpoint in nested:
                found.append(endpoint)
    return sorted(set(found))


def _kit_fields(tree: ast.Module) -> list[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == "ActionKit":
            return [
                statement.target.id
                for statement in node.body
                if isinstance(statement, ast.AnnAssign)
                and isinstance(statement.target, ast.Name)
                and "ClassVar" not in ast.unparse(statement.annotation)
            ]
    return []


def _is_replace(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and _call_name(node) == "replace"
        and (isinstance(node.func, ast.Name) or ast.unparse(node.func) == "dataclasses.replace")
        and bool(node.args)
    )


def _kit_replaces(tree: ast.AST) -> list[int]:
    lines = []
    for function in _functions(tree):
        kits = {
            arg.arg
            for arg in _parameters(function)
            if arg.annotation is not None and ast.unparse(arg.annotation) == "ActionKit"
        }
        if not kits:
            continue
        # Statements in source order: a name becomes a kit where it is bound from one.
        statements = sorted(
            (n for n in ast.walk(function) if isinstance(n, ast.stmt)), key=lambda n: n.lineno
        )
        for statement in statements:
            if isinstance(statement, ast.With):
                for item in statement.items:
                    call = item.context_expr
                    given = {ast.unparse(a) for a in getattr(call, "args", [])}
                    if isinstance(item.optional_vars, ast.Name) and (
                        given & kits or _is_kit_replace(call, kits)
                    ):
                        kits.add(item.optional_vars.id)
            if isinstance(statement, ast.Assign) and _is_kit_replace(statement.value, kits):
                for target in statement.targets:
                    if isinstance(target, ast.Name):
                        kits.add(target.id)
        for node in ast.walk(function):
            if isinstance(node, ast.Call) and _is_kit_replace(node, kits):
                lines.append(node.lineno)
    return sorted(set(lines))


def _is_kit_replace(node: ast.AST, kits: set[str]) -> bool:
    return (
        _is_replace(node)
        and isinstance(node, ast.Call)
        and isinstance(node.args[0], ast.Name)
        and node.args[0].id in kits
    )


def _ending_types(path: str, tree: ast.Module) -> list[str]:
    if not path.startswith(ENDING_PACKAGES):
        return []
    names = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names.extend(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.append(node.target.id)
        elif type(node).__name__ == "TypeAlias":  # ``type X = ...`` (Python 3.12)
            names.append(ast.unparse(node.name))  # type: ignore[attr-defined]
    return [f"{path}:{name}" for name in names if name in ENDING_NAMES]


def figures(root: Path) -> dict[str, Any]:
    """Every figure of the tree at ``root``, with where each was found when asked."""
    dialect: dict[str, list[int]] = {}
    literals: Counter[str] = Counter()
    quoted: Counter[str] = Counter()
    long_functions: list[str] = []
    many_parameters: list[str] = []
    bool_parameters = 0
    key_parses: dict[str, list[int]] = {}
    closures: list[str] = []
    kit_fields: list[str] = []
    kit_replaces: dict[str, list[int]] = {}
    endings: list[str] = []
    for path, tree in _modules(root, "fleet"):
        if reads := _dialect_reads(tree):
            dialect[path] = reads
        in_migrations = path.startswith("fleet/migrations/")
        if not in_migrations and path != "fleet/core/statuses.py":
            exact, in_sql = _status_literals(tree)
            if exact:
                literals[path] = exact
            if in_sql:
                quoted[path] = in_sql
        for function in _functions(tree):
            where = f"{path}:{function.lineno}:{function.name}"
            if function.end_lineno is not None and function.end_lineno - function.lineno >= 50:
                long_functions.append(where)
            parameters = _parameters(function)
            if len(parameters) > 6:
                many_parameters.append(where)
            bool_parameters += sum(_is_bool(arg.annotation) for arg in parameters)
        if path != "fleet/core/kinds.py" and (parses := _key_parses(tree)):
            key_parses[path] = parses
        if path.startswith("fleet/console/"):
            closures.extend(f"{path}:{name}" for name in _closure_endpoints(tree))
        kit_fields = kit_fields or _kit_fields(tree)
        if replaces := _kit_replaces(tree):
            kit_replaces[path] = replaces
        endings.extend(_ending_types(path, tree))
    flat_tests = sorted(p.name for p in (root / "tests").glob("test_*.py"))
    outside = {p: n for p, n in dialect.items() if not p.startswith("fleet/migrations/")}
    return {
        "dialect_branches": {
            "outside_migrations": sum(map(len, outside.values())),
            "with_migrations": sum(map(len, dialect.values())),
            "where": dialect,
        },
        "status_literals": {
            "exact": sum(literals.values()),
            "exact_files": len(literals),
            "quoted_in_sql": sum(quoted.values()),
            "quoted_files": len(quoted),
            "where": dict(sorted(literals.items())),
            "where_quoted": dict(sorted(quoted.items())),
        },
        "long_functions": {"count": len(long_functions), "where": long_functions},
        "many_parameters": {"count": len(many_parameters), "where": many_parameters},
        "bool_parameters": bool_parameters,
        "action_key_parses": {
            "count": sum(map(len, key_parses.values())),
            "where": key_parses,
        },
        "flat_test_modules": {"count": len(flat_tests), "where": flat_tests},
        "console_closure_endpoints": {"count": len(closures), "where": closures},
        "action_kit": {
            "fields": len(kit_fields),
            "names": kit_fields,
            "replace_calls": sum(map(len, kit_replaces.values())),
            "where": kit_replaces,
        },
        "ending_types": {"count": len(endings), "names": endings},
    }


def _brief(found: dict[str, Any]) -> dict[str, Any]:
    """The figures without the lists of where (``--details`` keeps them)."""
    brief: dict[str, Any] = {}
    for name, value in found.items():
        if isinstance(value, dict):
            kept = {k: v for k, v in value.items() if k not in {"where", "where_quoted"}}
            brief[name] = kept
        else:
            brief[name] = value
    return brief


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("."), help="the checkout to count")
    parser.add_argument("--details", action="store_true", help="say where each figure is")
    args = parser.parse_args()
    found = figures(args.root)
    print(json.dumps(found if args.details else _brief(found), indent=2))


if __name__ == "__main__":
    main()
