"""``fleet demo``: see the fleet live in one command, with no servers."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime

import click

from fleet.cli.output import Finite, echo, print_json, print_table
from fleet.core.kinds import ACTION_NAMES
from fleet.errors import FleetError, InputError


@click.command()
@click.option("--agents", "count", type=click.IntRange(1, 600), default=12, show_default=True)
@click.option(
    "--speed",
    type=Finite(1, 100_000),
    default=720,
    show_default=True,
    help="Simulated seconds per real second (720: a day in two minutes).",
)
@click.option(
    "--duration",
    type=Finite(1, 86_400),
    default=120,
    show_default=True,
    help="Real seconds of simulation (the run takes longer on a slow machine).",
)
@click.option("--seed", type=click.IntRange(0, 2**62), default=1, show_default=True)
@click.option("--start", help="Simulated start, ISO 8601 UTC (default: Monday 2026-11-16 12:00).")
@click.option(
    "--keep-gallery", is_flag=True, help="Keep the gallery up after the run until Ctrl-C."
)
@click.option(
    "--llm",
    is_flag=True,
    help="Write with Anthropic's API when ANTHROPIC_API_KEY is set (it costs money); "
    "by default the demo writes offline.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="No live view, no pacing (as fast as the work allows); print the summary as JSON.",
)
def demo(
    count: int,
    speed: float,
    duration: float,
    seed: int,
    start: str | None,
    keep_gallery: bool,
    llm: bool,
    as_json: bool,
) -> None:
    """Run a small fleet on SQLite, an in-memory broker and the sandbox gallery."""
    if importlib.util.find_spec("fleet_sandbox") is None:
        raise FleetError(
            "the demo runs the sandbox gallery, the fleet-sandbox package, not installed "
            "here: pip install 'fleet[demo]' (or -e packages/fleet-sandbox in the checkout)"
        )
    from fleet.demo import DemoOptions, Summary, run

    begin = None
    if start is not None:
        try:
            begin = datetime.fromisoformat(start)
        except ValueError:
            raise InputError(
                f"--start {start!r}: expected an ISO 8601 time, e.g. 2026-11-16T12:00"
            ) from None
        begin = begin if begin.tzinfo else begin.replace(tzinfo=UTC)
    options = DemoOptions(count, speed, duration, seed, begin, keep_gallery, llm)

    def show(summary: Summary) -> None:
        if as_json:
            print_json(summary.__dict__)
            return
        echo(
            f"\n{summary.steps} steps, {summary.simulated_seconds / 3600:.1f} simulated hours "
            f"in {summary.wall_seconds:.0f} s; first action after "
            f"{summary.first_action_wall_seconds} s"
        )
        rows = [
            (p, *(by.get(a, 0) for a in ACTION_NAMES)) for p, by in sorted(summary.decided.items())
        ]
        print_table("decided actions", ["persona", *ACTION_NAMES], rows)
        echo(
            "outcomes: "
            + ", ".join(f"{k} {v}" for k, v in sorted(summary.statuses.items()))
            + f"; retries {summary.retries}; dead letters {summary.dead_letters}"
        )
        if not keep_gallery:
            echo(f"gallery: {summary.gallery_url} (gone now; use --keep-gallery to browse it)")

    def wait(summary: Summary, url: str) -> None:
        # The summary as soon as the run ends, then the gallery until Ctrl-C.
        show(summary)
        echo(f"the gallery stays up at {url} — Ctrl-C to stop")
        import threading

        threading.Event().wait()

    def progress(line: str) -> None:
        echo(line)

    summary = run(options, live=not as_json, wait_for_exit=wait, progress=progress)
    if not keep_gallery:
        show(summary)
