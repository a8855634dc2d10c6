"""``fleet impact``: does agent engagement help newcomers come back? The holdout's report."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from fleet.cli.context import fleet_of
from fleet.cli.output import as_json, echo, json_option, print_json, print_table

if TYPE_CHECKING:
    from fleet.impact.outcomes import Outcome


def _figure(value: float | None, kind: str) -> str:
    if value is None:
        return "-"
    return f"{100 * value:.1f} %" if kind == "proportion" else f"{value:.2f}"


def _points(value: float | None, kind: str) -> str:
    if value is None:
        return "-"
    return f"{100 * value:+.1f} pts" if kind == "proportion" else f"{value:+.2f}"


# The touches of held-out people listed under the count (``--json`` has them all).
TOUCHES_SHOWN = 20


@click.command()
@click.option(
    "--experiment",
    help="The experiment to report (default: FLEET_IMPACT__EXPERIMENT, the one running).",
)
@click.option("--list", "listing", is_flag=True, help="List the experiments recorded.")
@json_option
@click.pass_context
def impact(ctx: click.Context, experiment: str | None, listing: bool) -> None:
    """Per experiment: people per arm, each outcome per arm, the difference with its 95 % CI."""
    from fleet.impact import use_cases as use

    fleet = fleet_of(ctx)
    if listing:
        found = use.experiment_names(fleet)
        if as_json(ctx):
            print_json(found)
            return
        print_table(
            "Experiments",
            ["experiment", "people", "since"],
            [[e["experiment"], e["people"], e["since"]] for e in found],
        )
        return
    report = use.impact_report(fleet, experiment)
    if as_json(ctx):
        print_json(report.as_dict())
        return
    echo(
        f"Experiment {report.experiment}: {report.people['treated']} treated, "
        f"{report.people['holdout']} held out, {report.opted_out} opted out (counted apart); "
        f"holdout {report.days} days."
    )
    _print_outcomes(report.outcomes)
    r = report.response
    if r["answered"]:
        echo(
            f"Treated people's first agent response: {r['answered']} of {r['people']}, "
            f"median {r['median']:.0f} minutes after their first post."
        )
    if report.touched_holdout is not None:
        echo(
            "Agents' likes, comments and replies toward held-out people during their "
            f"holdout, by the fleet's ledger and the gallery: {report.touched_holdout}"
            + (" (the holdout was broken: see docs/impact.md)" if report.touched_holdout else "")
            + "."
        )
        for t in report.touches[:TOUCHES_SHOWN]:
            echo(
                f"  {t.at:%Y-%m-%d %H:%M} {t.agent}: {t.action} of {t.target_kind} "
                f"{t.target_id} (held-out {t.username or t.user_id})"
            )
        if len(report.touches) > TOUCHES_SHOWN:
            echo(f"  ... and {len(report.touches) - TOUCHES_SHOWN} more (--json lists them all)")
    answered = report.identity_answered
    if answered:
        echo(
            "People answered an identity question (honesty outranks the holdout; "
            f"counted in their arm): {answered.get('treated', 0)} treated, "
            f"{answered.get('holdout', 0)} held out."
        )
    for note in report.notes:
        echo(note)


def _print_outcomes(outcomes: Sequence[Outcome]) -> None:
    """Each outcome per arm, the difference with its CI, then each one's verdict."""
    rows = []
    for o in outcomes:
        d = o.difference
        rows.append(
            [
                o.name,
                f"{o.n['treated']} / {o.n['holdout']}",
                _figure(o.value["treated"], o.kind),
                _figure(o.value["holdout"], o.kind),
                _points(None if d is None else d.estimate, o.kind),
                "-" if d is None else f"{_points(d.low, o.kind)} to {_points(d.high, o.kind)}",
                "-" if d is None else f"{d.p_value:.3g}",
                _points(o.mde, o.kind).lstrip("+"),
            ]
        )
    print_table(
        None,
        [
            "outcome",
            "people (treated / held out)",
            "treated",
            "held out",
            "difference",
            "95 % CI",
            "p",
            "smallest detectable",
        ],
        rows,
    )
    for o in outcomes:
        echo(f"{o.name}: {o.verdict}.")
