"""An audit that could not run a check says so and exits 3, never "all checks hold"
(issue 68, F12): the gallery down, or answering the consent list with garbage; and
``fleet status --check`` likewise."""

from __future__ import annotations

import httpx

from fleet.gallery.client import HttpGallery
from fleet.service.accounts import provision_accounts
from fleet.service.root import Fleet
from tests.cli.test_cli import run
from tests.conftest import active_agents
from tests.gallery.conftest import settings_for

NOBODY = "http://127.0.0.1:9"  # nothing listens there


def test_the_audit_exits_3_and_says_which_checks_could_not_run_when_the_gallery_is_down(
    fleet: Fleet, gallery: HttpGallery
) -> None:
    fleet.gallery = gallery
    ids = active_agents(fleet, 1)
    assert not provision_accounts(fleet.sessions, gallery, ids).failed
    assert run(fleet, "audit").exit_code == 0, "the gallery up: every check holds"

    fleet.gallery = HttpGallery(settings_for(NOBODY))
    down = run(fleet, "audit")
    print(down.output)
    assert down.exit_code == 3, down.output
    assert "all checks hold" not in down.output
    assert "n/a   labelled" in down.output and "n/a   consent" in down.output
    assert "n/a   follows" in down.output
    assert (
        "4 checks could not run (labelled, bot_flag, consent, follows): nothing is known of them"
        in down.output
    )
    shown = run(fleet, "audit", "--json")
    assert shown.exit_code == 3
    assert (
        '"unchecked": [\n    "labelled",\n    "bot_flag",\n    "consent",\n    "follows"\n  ]'
        in shown.output
    )


def test_a_consent_list_of_garbage_is_a_check_that_could_not_run(fleet: Fleet) -> None:
    def garbage(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/admin/agent-consent":
            return httpx.Response(200, json={"people": "all of them"})
        return httpx.Response(404, json={"error": "not found"})

    fleet.gallery = HttpGallery(
        settings_for("http://gallery.test"), transport=httpx.MockTransport(garbage)
    )
    found = run(fleet, "audit")
    assert found.exit_code == 3, found.output
    assert "n/a   consent: people's consent could not be read" in found.output


def test_status_check_exits_3_when_the_audit_could_not_run(
    fleet: Fleet, gallery: HttpGallery
) -> None:
    fleet.gallery = gallery
    assert run(fleet, "status", "--check", "--no-workers").exit_code == 0
    fleet.gallery = HttpGallery(settings_for(NOBODY))
    down = run(fleet, "status", "--check", "--no-workers")
    assert down.exit_code == 3, down.output
    assert "UNCHECKED: audit consent could not run" in down.stderr
    assert "BROKEN" not in down.stderr
    # Without --check the status is a report, not an alert: it exits 0 and says so.
    assert run(fleet, "status", "--no-workers").exit_code == 0
