"""Each context is the only writer of its tables (ARCHITECTURE.md, "Layers"): no module of
Fleet outside ``fleet/agents`` writes the agents table.

import-linter cannot say it: the activities context reads the agents table (joins for a
handle, a persona), so it imports the model. This reads the source instead: a statement
that writes the table (``update``, ``insert`` or ``delete`` of ``Agent`` or its
``__table__``), a new ``Agent`` row, or SQL text that writes ``agents``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import fleet

PACKAGE = Path(fleet.__file__).parent
# The agents context writes its table; the storage layer defines it, and migrations shape it.
OWNERS = ("agents", "db", "migrations")
WRITES = frozenset({"update", "insert", "delete"})
SQL_WRITE = re.compile(r"\b(update|insert\s+into|delete\s+from)\s+\"?agents\b", re.IGNORECASE)


def _names_the_table(node: ast.expr) -> bool:
    """``Agent``, ``Agent.__table__`` or a module's alias of it (``AGENTS``)."""
    if isinstance(node, ast.Name):
        return node.id in {"Agent", "AGENTS"}
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "__table__"
        and isinstance(node.value, ast.Name)
        and node.value.id == "Agent"
    )


def writes_of_the_agents_table(source: str) -> list[int]:
    """The lines of ``source`` that write the agents table."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else None
            if name in WRITES and node.args and _names_the_table(node.args[0]):
                lines.append(node.lineno)  # update(Agent), insert(AGENTS), ...
            elif name == "Agent":
                lines.append(node.lineno)  # a new row: session.add(Agent(...))
            elif (
                isinstance(func, ast.Attribute)
                and func.attr in WRITES
                and _names_the_table(func.value)
            ):
                lines.append(node.lineno)  # AGENTS.update(), Agent.__table__.insert()
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and SQL_WRITE.search(node.value)
        ):
            lines.append(node.lineno)
    return sorted(lines)


def test_the_check_finds_each_way_of_writing_the_table() -> None:
    source = "\n".join(
        [
            "update(Agent).values(status='x')",
            "insert(AGENTS)",
            "delete(Agent.__table__)",
            "session.add(Agent(handle='a'))",
            "AGENTS.update()",
            "text('UPDATE agents SET status = 1')",
            "text('insert into \"agents\" values (1)')",
            "select(Agent).where(Agent.id == 1)",
            "update(AgentActivity)",
            "text('SELECT * FROM agents')",
        ]
    )
    assert writes_of_the_agents_table(source) == [1, 2, 3, 4, 5, 6, 7]


def test_only_the_agents_context_writes_the_agents_table() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in OWNERS:
            continue
        found += [
            f"fleet/{relative}:{line}" for line in writes_of_the_agents_table(path.read_text())
        ]
    assert not found, f"written outside fleet/agents (call a command of fleet.agents): {found}"
