"""``fleet audit``: can every person tell what an agent is, and is their "no" kept?"""

from __future__ import annotations

import click

from fleet.cli.activity import _window
from fleet.cli.context import fleet_of
from fleet.cli.output import as_json, echo, json_option, print_json
from fleet.service.audit import audit as run_audit
from fleet.service.audit import fix_and_audit

MARKS = {"ok": "ok   ", "short": "SHORT", "unavailable": "n/a  "}


@click.command()
@click.option("--since", default="7d", show_default=True, help="The ledger's window: 6h, 2d.")
@click.option("--fix", is_flag=True, help="First sync the operator's label where it differs.")
@json_option
@click.pass_context
def audit(ctx: click.Context, since: str, fix: bool) -> int:
    """Check the honesty rules against the gallery and the ledger; exit 1 when any falls short.

    Agent accounts labelled automated with the operator's name and link; actions toward
    people who opted out or blocked the agent, later than the consent cache's bound (10
    minutes) after they said so; texts claiming to be human; identity questions answered.
    A check that cannot run says n/a and does not count (docs/disclosure.md).
    """
    found = (fix_and_audit if fix else run_audit)(fleet_of(ctx), window=_window(since))
    if as_json(ctx):
        print_json(found.to_json())
    else:
        echo(
            f"audit at {found.at:%Y-%m-%d %H:%M:%S} UTC, ledger since {found.since:%Y-%m-%d %H:%M} UTC"
        )
        for finding in found.findings:
            echo(f"{MARKS[finding.status]} {finding.name}: {finding.summary}")
        echo("all checks hold" if found.ok else "the fleet falls short: see SHORT above")
    return 0 if found.ok else 1
