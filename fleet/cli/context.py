"""How a CLI command gets its Fleet: the one in ``ctx.obj`` (tests), or one from the env."""

from __future__ import annotations

import click

from fleet.service import database
from fleet.service.root import Fleet, bootstrap


def fleet_of(ctx: click.Context, *, migrated: bool = True) -> Fleet:
    """The command's Fleet; with ``migrated`` the schema is checked to be at head (the
    embedded SQLite database is brought up to date on first use)."""
    root = ctx.find_root()
    if not isinstance(root.obj, Fleet):
        root.obj = bootstrap()
        root.call_on_close(root.obj.close)
    fleet: Fleet = root.obj
    if migrated and not getattr(fleet, "_schema_checked", False):
        database.ensure_current(fleet)
        fleet._schema_checked = True  # type: ignore[attr-defined]
    return fleet
