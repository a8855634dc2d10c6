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


# Every table's writer (ARCHITECTURE.md, "Layers"): the agents context writes the agents
# table, their sealed tokens, their memories and the post vectors; the activities context
# every other table of fleet/db/models.py. The storage layer defines them, migrations shape
# them.
AGENTS_TABLES = frozenset({"agents", "agent_credentials", "memories", "post_vectors"})
SHARED = ("db", "migrations")


def _models() -> dict[str, str]:
    """Each model class of ``fleet.db.models`` by name, with its table's name."""
    from fleet.db.models import Base

    return {m.class_.__name__: m.local_table.name for m in Base.registry.mappers}


def _sql_write(table: str) -> re.Pattern[str]:
    return re.compile(rf"\b(update|insert\s+into|delete\s+from)\s+\"?{table}\b", re.IGNORECASE)


def _owner(table: str) -> str:
    return "agents" if table in AGENTS_TABLES else "activities"


def writers_outside_owners() -> list[str]:
    """Each line of ``fleet/`` that writes a table outside the context that owns it."""
    models = _models()
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in SHARED:
            continue
        source = path.read_text()
        for model, table in models.items():
            if relative.parts[0] == _owner(table):
                continue
            lines = writes_of_the_agents_table(source, model, model, _sql_write(table))
            found += [f"fleet/{relative}:{line} ({table})" for line in lines]
    return found


def test_every_table_of_the_models_has_its_owner() -> None:
    tables = set(_models().values())
    assert tables >= AGENTS_TABLES
    assert {"agent_activities", "engagements", "image_marks", "drafts"} <= tables


def test_each_table_is_written_only_by_its_context() -> None:
    found = writers_outside_owners()
    assert not found, f"written outside its context (call a command of it): {found}"


# The activities table is read by its context alone: others ask it (fleet.activities).
ACTIVITY_READS = re.compile(r"\bAgentActivity\b|\bagent_activities\b")


def test_only_the_activities_context_reads_the_activities_table() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in (*SHARED, "activities"):
            continue
        found += [
            f"fleet/{relative}:{number}"
            for number, line in enumerate(path.read_text().splitlines(), 1)
            if ACTIVITY_READS.search(line)
        ]
    assert not found, f"the activities table read outside fleet/activities: {found}"
