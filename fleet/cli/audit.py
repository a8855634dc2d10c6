"""``fleet audit``: can every person tell what an agent is, and is their "no" kept?"""

from __future__ import annotations

import click

from fleet.cli.activity import _window
from fleet.cli.context import fleet_of
from fleet.cli.output import SHORT, UNCHECKED, as_json, echo, json_option, print_json
from fleet.honesty.audit import Audit, fix_and_audit
from fleet.honesty.audit import audit as run_audit

MARKS = {"ok": "ok   ", "short": "SHORT", "unavailable": "n/a  "}


@click.command()
@click.option("--since", default="7d", show_default=True, help="The ledger's window: 6h, 2d.")
@click.option("--fix", is_flag=True, help="First sync the operator's label where it differs.")
@json_option
@click.pass_context
def audit(ctx: click.Context, since: str, fix: bool) -> int:
    """Check the honesty rules against the gallery and the ledger; exit 1 when any falls
    short, 3 when none does but one could not run (the gallery down or unreadable).

    Agent accounts labelled automated with the operator's name and link; actions toward
    people who opted out or blocked the agent, later than the consent cache's bound (10
    minutes) after they said so; texts claiming to be human; identity questions answered.
    A check that cannot run says n/a: then not all checks hold (docs/disclosure.md).
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
        echo(verdict(found))
    return exit_code(found)


def verdict(found: Audit) -> str:
    """The audit's last line: all hold, the fleet falls short, or some checks could not run."""
    if not found.ok:
        return "the fleet falls short: see SHORT above"
    if found.unchecked:
        names = ", ".join(found.unchecked)
        count = len(found.unchecked)
        return (
            f"{count} check{'s' if count > 1 else ''} could not run ({names}): nothing is "
            "known of them; the rest hold"
        )
    return "all checks hold"


def exit_code(found: Audit) -> int:
    """0: every check ran and holds; 1: one falls short; 3: none falls short, but one
    could not run (docs/cli.md)."""
    if not found.ok:
        return SHORT
    return UNCHECKED if found.unchecked else 0
