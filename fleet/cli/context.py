"""How a CLI command gets its Fleet: the one in ``ctx.obj`` (tests), or one from the env."""

from __future__ import annotations

import click

from fleet.service import database
from fleet.service.root import Fleet, bootstrap


def fleet_of(ctx: click.Context, *, migrated: bool = True, redis_optional: bool = False) -> Fleet:
    """The command's Fleet; with ``migrated`` the schema is checked to be at head (the
    embedded SQLite database is brought up to date on first use). ``redis_optional``: on
    the embedded configuration a Redis that does not answer is left out, said on stderr
    (a command acting in this process needs none)."""
    root = ctx.find_root()
    if not isinstance(root.obj, Fleet):
        settings = None
        if redis_optional:
            from fleet.cli.output import echo
            from fleet.demo.embedded import without_dead_redis
            from fleet.settings import load_settings

            settings = load_settings()
            if settings.broker_url.startswith("memory"):
                settings, note = without_dead_redis(settings)
                if note:
                    echo(f"fleet: {note}", err=True)
        root.obj = bootstrap(settings)
        root.call_on_close(root.obj.close)
    fleet: Fleet = root.obj
    if migrated and not getattr(fleet, "_schema_checked", False):
        database.ensure_current(fleet)
        fleet._schema_checked = True  # type: ignore[attr-defined]
    return fleet
