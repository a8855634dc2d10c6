"""Running the demo for a person: the chosen gallery's run, watched live or line by line, to its summary."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from rich.console import Group

from fleet.demo.run import Demo, DemoOptions, Summary
from fleet.demo.view import live_view, progress_line


def run(
    options: DemoOptions,
    *,
    live: bool = True,
    wait_for_exit: Callable[[Summary, str], None] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Summary:
    """Run the demo from start to summary; Ctrl-C stops it cleanly at any point.

    ``live`` on a terminal draws the live view; through a pipe, ``progress`` gets a
    plain line every twentieth of the run instead. With ``keep_gallery``,
    ``wait_for_exit`` gets the summary and the gallery's URL while the gallery is up.
    """
    stop = threading.Event()
    with tempfile.TemporaryDirectory(prefix="fleet-demo-") as tmp:
        demo = _demo_for(options, Path(tmp))
        try:
            demo.prepare()
            if live:
                _watch(demo, stop, progress or print)
            else:
                demo.run(lambda d: None, stop)
        except KeyboardInterrupt:
            stop.set()
        finally:
            summary = _finish(demo, wait_for_exit)
    assert summary is not None
    return summary


def _demo_for(options: DemoOptions, workdir: Path) -> Demo:
    """The run on the platform ``options`` name."""
    if options.platform == "takahe":
        from fleet.demo.on_takahe import TakaheDemo

        return TakaheDemo(options, workdir)
    return Demo(options, workdir)


def _watch(demo: Demo, stop: threading.Event, say: Callable[[str], None]) -> None:
    """Run ``demo`` paced for a person: the live view on a terminal, else a plain line
    every twentieth of the run."""
    from rich.console import Console
    from rich.live import Live

    console = Console()
    if console.is_terminal:

        def draw() -> Group:
            size = console.size
            return live_view(demo, width=size.width, height=size.height)

        with Live(draw(), console=console, refresh_per_second=4) as screen:
            demo.run(lambda d: screen.update(draw()), stop, paced=True)
        return
    every = max(1, demo.options.steps // 20)

    def step(d: Demo) -> None:
        if d.step % every == 0 or d.step == 1:
            say(progress_line(d))

    demo.run(step, stop, paced=True)


def _finish(demo: Demo, wait_for_exit: Callable[[Summary, str], None] | None) -> Summary | None:
    """The run's summary (None if it never started); the demo closed, and the gallery
    stopped, after ``wait_for_exit`` with ``keep_gallery``."""
    summary = demo.summary() if demo.fleet is not None else None
    demo.close()
    try:
        if summary is not None and demo.options.keep_gallery and wait_for_exit is not None:
            wait_for_exit(summary, demo.gallery_url)
    except KeyboardInterrupt:
        pass
    finally:
        stopped = demo.stop_gallery()
        if summary is not None:
            summary.stopped.extend(stopped)
    return summary
