"""``fleet reconcile``: the activity ledger against the gallery; ``--fix`` repairs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import click
from celery import Celery

from fleet.bootstrap import Fleet
from fleet.cli.activity import _window
from fleet.cli.context import fleet_of
from fleet.cli.output import json_option, print_json, print_table
from fleet.errors import InputError
from fleet.gallery.client import HttpGallery
from fleet.reconcile import reconcile as compare
from fleet.reconcile import repair


@click.command()
@click.option("--since", default="24h", show_default=True, help="Window: 30m, 6h, 1d.")
@click.option("--fix", is_flag=True, help="Repair what can be repaired.")
@json_option
@click.pass_context
def reconcile(ctx: click.Context, since: str, fix: bool, as_json: bool) -> int:
    """Compare the ledger with the gallery; exit 1 while differences remain.

    Posts and comments on the gallery that the ledger does not record as succeeded
    (--fix: mark them succeeded), succeeded posts and comments the gallery lacks (--fix:
    dead, with a dead letter), pending activities past their lease (--fix: re-send),
    and posts with fewer likes than the ledger's likes on them (reported only).
    """
    fleet = fleet_of(ctx)
    gallery = HttpGallery(fleet.settings.gallery)
    try:
        found = compare(fleet.sessions, gallery, now=datetime.now(UTC), window=_window(since))
    finally:
        gallery.close()
    if fix and found.findings:
        repair(
            fleet.sessions,
            found,
            now=datetime.now(UTC),
            lease=timedelta(seconds=fleet.settings.tasks.lease_seconds),
            send=_sender(fleet),
        )
    if as_json:
        print_json(found.to_json())
    else:
        scanned = ", ".join(f"{n} {what}" for what, n in found.scanned.items())
        click.echo(f"read {scanned} since {found.since:%Y-%m-%d %H:%M:%S} UTC")
        fixed = {id(f) for f in found.fixed}
        if found.findings:
            print_table(
                None,
                ["kind", "action", "activity", "agent", "post", "effect", "detail", "fixed"],
                [
                    (
                        f.kind,
                        f.action,
                        f.activity_id,
                        f.handle,
                        f.post_id,
                        f.effect_id,
                        f.detail,
                        "yes" if id(f) in fixed else "",
                    )
                    for f in found.findings
                ],
            )
        click.echo(f"{found.count} difference(s), {len(found.remaining)} remaining")
    return 1 if found.remaining else 0


def _sender(fleet: Fleet) -> Callable[[str, str], None]:
    """Send re-leased actions through the fleet's broker (connected on the first send)."""
    apps: list[Celery] = []

    def send(action: str, key: str) -> None:
        from workers.app import create_app
        from workers.tasks import ACTION_QUEUES

        if fleet.settings.broker_url.startswith("memory"):
            raise InputError("FLEET_BROKER_URL is memory://: no worker would see a re-sent action")
        if not apps:
            apps.append(create_app(fleet.settings))
        apps[0].send_task(f"fleet.{action}", args=(key,), queue=ACTION_QUEUES[action])

    return send
