"""Each context is the only writer of its tables (ARCHITECTURE.md, "Layers"): no module of
Fleet outside ``fleet/agents`` writes the agents table, nor ``agent_credentials`` (each
agent's sealed platform token).

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


# Each agent's platform token (fleet/agents/credentials.py): the agents context's too.
CREDENTIALS_WRITE = re.compile(
    r"\b(update|insert\s+into|delete\s+from)\s+\"?agent_credentials\b", re.IGNORECASE
)


def _names_the_table(node: ast.expr, model: str = "Agent", alias: str = "AGENTS") -> bool:
    """``Agent``, ``Agent.__table__`` or a module's alias of it (``AGENTS``)."""
    if isinstance(node, ast.Name):
        return node.id in {model, alias}
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "__table__"
        and isinstance(node.value, ast.Name)
        and node.value.id == model
    )


def writes_of_the_agents_table(
    source: str,
    model: str = "Agent",
    alias: str = "AGENTS",
    sql: re.Pattern[str] = SQL_WRITE,
) -> list[int]:
    """The lines of ``source`` that write the agents table (or another of the context's:
    its ``model``, the ``alias`` modules give its table, the ``sql`` that writes it)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else None
            if name in WRITES and node.args and _names_the_table(node.args[0], model, alias):
                lines.append(node.lineno)  # update(Agent), insert(AGENTS), ...
            elif name == model:
                lines.append(node.lineno)  # a new row: session.add(Agent(...))
            elif (
                isinstance(func, ast.Attribute)
                and func.attr in WRITES
                and _names_the_table(func.value, model, alias)
            ):
                lines.append(node.lineno)  # AGENTS.update(), Agent.__table__.insert()
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and sql.search(node.value)
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


def test_only_the_agents_context_writes_the_agents_credentials() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in OWNERS:
            continue
        lines = writes_of_the_agents_table(
            path.read_text(), "AgentCredential", "CREDENTIALS", CREDENTIALS_WRITE
        )
        found += [f"fleet/{relative}:{line}" for line in lines]
    assert not found, f"written outside fleet/agents (fleet.agents.credentials): {found}"


def test_the_check_finds_writes_of_the_credentials_table() -> None:
    source = "\n".join(
        [
            "update(AgentCredential).values(sealed=None)",
            "session.add(AgentCredential(agent_id=1))",
            "text('DELETE FROM agent_credentials')",
            "select(AgentCredential)",
        ]
    )
    assert writes_of_the_agents_table(
        source, "AgentCredential", "CREDENTIALS", CREDENTIALS_WRITE
    ) == [1, 2, 3]
