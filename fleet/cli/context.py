"""How a CLI command gets its Fleet: the one in ``ctx.obj`` (tests), or one from the env.

Three ways, by what the command needs: ``fleet_of`` (the schema checked to be at head:
most commands), ``fleet_as_is`` (no check: commands that read no table, or manage the
schema themselves) and ``fleet_acting_here`` (an action carried out in this process).
"""

from __future__ import annotations

import click

from fleet.service import database
from fleet.service.root import Fleet, bootstrap
from fleet.settings import Settings, load_settings


def fleet_of(ctx: click.Context) -> Fleet:
    """The command's Fleet, its schema checked to be at head (the embedded SQLite
    database is brought up to date on first use)."""
    return _checked(_root_fleet(ctx, None))


def fleet_as_is(ctx: click.Context) -> Fleet:
    """The command's Fleet, its schema not checked: for the personas, the live feed and
    the migrations themselves."""
    return _root_fleet(ctx, None)


def fleet_acting_here(ctx: click.Context) -> Fleet:
    """``fleet_of`` for a command that acts in this process: on the embedded
    configuration a Redis that does not answer is left out, said on stderr (an action
    carried out here needs none)."""
    root = ctx.find_root()
    settings = None
    if not isinstance(root.obj, Fleet):
        from fleet.cli.output import echo
        from fleet.demo.embedded import without_dead_redis

        settings = load_settings()
        if settings.broker_url.startswith("memory"):
            settings, note = without_dead_redis(settings)
            if note:
                echo(f"fleet: {note}", err=True)
    return _checked(_root_fleet(ctx, settings))


def _root_fleet(ctx: click.Context, settings: Settings | None) -> Fleet:
    """The Fleet of the command's root context, bootstrapped (from ``settings``, else
    the environment's) and closed with it when there is none yet."""
    root = ctx.find_root()
    if not isinstance(root.obj, Fleet):
        root.obj = bootstrap(settings)
        root.call_on_close(root.obj.close)
    fleet: Fleet = root.obj
    return fleet


def _checked(fleet: Fleet) -> Fleet:
    """``fleet``, its schema checked to be at head once per process."""
    if not getattr(fleet, "_schema_checked", False):
        database.ensure_current(fleet)
        fleet._schema_checked = True  # type: ignore[attr-defined]
    return fleet
