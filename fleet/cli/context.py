"""How a CLI command gets its Fleet: the one in ``ctx.obj`` (tests), or one from the env."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import click
from sqlalchemy.engine import make_url

from fleet.bootstrap import Fleet, bootstrap
from fleet.db import migrate
from fleet.errors import InputError
from fleet.settings import default_database_url


def fleet_of(ctx: click.Context, *, migrated: bool = True) -> Fleet:
    """The command's Fleet; with ``migrated`` the schema is checked to be at head.

    The embedded SQLite database is brought up to date on first use; a server database
    is never migrated behind the operator's back.
    """
    root = ctx.find_root()
    if not isinstance(root.obj, Fleet):
        root.obj = bootstrap()
        root.call_on_close(root.obj.close)
    fleet: Fleet = root.obj
    if migrated and not getattr(fleet, "_schema_checked", False):
        _refuse_a_missing_sqlite_file(fleet)
        current = migrate.current_revision(fleet.engine)
        head = migrate.head_revision(fleet.engine)
        if current != head:
            if make_url(fleet.settings.database_url).get_backend_name() == "sqlite":
                migrate.upgrade(fleet.engine)
            else:
                raise InputError(
                    f"the database is at revision {current or 'none'}, not {head}: "
                    "run `fleet db upgrade`"
                )
        fleet._schema_checked = True  # type: ignore[attr-defined]
    return fleet


def _refuse_a_missing_sqlite_file(fleet: Fleet) -> None:
    """A SQLite file named in FLEET_DATABASE_URL that is not there is most likely a typo:
    say so rather than create an empty database and answer from it. Only the embedded
    default (and ``fleet db upgrade``) creates its file."""
    url = make_url(fleet.settings.database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return
    if fleet.settings.database_url == default_database_url():
        return
    path = Path(url.database).expanduser()
    if not path.exists():
        raise InputError(
            f"no database at {path}: check FLEET_DATABASE_URL, or create it with `fleet db upgrade`"
        )


class Sender(Protocol):
    """Sends an action task (name, key), at once or after ``countdown`` seconds."""

    def __call__(self, task: str, key: str, countdown: float = 0.0) -> None: ...


def action_sender(fleet: Fleet, *, instead: str = "") -> Sender:
    """A function sending an action task (name, key, countdown in seconds) to its queue
    through the broker.

    Asked for before anything is written: an in-memory broker, which no worker would
    see, is an InputError now (``instead`` says what the command offers instead), and
    a broker out of reach is kombu's OperationalError now. (Should the broker go away
    between this and the send, the activity is pending and the lease sweep sends it.)
    """
    from workers.app import create_app
    from workers.tasks import ACTION_QUEUES

    if fleet.settings.broker_url.startswith("memory"):
        raise InputError(
            "FLEET_BROKER_URL is memory://: no worker would see this task; "
            f"point it at the fleet's Redis{instead}"
        )
    app = create_app(fleet.settings)
    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1)

    def send(task: str, key: str, countdown: float = 0.0) -> None:
        action = task.removeprefix("fleet.")
        app.send_task(
            task,
            args=(key,),
            queue=ACTION_QUEUES.get(action, "ticks"),
            countdown=countdown or None,
        )

    return send
