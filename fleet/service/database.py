"""Use cases on the schema: check it is current, upgrade, downgrade, say where it stands."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url

from fleet.db import versions
from fleet.errors import InputError
from fleet.service.root import Fleet
from fleet.settings import PROJECT_DIR, default_database_url


def describe_url(url: str) -> str:
    """Where a database URL points, as a person reads it: a SQLite file's absolute path
    (and whose: this directory's ``.fleet/``, or the user's data directory), else the
    URL with its password hidden."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(str(parsed.database)).expanduser().resolve()
        if url == default_database_url():
            where = (
                "this directory's .fleet/"
                if path.parent == (Path.cwd() / PROJECT_DIR).resolve()
                else "the user's data directory, shared by every directory without a .fleet/"
            )
            return f"{path} (SQLite, embedded default: {where})"
        return f"{path} (SQLite)"
    return parsed.render_as_string(hide_password=True)


def revisions(fleet: Fleet) -> tuple[str | None, str | None]:
    """(the database's revision, the newest one)."""
    from fleet.db import migrate  # Alembic loads only when the schema is read

    return migrate.current_revision(fleet.engine), migrate.head_revision(fleet.engine)


def upgrade(fleet: Fleet, revision: str = "head") -> str | None:
    """Apply migrations up to ``revision``; the revision reached."""
    from fleet.db import migrate  # Alembic loads only when the schema is read

    migrate.upgrade(fleet.engine, revision)
    return migrate.current_revision(fleet.engine)


def downgrade(fleet: Fleet, revision: str) -> str | None:
    """Revert migrations down to ``revision``; the revision reached (None: empty)."""
    from fleet.db import migrate  # Alembic loads only when the schema is read

    migrate.downgrade(fleet.engine, revision)
    return migrate.current_revision(fleet.engine)


def ensure_current(fleet: Fleet) -> None:
    """Make sure the schema is at head before a command uses it.

    An existing SQLite database is brought up to date on first use; a server database
    is never migrated behind the operator's back. A SQLite file that is not there is
    a typo, or a shell that does not see the fleet's configuration: say so rather than
    create an empty database and answer from it (only ``fleet db upgrade`` and the
    demo create one).
    """
    url = make_url(fleet.settings.database_url)
    sqlite = url.get_backend_name() == "sqlite"
    if sqlite and url.database not in (None, "", ":memory:"):
        path = Path(str(url.database)).expanduser()
        if not path.exists():
            if fleet.settings.database_url == default_database_url():
                raise InputError(
                    f"no fleet yet in the embedded database ({path}): create it with "
                    "`fleet db upgrade`, or point FLEET_DATABASE_URL (or a .env here) at "
                    "your fleet's database"
                )
            raise InputError(
                f"no database at {path}: check FLEET_DATABASE_URL, "
                "or create it with `fleet db upgrade`"
            )
    head = versions.plain_head()
    if head is not None and versions.stored_revision(fleet.engine) == head:
        return  # at head, told without loading Alembic
    current, head = revisions(fleet)
    if current == head:
        return
    if sqlite:
        upgrade(fleet)
        return
    raise InputError(
        f"the database is at revision {current or 'none'}, not {head}: run `fleet db upgrade`"
    )
