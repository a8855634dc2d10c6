"""Each context is the only writer of its tables, and the activities context the only
reader of ``agent_activities`` (ARCHITECTURE.md, "Layers"): every table of
``fleet/db/models.py`` has the owner ARCHITECTURE.md names, and no module of Fleet outside
that context writes it.

import-linter cannot say it: the activities context reads the agents table (joins for a
handle, a persona), so it imports the model. This reads the source instead: a statement
that writes a table (``update``, ``insert`` or ``delete`` of its model, its ``__table__``,
a module's alias of it or ``metadata.tables[name]``; the storage layer's
``insert_ignoring`` and ``update_rows`` of it), a new row of its model, or SQL text that
writes it. Each check is also run over a planted tree, where it must find every violation.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Collection
from pathlib import Path

import pytest

import fleet

PACKAGE = Path(fleet.__file__).parent
ROOT = PACKAGE.parent
WRITES = frozenset({"update", "insert", "delete"})
# fleet.db.engine's writes: the table is their second argument (after the session).
STORAGE_WRITES = frozenset({"insert_ignoring", "update_rows"})

# Every table's owner, and the words ARCHITECTURE.md's "Layers" gives it in that owner's
# line: the agents context writes the agents table, their sealed tokens, their memories
# and the post vectors; the activities context every other table. The storage layer
# defines them, migrations shape them.
OWNERS: dict[str, tuple[str, str]] = {
    "agents": ("agents", "the agents table"),
    "agent_credentials": ("agents", "agent_credentials"),
    "memories": ("agents", "memories"),
    "post_vectors": ("agents", "post vectors"),
    "agent_activities": ("activities", "activities,"),
    "drafts": ("activities", "drafts"),
    "engagements": ("activities", "engagements"),
    "dead_letters": ("activities", "dead letters"),
    "fleet_holds": ("activities", "holds"),
    "image_marks": ("activities", "image marks"),
    "session_plans": ("activities", "session plans"),
    "identity_questions": ("activities", "identity questions"),
    "fleet_pace": ("activities", "the pace's"),
    "post_counts": ("activities", "the pace's"),
    "pace_readings": ("activities", "the pace's"),
    "impact_assignments": ("activities", "the holdout's"),
    "impact_sightings": ("activities", "the holdout's"),
}
SHARED = ("db", "migrations")
# Each context's modules: its package, and the ledger modules of the concept packages
# (the holdout's records, the honesty ledger), which sit in the activities layer.
CONTEXTS: dict[str, tuple[str, ...]] = {
    "agents": ("agents",),
    "activities": ("activities", "impact/records.py", "honesty/ledger.py"),
}


def in_context(relative: Path, context: str) -> bool:
    """Whether the module at ``relative`` (to ``fleet/``) is one of ``context``'s."""
    path = relative.as_posix()
    return any(path == m or path.startswith(f"{m}/") for m in CONTEXTS[context])


def _sql_write(table: str) -> re.Pattern[str]:
    return re.compile(rf"\b(update|insert\s+into|delete\s+from)\s+\"?{table}\b", re.IGNORECASE)


def _names_the_table(node: ast.expr, model: str, table: str, aliases: Collection[str]) -> bool:
    """``Model``, ``Model.__table__``, ``metadata.tables["table"]`` or a module's alias of
    it (``_AGENTS``)."""
    if isinstance(node, ast.Name):
        return node.id == model or node.id in aliases
    if isinstance(node, ast.Attribute):
        return (
            node.attr == "__table__"
            and isinstance(node.value, ast.Name)
            and (node.value.id == model)
        )
    return (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "tables"
        and isinstance(node.slice, ast.Constant)
        and node.slice.value == table
    )


def aliases_of(tree: ast.AST, model: str, table: str) -> set[str]:
    """The names a module binds to the table (``_AGENTS = cast(Table, Agent.__table__)``,
    ``this = Agent.__table__.alias("this")``)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        if any(
            _names_the_table(part, model, table, ()) and not isinstance(part, ast.Name)
            for part in ast.walk(value)
            if isinstance(part, ast.expr)
        ):
            found |= {t.id for t in targets if isinstance(t, ast.Name)}
    return found


@functools.lru_cache(maxsize=1024)
def _parsed(source: str) -> ast.Module:
    return ast.parse(source)


def writes_of(source: str, model: str, table: str, aliases: Collection[str] = ()) -> list[int]:
    """The lines of ``source`` that write ``table`` (its ``model``, or the ``aliases``
    given besides those the source binds itself)."""
    tree = _parsed(source)
    named = set(aliases) | aliases_of(tree, model, table)
    sql = _sql_write(table)
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else None
            if isinstance(func, ast.Attribute) and func.attr in STORAGE_WRITES:
                name = func.attr  # engine.insert_ignoring(...)
            if name in WRITES and node.args and _names_the_table(node.args[0], model, table, named):
                lines.append(node.lineno)  # update(Agent), insert(_AGENTS), ...
            elif (
                name in STORAGE_WRITES
                and len(node.args) > 1
                and _names_the_table(node.args[1], model, table, named)
            ):
                lines.append(
                    node.lineno
                )  # insert_ignoring(session, Agent), update_rows(c, _AGENTS)
            elif name == model:
                lines.append(node.lineno)  # a new row: session.add(Agent(...))
            elif (
                isinstance(func, ast.Attribute)
                and func.attr in WRITES
                and _names_the_table(func.value, model, table, named)
            ):
                lines.append(node.lineno)  # _AGENTS.update(), Agent.__table__.insert()
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and sql.search(node.value)
        ):
            lines.append(node.lineno)
    return sorted(set(lines))


def _models() -> dict[str, str]:
    """Each model class of ``fleet.db.models`` by name, with its table's name."""
    from fleet.db.models import Base

    return {m.class_.__name__: m.local_table.name for m in Base.registry.mappers}


def writers_outside_owners(
    package: Path = PACKAGE, models: dict[str, str] | None = None
) -> list[str]:
    """Each line of ``package`` that writes a table outside the context that owns it."""
    models = _models() if models is None else models
    found = []
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package)
        if relative.parts[0] in SHARED:
            continue
        source = path.read_text()
        for model, table in models.items():
            if in_context(relative, OWNERS[table][0]):
                continue
            found += [f"{relative}:{line} ({table})" for line in writes_of(source, model, table)]
    return found


# The activities table is read by its context alone: others ask it (fleet.activities).
ACTIVITY_READS = re.compile(r"\bAgentActivity\b|\bagent_activities\b")


def activity_reads_outside(package: Path = PACKAGE) -> list[str]:
    """Each line of ``package`` outside ``activities`` (and storage) that names the
    activities table."""
    found = []
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package)
        if relative.parts[0] in SHARED or in_context(relative, "activities"):
            continue
        found += [
            f"{relative}:{number}"
            for number, line in enumerate(path.read_text().splitlines(), 1)
            if ACTIVITY_READS.search(line)
        ]
    return found


def agents_imports_in_activities(package: Path = PACKAGE) -> list[str]:
    """Each module of ``activities`` that imports the agents context (it imports
    activities, not back), a function's late import included."""
    found = []
    ledgers = [package / m for m in CONTEXTS["activities"] if m.endswith(".py")]
    for path in sorted([*(package / "activities").rglob("*.py"), *ledgers]):
        if not path.is_file():
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            if any(n == "fleet.agents" or n.startswith("fleet.agents.") for n in names):
                found.append(f"{path.relative_to(package)}:{node.lineno}")
    return found


def _layers_line(context: str) -> str:
    """ARCHITECTURE.md's "Layers" text of one context (``agents`` or ``activities``)."""
    block = (ROOT / "ARCHITECTURE.md").read_text().split("## Layers", 1)[1].split("```")[1]
    contexts = block.split("contexts", 1)[1].split("\nstorage", 1)[0]
    agents, activities = contexts.split("fleet/activities", 1)
    return " ".join((agents if context == "agents" else activities).split())


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
            "_MINE = cast(Table, Agent.__table__)",
            "session.execute(update(_MINE).values(status='x'))",
            "insert_ignoring(session, Agent, 'handle')",
            "update_rows(connection, _MINE, ids, {})",
            "engine.insert_ignoring(session, Agent.__table__)",
            "Base.metadata.tables['agents'].delete()",
            "select(Agent).where(Agent.id == 1)",
            "update(AgentActivity)",
            "text('SELECT * FROM agents')",
            "insert_ignoring(session, Draft)",
            "_MINE.select()",
        ]
    )
    assert writes_of(source, "Agent", "agents", ("AGENTS",)) == [
        1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13,
    ]  # fmt: skip


def test_every_table_of_the_models_has_the_owner_architecture_names() -> None:
    assert set(_models().values()) == set(OWNERS), (
        "a table without an owner in OWNERS (or an owner of no table): give it one, and "
        "name it in its context's line of ARCHITECTURE.md's Layers"
    )
    for table, (context, words) in OWNERS.items():
        assert words in _layers_line(context), f"{table}: {words!r} not in {context}'s line"
    assert "only reader of agent_activities" in _layers_line("activities")


def test_each_table_is_written_only_by_its_context() -> None:
    found = writers_outside_owners()
    assert not found, f"written outside its context (call a command of it): {found}"


def test_only_the_activities_context_reads_the_activities_table() -> None:
    found = activity_reads_outside()
    assert not found, f"the activities table read outside fleet/activities: {found}"


def test_the_activities_context_does_not_import_the_agents_context() -> None:
    found = agents_imports_in_activities()
    assert not found, f"fleet/activities imports fleet.agents: {found}"


PLANTED = {
    # Allowed: each context writing its own, storage shaping them.
    "activities/own.py": "session.execute(insert_ignoring(session, Draft, 'activity_id'))\n",
    "agents/own.py": "_A = cast(Table, Agent.__table__)\nupdate_rows(connection, _A, ids, {})\n",
    "db/engine.py": "delete(Agent)\n",
    "activities/reads.py": "select(AgentActivity)\n",
    # A concept package's ledger module is the activities context's (its agents import is not).
    "impact/records.py": (
        "select(AgentActivity)\nsession.add(Draft(id=1))\nfrom fleet.agents.queries import ids_of\n"
    ),
    # Violations.
    "impact/use_cases.py": "session.add(Draft(id=1))\n",
    "service/sneak.py": (
        "from fleet.db.models import Draft\n"
        "_D = cast(Table, Draft.__table__)\n"
        "session.execute(update(_D).values(status='x'))\n"
    ),
    "agents/engaged.py": "session.add(Engagement(agent_id=1))\n",
    "activities/memory.py": "insert_ignoring(session, MemoryRow, 'activity_id')\n",
    "actions/raw.py": "text('DELETE FROM agents WHERE id = 1')\n",
    "agents/peek.py": "select(AgentActivity.id)\n",
    "service/sql.py": "text('SELECT count(*) FROM agent_activities')\n",
    "activities/back.py": "def f():\n    from fleet.agents.commands import remember\n",
}


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    for name, source in PLANTED.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(source)
    return tmp_path


def test_the_checks_find_every_violation_planted(planted: Path) -> None:
    models = {"Agent": "agents", "Draft": "drafts", "Engagement": "engagements"}
    models |= {"MemoryRow": "memories", "AgentActivity": "agent_activities"}
    assert writers_outside_owners(planted, models) == [
        "actions/raw.py:1 (agents)",
        "activities/memory.py:1 (memories)",
        "agents/engaged.py:1 (engagements)",
        "impact/use_cases.py:1 (drafts)",
        "service/sneak.py:3 (drafts)",
    ]
    assert activity_reads_outside(planted) == ["agents/peek.py:1", "service/sql.py:1"]
    assert agents_imports_in_activities(planted) == ["activities/back.py:2", "impact/records.py:3"]
