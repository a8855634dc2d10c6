"""``fleet run``: the embedded fleet (SQLite, in-memory broker) acting in this shell."""

from __future__ import annotations

import threading

import click

from fleet.cli.output import echo
from fleet.settings import load_settings


@click.command()
@click.option(
    "--note-every",
    type=click.FloatRange(1, 3600),
    default=60,
    show_default=True,
    help="Seconds between the lines that say when the next agent is due, while none acts.",
)
def run(note_every: float) -> None:
    """Run your fleet on the embedded configuration: worker and beat in this process."""
    from fleet.demo.embedded import embedded_only, serve, without_dead_redis
    from fleet.infra import logs
    from fleet.service.database import describe_url

    settings = load_settings()
    embedded_only(settings)
    settings, note = without_dead_redis(settings)
    logs.configure("WARNING", secrets=settings.secrets(), log_format=logs.LogFormat.CONSOLE)
    echo(f"database: {describe_url(settings.database_url)}")
    if note:
        echo(note)
    echo("worker and beat running in this process; one line per action; Ctrl-C stops")
    stop = threading.Event()
    try:
        serve(settings, echo, stop, note_every=note_every)
    except KeyboardInterrupt:
        stop.set()
        echo("stopped")
