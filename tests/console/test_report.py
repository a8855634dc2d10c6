"""The weekly report: a console page and ``fleet report`` writing the same page."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from fleet.cli import cli
from fleet.console.serve import BackgroundConsole
from fleet.service import report
from fleet.service.root import Fleet
from tests.console.browser import Browser
from tests.console.conftest import ARTIFACTS, needs_chromium

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def test_a_week_with_no_activity_says_so_instead_of_drawing_empty_charts(
    pg_fleet: Fleet, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    done = CliRunner().invoke(
        cli, ["report", "--week", "2026-W47", "--out", str(out)], obj=pg_fleet
    )
    assert done.exit_code == 0, done.output
    assert "no activity in week 2026-W47" in done.stderr
    page = out.read_text()
    assert "No activity in week 2026-W47" in page and "<svg" not in page


def test_a_malformed_week_is_refused_with_exit_2(pg_fleet: Fleet) -> None:
    done = CliRunner().invoke(cli, ["report", "--week", "2026-47"], obj=pg_fleet)
    assert done.exit_code == 2 and "ISO week like 2026-W47" in done.stderr


@needs_chromium
def test_the_report_of_a_worked_week_in_the_console_and_as_a_file(
    worked: Fleet, console: BackgroundConsole, browser: Browser, tmp_path: Path
) -> None:
    week = report.this_week(worked)
    seen = report.weekly(worked, week)
    ux = next(p for p in seen.personas if p.slug == "ux_ui_designer")
    assert ux.succeeded("post") == 1 and ux.succeeded("comment") == 1
    assert [(task, n) for task, _, n in seen.dead_letters] == [("fleet.like", 1)]
    out = tmp_path / "report.html"
    done = CliRunner().invoke(cli, ["report", "--week", week, "--out", str(out)], obj=worked)
    assert done.exit_code == 0, done.output
    page = out.read_text()
    assert "<svg" in page and "<link" not in page and "src=" not in page  # self-contained
    browser.open(out.as_uri())
    assert "Dead letters and their reasons" in browser.text()
    browser.open(f"{console.url}/report?week={week}")
    text = browser.text()
    assert f"Week {week}" in text and "ux_ui_designer" in text and "fleet.like" in text
    browser.screenshot(ARTIFACTS / "console-report.png")
