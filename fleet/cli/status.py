"""``fleet status``: queues, workers, agents, lag, actions, dead letters, holds, breakers."""

from __future__ import annotations

import click

from fleet.cli.context import fleet_of
from fleet.cli.options import gathered
from fleet.cli.output import (
    BIGGEST_ROW,
    SHORT,
    UNCHECKED,
    Finite,
    as_json,
    echo,
    json_option,
    print_json,
    print_table,
)
from fleet.consent.status import consent_line
from fleet.honesty.audit import unchecked_lines
from fleet.service.database import describe_url
from fleet.service.status import (
    Report,
    Thresholds,
    audit_of,
    back_pressure_line,
    beats_line,
    check,
    gather,
    live_workers,
)


@click.command()
@json_option
@click.option(
    "--check",
    "checking",
    is_flag=True,
    help="Exit 1 when a threshold is broken, 3 when a check could not run.",
)
@click.option(
    "--max-lag",
    "max_lag_seconds",
    type=Finite(min=0),
    default=30.0,
    show_default=True,
    help="Seconds of dispatch lag.",
)
@click.option(
    "--max-dead-letters",
    "max_new_dead_letters",
    type=click.IntRange(0, BIGGEST_ROW),
    default=10,
    show_default=True,
    help="New dead letters in 5 minutes.",
)
@click.option(
    "--max-error-rate",
    type=Finite(0, 1),
    default=0.2,
    show_default=True,
    help="Dead share of actions in 5 minutes.",
)
@click.option(
    "--max-hold-hours",
    type=Finite(min=0),
    default=25.0,
    show_default=True,
    help="Hours a fleet hold may still last.",
)
@click.option(
    "--max-deferral-hours",
    type=Finite(min=0),
    default=25.0,
    show_default=True,
    help="Hours an agent deferred by the gallery's 429 may still wait.",
)
@click.option("--workers/--no-workers", default=True, help="Ping the workers through the broker.")
@click.pass_context
@gathered(Thresholds, "limits")
def status(ctx: click.Context, checking: bool, limits: Thresholds, workers: bool) -> None:
    """The fleet's health at a glance; with --check, an exit code for alerts (0 well, 1 a
    threshold broken, 3 a check could not run: docs/cli.md)."""
    fleet = fleet_of(ctx)
    report = gather(fleet, limits=limits)
    if checking:
        report.audit = audit_of(fleet)
    if workers and not fleet.settings.broker_url.startswith("memory"):
        report.workers = live_workers(fleet)
    broken = check(report, limits)
    # Under --check, what could not be checked (the gallery down): never "all is well".
    unchecked = unchecked_lines(report.audit, report.consent) if checking else []
    if as_json(ctx):
        print_json({**report.to_json(), "broken": broken, "unchecked": unchecked})
    else:
        _print_health(report, describe_url(fleet.settings.database_url))
        _print_tables(report)
        _print_alarms(report)
        for line in broken:
            echo(f"BROKEN: {line}", err=True)
        for line in unchecked:
            echo(f"UNCHECKED: {line}", err=True)
    if checking and broken:
        raise click.exceptions.Exit(SHORT)
    if unchecked:
        raise click.exceptions.Exit(UNCHECKED)


def _print_health(report: Report, database: str) -> None:
    """Where the fleet runs, what it writes with, and what holds it back."""
    echo(f"status at {report.at:%Y-%m-%d %H:%M:%S} UTC")
    echo(f"database: {database}")
    if report.queues:
        echo("queues: " + ", ".join(f"{q} {n}" for q, n in report.queues.items()))
    if report.workers is not None:
        echo(f"workers: {', '.join(report.workers) or 'none answering'}")
    if report.beats:
        echo(f"beats publishing: {beats_line(report.beats)}")
    echo(f"due agents {report.due_agents}, dispatch lag {report.dispatch_lag_seconds:.1f}s")
    if report.outlook:
        echo(f"outlook: {report.outlook['line']}")
    for note in report.notes:
        echo(f"note: {note}")
    _print_writers(report)
    _print_provenance(report)
    seen = report.credentials
    if seen.get("set") or seen.get("refused_count") or seen.get("revoked"):
        echo(
            f"platform tokens: {seen['set']} set, {seen['refused_count']} refused, "
            f"{seen['revoked']} revoked (fleet agents credentials list)"
        )
    _print_pace(report)


def _print_writers(report: Report) -> None:
    """The LLM (and its fallbacks) and the embeddings."""
    llm = report.llm
    if llm.get("writer") == "offline":
        echo("llm: offline writer (templates; no ANTHROPIC_API_KEY nor FLEET_LLM__PROVIDER)")
    else:
        named = "" if llm["from"] == "default" else f" (set by {llm['from']})"
        echo(f"llm: {llm['writer']} {llm['model']} at {llm['host'] or 'its API'}{named}")
        for number, more in enumerate(llm.get("chain", [])[1:], start=1):
            where = f" at {more['host']}" if more["host"] else ""
            echo(f"llm fallback {number}: {more['label']}{where}")
    vectors = report.embeddings
    if vectors:
        where = f" at {vectors['host']}" if vectors.get("host") else ""
        model = f" {vectors['model']}" if vectors.get("model") else ""
        echo(f"embeddings: {vectors['provider']}{model}{where}: {vectors['vectors']}")


def _print_provenance(report: Report) -> None:
    """How many published images carry valid marks, and who signs them."""
    seen = report.provenance
    if seen.get("published") or seen.get("refused"):
        share = seen["marked"] / seen["published"] if seen["published"] else 0.0
        echo(
            f"provenance, last 7 days: {share:.0%} of {seen['published']} published images "
            f"with valid marks; {seen['refused']} posts skipped, no provenance"
        )
    signed = report.provenance.get("certificate")
    needed = "required" if report.provenance.get("required") else "checked, not required"
    if signed is None:
        echo(f"provenance: {needed}; any valid C2PA signer (no operator certificate)")
    else:
        root = ", a self-signed chain: untrusted" if signed["self_signed"] else ""
        echo(
            f"provenance: {needed}; signed by {signed['subject']} (issuer "
            f"{signed['issuer']}, until {signed['until'][:10]}{root})"
        )


def _print_pace(report: Report) -> None:
    """The pace, back-pressure, the fleet's hold and the agents the gallery deferred."""
    if report.pace:
        pace = report.pace
        share = "" if pace["fleet_share"] is None else f", {pace['fleet_share']:.0%} of it ours"
        echo(
            f"pace: {pace['pace']:.2f} (last day: people {pace['people_per_day']} actions, "
            f"the fleet {pace['fleet_per_day']}{share}; sessions open at this share of "
            "their rate)"
        )
    if report.back_pressure:
        echo(f"back-pressure: {back_pressure_line(report.back_pressure)}")
    if report.hold:
        echo(
            f"fleet hold: {report.hold['kind']} until {report.hold['until']} ({report.hold['reason']})"
        )
    deferred = report.deferred
    if deferred.get("agents"):
        echo(
            f"deferred agents: {deferred['agents']} wait more than "
            f"{deferred['over_hours']:g} hours for the gallery's 429, the longest "
            f"@{deferred['longest_agent']} until {deferred['longest_until']}"
        )


def _print_tables(report: Report) -> None:
    """Agents by persona and status, recent actions, dead letters and drafts."""
    print_table(
        "agents",
        ["persona", "status", "count"],
        [(p, s, n) for p, by in report.agents.items() for s, n in by.items()],
    )
    print_table(
        "actions in the last 5 minutes",
        ["action", "status", "count"],
        [(a, s, n) for a, by in report.actions.items() for s, n in by.items()],
    )
    echo(
        f"dead letters: {report.dead_letters['total']} waiting, {report.dead_letters['new']} new in 5 minutes"
    )
    drafts = report.drafts
    if any(drafts.get(k) for k in ("waiting", "approved", "rejected", "expired")):
        rate = drafts["approval_rate"]
        median = drafts["median_decision_seconds"]
        echo(
            f"drafts: {drafts['waiting']} waiting for review; last 7 days "
            f"{drafts['approved']} approved, {drafts['rejected']} rejected, "
            f"{drafts['expired']} expired, approval rate "
            + ("-" if rate is None else f"{rate:.0%}")
            + ", median decision "
            + ("-" if median is None else f"{median / 60:.0f} min")
            + f", spent on rejected ${drafts['rejected_cost_usd']:.4f}"
        )


def _print_alarms(report: Report) -> None:
    """Consent, the audit's findings, open breakers and LLM debt."""
    if report.consent:
        echo(consent_line(report.consent))
    for finding in report.audit:
        echo(f"audit {finding['name']}: {finding['status']}: {finding['summary']}")
    for name, state in report.breakers.items():
        echo(
            f"breaker {name}: {'OPEN' if state['open'] else 'closed'} ({state['failures']} failures)"
        )
    for name, debt in report.llm_debt.items():
        echo(
            f"LLM bucket {name}: in debt ({debt['tokens']:,} tokens); LLM calls wait "
            f"about {debt['wait_seconds']:g}s"
        )
