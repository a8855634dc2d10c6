"""``fleet activity`` and ``fleet dlq``: what the agents did, and what could not be done."""

from __future__ import annotations

import csv
import json
import re
from datetime import timedelta
from typing import Any

import click

from fleet.cli.context import fleet_as_is, fleet_of
from fleet.cli.options import confirm, yes_option
from fleet.cli.output import (
    ROW_ID,
    Finite,
    as_json,
    echo,
    json_option,
    print_json,
    print_json_line,
    print_table,
    when,
)
from fleet.core.kinds import ACTION_NAMES
from fleet.errors import InputError
from fleet.infra.events import describe
from fleet.service import activity as use
from fleet.service import dead_letters, inputs


def _window(value: str) -> timedelta:
    """``30s``, ``5m``, ``2h``, ``1d``: a positive span of time."""
    return inputs.window(value)


@click.group()
def activity() -> None:
    """The activity ledger: one row per decided action."""


@activity.command("list")
@click.option("--agent", "agent_ref", help="Only this agent (id or handle).")
@click.option("--action", help=", ".join(ACTION_NAMES) + ".")
@click.option("--status", help="pending, succeeded, skipped or dead.")
@click.option("--since", help="Only the last WINDOW (30s, 5m, 2h, 1d).")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@json_option
@click.pass_context
def list_(
    ctx: click.Context,
    agent_ref: str | None,
    action: str | None,
    status: str | None,
    since: str | None,
    limit: int,
) -> None:
    """The newest activities first."""
    rows = use.find(
        fleet_of(ctx),
        use.LedgerQuery(
            agent_ref=agent_ref,
            action=action,
            status=status,
            within=_window(since) if since else None,
            limit=limit,
        ),
    )
    if as_json(ctx):
        print_json([row.to_json() for row in rows])
        return
    print_table(
        None,
        ["id", "agent", "action", "status", "due (UTC)", "tries", "target", "detail"],
        [
            (
                r.id,
                r.handle,
                r.action,
                r.status,
                when(r.due_at),
                r.attempts,
                r.target_post_id,
                r.error
                or ", ".join(
                    f"{k}={v}"
                    for k, v in (r.result or {}).items()
                    if k != "seen" and v not in (None, "", [], {})
                ),
            )
            for r in rows
        ],
    )


@activity.command("export")
@click.option(
    "--format",
    "form",
    type=click.Choice(["jsonl", "csv"]),
    default="jsonl",
    show_default=True,
    help="One JSON object a line, or CSV with a header.",
)
@click.option("--since", help="Only the last WINDOW (30m, 6h, 2d); default: all of it.")
@click.option(
    "--output",
    type=click.File("w", encoding="utf-8"),
    default="-",
    help="A file (default: stdout).",
)
@click.pass_context
def export_(ctx: click.Context, form: str, since: str | None, output: Any) -> None:
    """Every action of the ledger with its origin (automated) and operator, newest first."""
    rows = use.export(fleet_of(ctx), within=_window(since) if since else None)
    if form == "jsonl":
        for row in rows:
            output.write(json.dumps(row) + "\n")
        return
    writer = csv.DictWriter(output, fieldnames=use.EXPORT_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({field: spreadsheet_cell(value) for field, value in row.items()})


# A cell a spreadsheet would run as a formula opens with one of these (OWASP, CSV
# injection): such a cell is written with a leading apostrophe.
_FORMULA_SIGNS = ("=", "+", "-", "@", "\t", "\r")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def spreadsheet_cell(value: object) -> str:
    """A value as a CSV cell a spreadsheet shows and never runs: control characters
    dropped (a tab or a line break kept only inside), a leading formula sign quoted."""
    cell = "" if value is None else str(value)
    cell = _CONTROL.sub("", cell)
    if cell.startswith(_FORMULA_SIGNS):
        cell = "'" + cell
    return cell.replace("\r", "").replace("\t", " ").replace("\n", " ")


@activity.command()
@click.option("--since", default="5m", show_default=True, help="Window: 30s, 5m, 2h, 1d.")
@json_option
@click.pass_context
def stats(ctx: click.Context, since: str) -> None:
    """Activities counted by persona, action and status over a window."""
    rows = use.stats(fleet_of(ctx), _window(since))
    if as_json(ctx):
        print_json([{"persona": p, "action": a, "status": s, "count": n} for p, a, s, n in rows])
        return
    print_table(f"activities in the last {since}", ["persona", "action", "status", "count"], rows)


@activity.command()
@click.option(
    "--timeout",
    type=Finite(min=0, min_open=True, max=366 * 86_400),
    help="Stop after this many seconds without an event.",
)
@json_option
@click.pass_context
def tail(ctx: click.Context, timeout: float | None) -> None:
    """Follow the live activity feed (Redis channel fleet:activity) until Ctrl-C."""
    fleet = fleet_as_is(ctx)
    use.feed_reachable(fleet)  # Redis out of reach: one line that names it, not "waiting"
    # At once, on stderr (a pipe of --json stays clean): a quiet fleet is not a dead tail.
    echo(
        "waiting for the fleet's activity (Redis channel fleet:activity); Ctrl-C to stop",
        err=True,
    )
    try:
        for event in use.follow(fleet, timeout=timeout):
            if as_json(ctx):
                print_json_line(event)
                continue
            echo(f"{str(event.get('at', ''))[11:19]} UTC  {describe(event)}")
    except KeyboardInterrupt:
        pass


@click.group()
def dlq() -> None:
    """The dead-letter queue: actions that failed for good."""


@dlq.command("list")
@click.option("--all", "include_replayed", is_flag=True, help="Include replayed letters.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@json_option
@click.pass_context
def dlq_list(ctx: click.Context, include_replayed: bool, limit: int) -> None:
    """The newest dead letters first."""
    find = dead_letters.find_all if include_replayed else dead_letters.find
    letters = find(fleet_of(ctx), limit=limit)
    if as_json(ctx):
        print_json([letter.to_json() for letter in letters])
        return
    print_table(
        None,
        ["id", "task", "key", "attempts", "error", "at (UTC)", "replayed"],
        [
            (
                x.id,
                x.task,
                x.arguments.get("key"),
                x.attempts,
                x.error[:80],
                when(x.created_at),
                when(x.replayed_at),
            )
            for x in letters
        ],
    )


@dlq.command()
@click.argument("letter_id", type=ROW_ID)
@json_option
@click.pass_context
def show(ctx: click.Context, letter_id: int) -> None:
    """One dead letter in full."""
    letter = dead_letters.get(fleet_of(ctx), letter_id)
    if as_json(ctx):
        print_json(letter.to_json())
        return
    for key, value in letter.to_json().items():
        echo(f"{key:>12}  {'' if value is None else value}")


@dlq.command()
@click.argument("letter_ids", type=ROW_ID, nargs=-1, required=True)
@click.pass_context
def replay(ctx: click.Context, letter_ids: tuple[int, ...]) -> None:
    """Send dead letters' actions again, with the same idempotency key."""
    fleet = fleet_of(ctx)
    for letter_id, task, key in dead_letters.replay(fleet, letter_ids, fleet.sender()):
        echo(f"replayed dead letter {letter_id}: {task} {key}")


@dlq.command()
@click.argument("letter_ids", type=ROW_ID, nargs=-1)
@click.option("--all", "everything", is_flag=True, help="Every dead letter.")
@yes_option
@click.pass_context
def purge(ctx: click.Context, letter_ids: tuple[int, ...], everything: bool) -> None:
    """Delete dead letters (their activities stay dead)."""
    if bool(letter_ids) == everything:
        raise InputError("name dead letters by id, or give --all")
    fleet = fleet_of(ctx)
    confirm(
        ctx,
        "Delete every dead letter?"
        if everything
        else f"Delete dead letters {', '.join(map(str, letter_ids))}?",
    )
    gone = dead_letters.purge(fleet, None if everything else letter_ids)
    echo(f"purged {gone} dead letter(s)")
