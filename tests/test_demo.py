"""``fleet demo`` on its embedded default: SQLite, the in-memory broker, the sandbox."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from click.testing import CliRunner

from fleet.cli import cli
from fleet.demo import DemoOptions, run

EVENING = datetime(2026, 11, 20, 23, 0, tzinfo=UTC)  # Friday: evening in the Americas


def test_the_demo_is_deterministic_for_a_seed() -> None:
    options = DemoOptions(agents=6, speed=720, duration=3, seed=5, start=EVENING)
    first = run(options, live=False)
    second = run(options, live=False)
    assert first.decided == second.decided
    assert sum(sum(by.values()) for by in first.decided.values()) > 10
    assert first.statuses.get("pending", 0) == 0, "every decided action ended"
    assert first.statuses.get("succeeded", 0) > 0
    assert first.first_action_wall_seconds is not None


def test_another_seed_makes_another_day() -> None:
    one = run(DemoOptions(agents=6, duration=3, seed=5, start=EVENING), live=False)
    other = run(DemoOptions(agents=6, duration=3, seed=6, start=EVENING), live=False)
    assert one.decided != other.decided


def test_the_demo_command_prints_a_json_summary() -> None:
    result = CliRunner().invoke(
        cli, ["demo", "--agents", "3", "--duration", "2", "--json", "--start", "2026-11-20T23:00"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout[result.stdout.index("{") :])
    assert summary["steps"] == 8 and summary["gallery_url"].startswith("http://127.0.0.1:")


def test_a_bad_demo_option_is_refused_with_exit_code_2() -> None:
    result = CliRunner().invoke(cli, ["demo", "--start", "tomorrow"])
    assert result.exit_code == 2
    assert "--start 'tomorrow'" in result.stderr
