"""The overview's honesty panel is live (issue 67, item 5): read every minute, its age
shown with a way to read it again now, and "0 of 0" said as "nothing to check yet",
never as a pass."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import httpx
import pytest

from fleet.console.pages.overview import HONESTY_SECONDS
from fleet.console.serve import BackgroundConsole
from fleet.honesty.audit_scope import Finding
from fleet.service.board import nothing_checked
from fleet.service.root import Fleet


def test_a_check_with_nothing_to_look_at_is_no_pass() -> None:
    assert nothing_checked(Finding("labelled", "ok", "0 of 0", {"accounts": 0, "labelled": 0}))
    assert nothing_checked(Finding("identity_answers", "ok", "0 of 0", {"asked": 0}))
    assert nothing_checked(Finding("consent", "ok", "no person has opted out", {}))
    assert not nothing_checked(Finding("labelled", "ok", "3 of 3", {"accounts": 3}))
    assert not nothing_checked(Finding("identity_answers", "short", "1 waiting", {"asked": 0}))
    assert not nothing_checked(Finding("operator_link", "ok", "opens", {"status": 200}))
    assert HONESTY_SECONDS <= 60, "the panel's figures are never older than a minute"


@pytest.fixture
def console(fleet: Fleet) -> Iterator[BackgroundConsole]:
    with BackgroundConsole(fleet) as running:
        yield running


def _panel(html: str) -> str:
    found = re.search(r'<section id="honesty".*?</section>', html, re.S)
    assert found, html[:300]
    return found.group(0)


def test_the_panel_says_nothing_to_check_yet_its_age_and_reads_again_on_asking(
    console: BackgroundConsole,
) -> None:
    honesty = console.app.state.overview.honesty
    deadline = time.monotonic() + 30
    while honesty.read_at is None:
        assert time.monotonic() < deadline, "the audit never ran"
        time.sleep(0.05)
    # A fleet with nothing on the gallery yet: every check that holds had nothing to see.
    honesty.value = {
        "ok": True,
        "nothing": True,
        "consent": "",
        "findings": [
            {"name": "labelled", "status": "ok", "summary": "0 of 0 (100 %)", "nothing": True}
        ],
    }
    with httpx.Client(base_url=console.url, timeout=10) as http:
        panel = _panel(http.get("/").text)
        assert "Nothing to check yet" in panel and "Every check holds" not in panel
        assert "0 of 0" not in panel
        assert re.search(r"Read \d+ s ago", panel), panel
        first = honesty.read_at
        csrf = re.search(r'name="csrf" value="([^"]+)"', http.get("/").text)
        assert csrf is not None
        asked = http.post("/honesty/refresh", data={"csrf": csrf.group(1)})
        assert asked.status_code in (200, 303)
        deadline = time.monotonic() + 30
        while honesty.read_at == first:
            assert time.monotonic() < deadline, "the refresh did not read again"
            time.sleep(0.05)
        # The audit's own reading now (this fleet's operator link does not open: short).
        panel = _panel(http.get("/").text)
        assert 'data-finding="operator_link"' in panel
