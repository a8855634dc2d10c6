"""Where the schema stands, read cheaply: the migrations' head from their files' own
lines and the database's revision from its ``alembic_version`` row, without Alembic.

Every command checks the schema before it reads; loading Alembic for that costs a
tenth of a second. This is the fast path: when it cannot tell plainly (a merge of
branches, a file it does not read, no version row), it says None and the caller asks
Alembic (``fleet.db.migrate``).
"""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path

from sqlalchemy import Engine, inspect, text

# The Alembic scripts ship inside the package (``fleet/migrations``).
MIGRATIONS_DIR = Path(str(files("fleet") / "migrations"))

_REVISION = re.compile(r'^revision(?:: str)? = "([\w-]+)"$', re.M)
_DOWN_REVISION = re.compile(r'^down_revision(?:: [\w |]+)? = (?:"([\w-]+)"|None)$', re.M)


def plain_head(directory: Path = MIGRATIONS_DIR) -> str | None:
    """The one head of the migrations in ``directory``, or None when that is not plain."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (directory / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision, down = _REVISION.findall(source), _DOWN_REVISION.findall(source)
        if len(revision) != 1 or len(down) != 1:
            return None
        revisions.add(revision[0])
        if down[0]:
            parents.add(down[0])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def stored_revision(engine: Engine) -> str | None:
    """The one revision in the database's ``alembic_version``, or None (no table, no row,
    or several)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    return str(rows[0][0]) if len(rows) == 1 else None
