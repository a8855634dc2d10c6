"""`fleet activity export --format csv` writes nothing a spreadsheet runs as a formula
(issue 68, F11): a cell that opens with = + - @, a tab or a carriage return is quoted
with a leading apostrophe (OWASP's CSV-injection rule), control characters are dropped."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from fleet import activities
from fleet.cli.activity import spreadsheet_cell
from fleet.service.root import Fleet
from tests.cli.test_cli import run
from tests.conftest import active_agents

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
HOSTILE = (
    '=HYPERLINK("http://evil.example","x")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "p\x001\x07\x1b",
)


@pytest.mark.parametrize("value", HOSTILE)
def test_a_cell_never_opens_with_a_formula_sign_nor_holds_a_control_character(value: str) -> None:
    cell = spreadsheet_cell(value)
    assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r")
    assert not any(ord(ch) < 32 or ord(ch) == 127 for ch in cell)


def test_plain_values_are_written_as_they_are() -> None:
    for value in ("p123", "automated", "2026-11-20T12:00:00+00:00", "ux_ui_designer", ""):
        assert spreadsheet_cell(value) == value
    assert spreadsheet_cell(None) == ""
    assert spreadsheet_cell(42) == "42"


def test_the_csv_export_quotes_a_gallery_id_that_opens_a_formula(fleet: Fleet) -> None:
    agent_id = active_agents(fleet, 1)[0]
    # Postgres keeps no NUL in JSON: the ledger's ids go without it there.
    stored = [value.replace("\x00", "") for value in HOSTILE]
    for n, post_id in enumerate(stored):
        key = f"{agent_id}:{int(NOW.timestamp()) + n}:like"
        activity = activities.create_activity(
            fleet.sessions, agent_id, "like", NOW, key, now=NOW, lease=timedelta(minutes=5)
        )
        activities.finish(
            fleet.sessions, activity, "succeeded", now=NOW, result={"post_id": post_id}
        )
    out = run(fleet, "activity", "export", "--format", "csv")
    assert out.exit_code == 0, out.output
    assert "\x00" not in out.output and "\x1b" not in out.output
    table = list(csv.DictReader(io.StringIO(out.output)))
    assert len(table) == len(HOSTILE)
    for row in table:
        for cell in row.values():
            assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), row
    assert {row["post_id"] for row in table} >= {'\'=HYPERLINK("http://evil.example","x")'}
