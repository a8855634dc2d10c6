"""``fleet reconcile``: the activity ledger against the gallery; ``--fix`` repairs."""

from __future__ import annotations

import click

from fleet.cli.activity import _window
from fleet.cli.context import fleet_of
from fleet.cli.output import as_json, echo, json_option, print_json, print_table
from fleet.service.reconcile import check, check_and_fix


@click.command()
@click.option("--since", default="24h", show_default=True, help="Window: 30m, 6h, 1d.")
@click.option("--fix", is_flag=True, help="Repair what can be repaired.")
@json_option
@click.pass_context
def reconcile(ctx: click.Context, since: str, fix: bool) -> int:
    """Compare the ledger with the gallery; exit 1 while differences remain (a like_excess,
    perhaps a person's like, is reported but does not count).

    Posts and comments on the gallery that the ledger does not record as succeeded
    (--fix: mark them succeeded), succeeded posts and comments the gallery lacks (--fix:
    dead, with a dead letter), pending activities past their lease (--fix: re-send),
    and posts with fewer likes than the ledger's likes on them (reported only).
    """
    found = (check_and_fix if fix else check)(fleet_of(ctx), _window(since))
    if as_json(ctx):
        print_json(found.to_json())
    else:
        scanned = ", ".join(f"{n} {what}" for what, n in found.scanned.items())
        echo(f"read {scanned} since {found.since:%Y-%m-%d %H:%M:%S} UTC")
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
        echo(f"{found.count} difference(s), {len(found.remaining)} remaining")
    return 1 if found.unresolved else 0
