"""The demo as a person sees it: a live view that fits an 80x24 terminal with its feed,
plain progress lines through a pipe, and the summary as soon as the run ends."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from fleet.cli import cli
from fleet.demo import Demo, DemoOptions
from fleet.demo.view import live_view, progress_line

AFTERNOON = datetime(2026, 11, 16, 16, 0, tzinfo=UTC)


def _screen(demo: Demo, width: int, height: int) -> list[str]:
    console = Console(width=width, height=height, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(live_view(demo, width=width, height=height))
    console.file.close()
    return console.export_text().rstrip("\n").splitlines()


@pytest.mark.long
def test_the_live_view_fits_80x24_and_keeps_the_feed(tmp_path: Path) -> None:
    demo = Demo(DemoOptions(agents=12, speed=11520, duration=2, seed=5, start=AFTERNOON), tmp_path)
    try:
        demo.prepare()
        demo.run(lambda _: None, threading.Event())
        assert len(demo.feed) >= 6
        small = _screen(demo, 80, 24)
        assert len(small) <= 24, "\n".join(small)
        assert all(len(line) <= 80 for line in small)
        text = "\n".join(small)
        assert "activity (times UTC)" in text
        newest = demo.feed[-1]
        assert str(newest["handle"]) in small[-2]  # the newest event, above the footer
        assert "personas" not in text  # the clocks give way to the feed
        big = "\n".join(_screen(demo, 160, 60))
        assert "personas" in big and "local time" in big and "activity (times UTC)" in big
    finally:
        demo.close()
        demo.sandbox.stop()


@pytest.mark.long
def test_through_a_pipe_the_demo_prints_plain_progress_and_its_summary() -> None:
    result = CliRunner().invoke(
        cli, ["demo", "--agents", "3", "--duration", "2", "--start", "2026-11-20T23:00"]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    progress = [line for line in lines if line.startswith("step ")]
    assert progress[0].startswith("step 1/8  simulated Fri 23:")
    assert progress[-1].startswith("step 8/8")
    assert "\x1b[" not in result.stdout  # no live-view escapes in a pipe
    assert any(line.startswith("outcomes: ") for line in lines)


@pytest.mark.long
def test_with_keep_gallery_the_summary_comes_while_the_gallery_is_up() -> None:
    """The summary is not held back until Ctrl-C: the waiting hook gets it, with the
    gallery still answering."""
    import httpx

    from fleet.demo import Summary, run

    seen: list[tuple[Summary, int]] = []

    def wait(summary: Summary, url: str) -> None:
        seen.append((summary, httpx.get(url + "/fragment", timeout=10).status_code))

    options = DemoOptions(agents=3, duration=2, seed=5, start=AFTERNOON, keep_gallery=True)
    final = run(options, live=False, wait_for_exit=wait)
    assert len(seen) == 1
    summary, answered = seen[0]
    assert summary == final and answered == 200


def test_the_live_feed_prints_a_person_s_title_inert() -> None:
    from fleet.demo.view import _feed

    event = {
        "at": "2026-11-16T16:00:00",
        "handle": "ux_one",
        "action": "comment",
        "status": "succeeded",
        "detail": {"title": "Hi\x1b]0;pwned\x07 [bold red]there[/bold red]", "author": "maya"},
    }
    console = Console(width=120, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(_feed([event], 120))
    console.file.close()
    shown = console.export_text()
    assert "\x1b" not in shown and "\x07" not in shown
    assert "[bold red]there[/bold red]" in shown, "markup shown as written, not obeyed"


@pytest.mark.long
def test_decided_and_skipped_are_counted_quietly_not_lines_of_the_feed(tmp_path: Path) -> None:
    """A skip (nothing to like, a quota spent) is normal, but a feed of them reads as a
    stuck run: the feed shows what the agents did, the footer and the progress lines
    count the skips by reason."""
    demo = Demo(DemoOptions(agents=12, speed=11520, duration=2, seed=5, start=AFTERNOON), tmp_path)
    try:
        demo.prepare()
        demo.run(lambda _: None, threading.Event())
        before = sum(demo.skipped.values())
        for n in range(8):  # as the worker publishes them
            demo._event(
                {
                    "handle": f"quiet_{n}",
                    "action": "like",
                    "status": "skipped",
                    "at": "2026-11-16T22:00:00+00:00",
                    "detail": {"reason": "nothing to like: nothing new it sees is to its taste"},
                }
            )
        screen = _screen(demo, 120, 40)
        text = "\n".join(screen)
        assert "quiet_" not in text  # no line of the feed is a skip
        assert not any(" skipped:" in line for line in screen[:-1])  # "like skipped: ..."
        footer = screen[-1]
        assert f"skipped {before + 8} (" in footer and "like: nothing to like" in footer
        assert demo.skipped["like: nothing to like"] >= 8
        assert "(skipped: " in progress_line(demo) and "like: nothing to like" in progress_line(
            demo
        )
    finally:
        demo.close()
        demo.sandbox.stop()
