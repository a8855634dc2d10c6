"""``fleet demo``: see the fleet live in one command, with no servers."""

from __future__ import annotations

import functools
import importlib.util
import signal
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from fleet.cli.options import gathered
from fleet.cli.output import Finite, as_json, echo, json_flag, print_json, print_table
from fleet.core.kinds import ACTION_NAMES
from fleet.errors import FleetError, InputError

if TYPE_CHECKING:
    from fleet.demo import DemoOptions, Summary


# The options that make the run's ``DemoOptions``.
_ASKED = (
    "agents",
    "speed",
    "duration",
    "seed",
    "start",
    "keep_gallery",
    "llm",
    "platform",
    "takahe_dir",
)


def _demo_options(**asked: Any) -> DemoOptions:
    """The run asked for, once the sandbox gallery (or the Takahē snapshot and the
    Postgres it needs) is known to be there."""
    if importlib.util.find_spec("fleet_sandbox") is None:
        raise FleetError(
            "the demo runs the sandbox gallery, the fleet-sandbox package, not installed "
            "here: pip install 'fleet[demo]' (or -e packages/fleet-sandbox in the checkout)"
        )
    from fleet.demo import DemoOptions

    if asked["platform"] == "takahe":
        from fleet.demo.takahe import check_postgres, postgres_url, snapshot_dir

        asked["takahe_dir"] = snapshot_dir(asked["takahe_dir"])
        check_postgres(postgres_url())
    elif asked["takahe_dir"] is not None:
        raise InputError("--takahe-dir is for --platform takahe")
    return DemoOptions(**{**asked, "start": _simulated_start(asked["start"])})


def _simulated_start(start: str | None) -> datetime | None:
    """``--start`` as an aware time (UTC when it names no zone)."""
    if start is None:
        return None
    try:
        begin = datetime.fromisoformat(start)
    except ValueError:
        raise InputError(
            f"--start {start!r}: expected an ISO 8601 time, e.g. 2026-11-16T12:00"
        ) from None
    return begin if begin.tzinfo else begin.replace(tzinfo=UTC)


@click.command()
@click.option("--agents", "agents", type=click.IntRange(1, 600), default=12, show_default=True)
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
    "--platform",
    type=click.Choice(["sandbox", "takahe"]),
    default="sandbox",
    show_default=True,
    help="Where the fleet acts: the sandbox gallery in this process, or a local Takahē "
    "(a server of the Mastodon client API) started from --takahe-dir.",
)
@click.option(
    "--takahe-dir",
    type=click.Path(path_type=Path, file_okay=True, dir_okay=True),
    default=None,
    help="Takahē 0.11's source directory, for --platform takahe (default: "
    "FLEET_TAKAHE_DIR). It is copied, never written to.",
)
@json_flag(help="No live view, no pacing (as fast as the work allows); print the summary as JSON.")
@click.pass_context
@gathered(_demo_options, "options", _ASKED)
def demo(ctx: click.Context, options: DemoOptions) -> None:
    """Run a small fleet on SQLite, an in-memory broker and the sandbox gallery (or a
    local Takahē, --platform takahe)."""
    from fleet.demo import run

    if options.platform == "takahe":
        # A terminal closed or `kill` stops the run as Ctrl-C does: Takahē stopped, its
        # database dropped.
        signal.signal(signal.SIGTERM, _interrupt)
        signal.signal(signal.SIGHUP, _interrupt)

    summary = run(
        options,
        live=not as_json(ctx),
        wait_for_exit=functools.partial(_wait, ctx, options),
        progress=echo,
    )
    if not options.keep_gallery:
        _show(ctx, summary, options)
    elif not as_json(ctx):
        for line in summary.stopped:  # said after Ctrl-C, once the gallery is down
            echo(line)


def _show(ctx: click.Context, summary: Summary, options: DemoOptions) -> None:
    """The run's summary: JSON, or a few lines and a table."""
    if as_json(ctx):
        print_json(summary.__dict__)
        return
    echo(
        f"\n{summary.steps} steps, {summary.simulated_seconds / 3600:.1f} simulated hours "
        f"in {summary.wall_seconds:.0f} s; first action after "
        f"{summary.first_action_wall_seconds} s"
    )
    rows = [(p, *(by.get(a, 0) for a in ACTION_NAMES)) for p, by in sorted(summary.decided.items())]
    print_table("decided actions", ["persona", *ACTION_NAMES], rows)
    echo(
        "outcomes: "
        + ", ".join(f"{k} {v}" for k, v in sorted(summary.statuses.items()))
        + f"; retries {summary.retries}; dead letters {summary.dead_letters}"
    )
    for note in [*summary.notes, *summary.stopped]:
        echo(note)
    if not options.keep_gallery:
        echo(f"gallery: {summary.gallery_url} (gone now; use --keep-gallery to browse it)")
    echo(f"the agents' operator link: {summary.about_url} (About these automated accounts)")


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _wait(ctx: click.Context, options: DemoOptions, summary: Summary, url: str) -> None:
    """The summary as soon as the run ends, then the gallery until Ctrl-C."""
    _show(ctx, summary, options)
    if options.platform == "takahe":
        echo(f"Takahē stays up at {url} — Ctrl-C to stop it and drop its database")
    else:
        echo(f"the gallery stays up at {url} — Ctrl-C to stop; a person signs up at {url}/signup")
    threading.Event().wait()
