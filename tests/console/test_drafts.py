"""The console's Drafts page: what agents under review wrote, approved, edited or rejected
with a POST and its CSRF token; in Chromium, with screenshots in artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from fleet.console.app import build_app
from fleet.console.security import Guard
from fleet.console.serve import BackgroundConsole
from fleet.service import agents, drafts
from fleet.service.root import Fleet, bootstrap
from fleet_sandbox.server import BackgroundSandbox
from tests.console.conftest import ARTIFACTS, browse, needs_chromium, settings_of
from tests.gallery.conftest import Admin

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def drafted(
    pg_engine: Engine, redis_keys: str, sandbox: BackgroundSandbox, admin: Admin
) -> Iterator[Fleet]:
    """Agent 1 posts freely; agents 2 and 3, under review, drafted two posts and a comment
    on agent 1's post."""
    fleet = bootstrap(settings_of(pg_engine, redis_keys, sandbox.url), pg_engine)
    try:
        agents.create_and_start(fleet, agents.NewAgents("ux_ui_designer", 1))
        agents.create_and_start(
            fleet, agents.NewAgents("data_visualization", 2, review=agents.ReviewMode.ON)
        )
        agents.act_here(fleet, "1", "post")
        for ref, action in [("2", "post"), ("3", "post"), ("2", "comment")]:
            assert agents.act_here(fleet, ref, action).status == "drafted"
        yield fleet
    finally:
        fleet.close()


class Console:
    """A TestClient on the console, posting with the session's CSRF token."""

    def __init__(self, http: TestClient) -> None:
        self.http = http
        self.token = http.get("/csrf").json()["csrf"]

    def post(self, path: str, **data: str) -> httpx.Response:
        return self.http.post(path, data={**data, "csrf": self.token}, follow_redirects=False)


def _status(fleet: Fleet, draft_id: int) -> tuple[str, str]:
    draft = drafts.show(fleet, draft_id)
    return draft.status, draft.activity_status


def test_drafts_are_approved_edited_and_rejected_by_csrf_posts(
    drafted: Fleet, admin: Admin
) -> None:
    one, two, comment = sorted(d.id for d in drafts.find(drafted))
    with TestClient(build_app(drafted, Guard(None)), base_url="http://127.0.0.1") as http:
        console = Console(http)
        overview = http.get("/").text
        assert 'id="drafts-tile"' in overview and '<a href="/drafts">3</a>' in overview
        page = http.get("/drafts").text
        assert "3 waiting for review" in page and "Approve every pending draft shown" in page
        # The page's title is its name only: the review-mode form (and its CSRF token)
        # is on the page, never in the tab's title or a bookmark's name.
        title = page[page.index("<title>") : page.index("</title>")]
        assert title == "<title>Drafts · Fleet", title
        assert page.count('id="review-mode"') == 1 and page.index("</title>") < page.index(
            'id="review-mode"'
        )
        forged = http.post("/drafts/approve", data={"ids": str(one)}, follow_redirects=False)
        assert forged.status_code == 403 and _status(drafted, one) == ("pending", "awaiting_review")

        approved = console.post("/drafts/approve", ids=str(one), back="/drafts?status=pending")
        assert approved.status_code == 303
        location = approved.headers["location"]
        assert location.endswith("&status=pending")
        assert "approved 1 draft" in http.get(location).text, "the outcome, signed, shown"
        assert _status(drafted, one) == ("approved", "pending"), "sent at its agent's moment"
        again = console.post("/drafts/approve", ids=str(one))
        assert "left as they were" in http.get(again.headers["location"]).text

        too_long = console.post("/drafts/reject", ids=str(two), reason="x" * 501)
        assert too_long.status_code == 400 and "at most 500" in too_long.text
        assert _status(drafted, two) == ("pending", "awaiting_review")
        refused = console.post(f"/drafts/{comment}/edit", text="As an AI, I admire this.")
        assert refused.status_code == 400 and "the guard refuses" in refused.text
        before = drafts.show(drafted, comment).content["text"]
        assert before != "As an AI, I admire this."
        edited = console.post(
            f"/drafts/{comment}/edit", text="Calm grid, good rhythm.", then="approve"
        )
        assert edited.status_code == 303
        assert "edited and approved" in http.get(edited.headers["location"]).text
        shown = drafts.show(drafted, comment)
        assert shown.status == "approved" and shown.content["text"] == "Calm grid, good rhythm."

        rejected = console.post("/drafts/reject", scope="page", page=str(two), reason="off brand")
        assert rejected.status_code == 303
        assert rejected.headers["location"].startswith("/drafts?said=")
        assert f"rejected 1 draft(s): {two}" in http.get(rejected.headers["location"]).text
        ended = drafts.show(drafted, two)
        assert (ended.status, ended.ending) == ("rejected", "rejected: off brand")
        listed = http.get("/drafts?status=").text
        assert "rejected: off brand" in listed and "publishes" in listed
    assert admin.report()["totals"]["posts"] == 1, (
        "only agent 1's post: none published at the click"
    )


@needs_chromium
def test_the_drafts_page_shows_images_texts_agents_and_forms_in_chromium(
    drafted: Fleet, tmp_path: Path
) -> None:
    with BackgroundConsole(drafted) as console:
        page = browse(tmp_path, console.url + "/drafts")
        for draft in drafts.find(drafted):
            assert f'href="/drafts/{draft.id}"' in page and draft.handle in page
            assert draft.persona in page
        assert page.count('class="thumb"') == 2, "the two posts' images"
        assert page.count('class="thumb answered"') == 1, "the commented post's image"
        assert 'name="csrf"' in page and "Reject checked" in page
        browse(tmp_path, console.url + "/drafts", screenshot="console-drafts.png")
        comment = next(d for d in drafts.find(drafted) if d.action == "comment")
        one = browse(tmp_path, f"{console.url}/drafts/{comment.id}")
        assert "Edit, then approve" in one and "answers" in one
        assert 'class="draft-image answered"' in one
        browse(tmp_path, f"{console.url}/drafts/{comment.id}", screenshot="console-draft.png")
    assert (ARTIFACTS / "console-drafts.png").stat().st_size > 10_000
