"""``fleet reconcile``: the activity ledger against the gallery; ``--fix`` repairs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import click

from fleet.cli.activity import _window
from fleet.cli.context import action_sender, fleet_of
from fleet.cli.output import json_option, print_json, print_table
from fleet.gallery.client import HttpGallery
from fleet.service.reconcile import reconcile as compare
from fleet.service.reconcile import repair


@click.command()
@click.option("--since", default="24h", show_default=True, help="Window: 30m, 6h, 1d.")
@click.option("--fix", is_flag=True, help="Repair what can be repaired.")
@json_option
@click.pass_context
def reconcile(ctx: click.Context, since: str, fix: bool, as_json: bool) -> int:
    """Compare the ledger with the gallery; exit 1 while differences remain (a like_excess,
    perhaps a person's like, is reported but does not count).

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
        # Stale actions are re-sent: a broker no worker sees is refused before any repair.
        stale = any(finding.kind == "stale" for finding in found.findings)
        repair(
            fleet.sessions,
            found,
            now=datetime.now(UTC),
            lease=timedelta(seconds=fleet.settings.tasks.lease_seconds),
            send=_resending(action_sender(fleet)) if stale else _nothing_to_send,
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
    return 1 if found.unresolved else 0


def _resending(send_task: Callable[[str, str], None]) -> Callable[[str, str], None]:
    """Send a re-leased action (``like``, key) as its task (``fleet.like``)."""

    def send(action: str, key: str) -> None:
        send_task(f"fleet.{action}", key)

    return send


def _nothing_to_send(action: str, key: str) -> None:
    raise AssertionError(f"repair sent {action} {key} with no stale finding")
