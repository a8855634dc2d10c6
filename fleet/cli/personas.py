"""``fleet personas``: the archetypes agents are born from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from fleet.cli.context import fleet_as_is
from fleet.cli.output import as_json, echo, json_option, print_json, print_table
from fleet.core.names import handle_of
from fleet.errors import PersonaFileError
from fleet.infra.persona_files import load_persona
from fleet.service.rhythm import rhythm_of


@click.group()
def personas() -> None:
    """List, show and validate persona files."""


@personas.command("list")
@json_option
@click.pass_context
def list_(ctx: click.Context) -> None:
    """The loaded personas."""
    catalogue = fleet_as_is(ctx).personas
    if as_json(ctx):
        print_json(
            [
                {
                    "slug": p.slug,
                    "display_name": p.display_name,
                    "vibe": p.vibe,
                    "timezone": p.schedule.timezone,
                    "selection_weight": p.selection_weight,
                    "weights": {k.value: round(v, 4) for k, v in p.weights.normalised().items()},
                    "rhythm": rhythm_of(p),
                    "quotas": p.quotas.as_dict(),
                }
                for p in catalogue
            ]
        )
        return
    rows = []
    for p in catalogue:
        w = p.weights.normalised()
        rows.append(
            (
                p.slug,
                p.display_name,
                p.vibe,
                p.schedule.timezone,
                " ".join(f"{k.value}={v:.0%}" for k, v in w.items()),
                rhythm_of(p),
                f"{p.schedule.active_minutes_per_week() / 60:.0f}h",
            )
        )
    print_table(
        None, ["slug", "name", "vibe", "timezone", "actions", "rhythm", "active/week"], rows
    )


@personas.command()
@click.argument("slug")
@json_option
@click.pass_context
def show(ctx: click.Context, slug: str) -> None:
    """One persona in full."""
    persona = fleet_as_is(ctx).personas.get(slug)
    data = persona.model_dump(mode="json")
    data["normalised_weights"] = {k.value: v for k, v in persona.weights.normalised().items()}
    if as_json(ctx):
        print_json(data)
        return
    s = persona.schedule
    echo(f"{persona.display_name} ({persona.slug}), {persona.vibe}")
    echo(f"  {persona.personality}")
    echo(f"  interests: {', '.join(persona.interests)}")
    echo(f"  workflow styles: {', '.join(persona.workflow_styles)}")
    echo("  actions: " + ", ".join(f"{k} {v:.0%}" for k, v in data["normalised_weights"].items()))
    echo(f"  rhythm: {rhythm_of(persona)}")
    quotas = persona.quotas.as_dict()
    echo(
        "  daily quotas: "
        + (", ".join(f"{n} {kind}" for kind, n in quotas.items()) if quotas else "none")
    )
    echo(f"  schedule ({s.timezone}): off-peak x{s.off_peak:g}")
    for peak in s.peaks:
        echo(f"    peak x{peak.multiplier:g} {peak.start}-{peak.end} {','.join(peak.days)}")
    for window in s.dormant:
        echo(f"    dormant {window.start}-{window.end} {','.join(window.days)}")
    echo(
        f"  names: {', '.join(persona.names.templates)}; handles like "
        + ", ".join(handle_of(persona, 1, index) for index in range(3))
    )


@personas.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@json_option
@click.pass_context
def validate(ctx: click.Context, paths: tuple[Path, ...]) -> None:
    """Check persona files; exit code 2 if any is refused."""
    results: list[dict[str, Any]] = []
    for path in paths:
        files = sorted(path.glob("*.toml")) if path.is_dir() else [path]
        for file in files:
            try:
                persona = load_persona(file)
                results.append(
                    {"path": str(file), "ok": True, "slug": persona.slug, "problems": []}
                )
            except PersonaFileError as exc:
                results.append(
                    {
                        "path": str(file),
                        "ok": False,
                        "slug": None,
                        "problems": [{"field": f, "reason": r} for f, r in exc.problems],
                    }
                )
    if as_json(ctx):
        print_json(results)
    else:
        for result in results:
            if result["ok"]:
                echo(f"ok      {result['path']} ({result['slug']})")
            for problem in result["problems"]:
                where = f" {problem['field']}:" if problem["field"] else ""
                echo(f"refused {result['path']}:{where} {problem['reason']}", err=True)
    if not results:
        raise click.UsageError("no persona files found")
    if not all(r["ok"] for r in results):
        raise click.exceptions.Exit(2)
