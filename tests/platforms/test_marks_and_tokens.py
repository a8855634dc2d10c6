"""On real servers (Takahē, GoToSocial): a token the server refuses sets the agent aside
once, with the reason ``fleet status`` shows; Fleet's own signed image is verified
before upload, what the server stored is read back, and a stripped image (Takahē: WebP)
is posted with the text disclosure and recorded, never skipped; the audit says a
dropped bot flag apart, and ``audit --fix`` does not PATCH it again and again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from pydantic import AnyUrl
from sqlalchemy import Engine, select

from fleet import agents
from fleet.cli import cli
from fleet.db.models import AgentActivity, ImageMarks
from fleet.gallery.credentials import TokenRefused
from fleet.gallery.mastodon import MastodonGallery
from fleet.honesty.audit_disclosure import sync_labels
from fleet.honesty.image_disclosure import ALT_PREFIX, CAPTION_LINE
from fleet.service.root import Fleet, bootstrap
from fleet.settings import DisclosureSettings, GallerySettings, Settings
from tests.platforms.conftest import PaintedImages
from tests.platforms.servers import Takahe
from tests.platforms.test_actions_on_platforms import ProvisionedTokens, act

pytestmark = pytest.mark.platform

OPERATOR = DisclosureSettings(
    operator_name="Fleet test operator", operator_url=AnyUrl("https://operator.test/")
)


@pytest.fixture(params=["takahe", "gotosocial"])
def server(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue(f"{request.param}_server")


def _settings(server: Any, engine: Engine, tmp_path: Path, **extra: Any) -> Settings:
    return Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        gallery=GallerySettings(kind="mastodon", url=AnyUrl(server.url), timeout_seconds=30),
        disclosure=OPERATOR,
        images={"directory": tmp_path / "images", "width": 128, "height": 128},
        impact={"holdout_share": 0},
        redis_url=None,
        seed=23,
        **extra,
    )


@pytest.fixture
def marked_fleet(server: Any, sqlite_engine: Engine, tmp_path: Path) -> Iterator[Fleet]:
    """A fleet whose images are its own, marked and signed (the demo's throwaway pair),
    with FLEET_PROVENANCE__REQUIRE left at its default (true)."""
    made = bootstrap(_settings(server, sqlite_engine, tmp_path), sqlite_engine)
    assert made.settings.provenance.require
    made.given_credentials = ProvisionedTokens(server)
    yield made
    made.close()


def _status_of(gallery: MastodonGallery, agent: str, post_id: str) -> dict[str, Any]:
    data, _ = gallery._call("GET", f"/api/v1/statuses/{post_id}", agent=agent)
    assert isinstance(data, dict)
    return data


def test_a_post_whose_marks_the_server_strips_is_disclosed_in_words_and_recorded(
    marked_fleet: Fleet, server: Any
) -> None:
    fleet = marked_fleet
    act(fleet, "agents", "create", "--persona", "indie_game_dev", "--start")
    agent = act(fleet, "agents", "list")[0]["handle"]
    posted = act(fleet, "agents", "act", agent, "post", "--here")
    assert posted["status"] == "succeeded", posted  # never skipped for the server's doing
    with fleet.sessions() as session:
        [row] = session.scalars(select(ImageMarks)).all()
    gallery = fleet.open_gallery()
    assert isinstance(gallery, MastodonGallery)
    try:
        post = next(p for p in gallery.feed(agent=agent, limit=40) if p.username == agent)
        status = _status_of(gallery, agent, post.id)
    finally:
        gallery.close()
    [media] = status["media_attachments"]
    assert row.media_id == str(media["id"]) and row.agent == agent
    alt = str(media.get("description") or "")
    content = str(status["content"])
    if isinstance(server, Takahe):  # stored as WebP: the XMP and the C2PA manifest are gone
        assert not row.kept and row.disclosed, row.reason
        assert alt.startswith(ALT_PREFIX), alt
        assert CAPTION_LINE in content.replace("&#x27;", "'"), content
    else:  # GoToSocial keeps the file byte for byte: both marks verify as uploaded
        assert row.kept and not row.disclosed, row.reason
        assert "signed by" in row.reason
        assert not alt.startswith(ALT_PREFIX) and CAPTION_LINE not in content
    # The post's own provenance record: Fleet's image, checked before upload.
    with fleet.sessions() as session:
        activity = session.get(AgentActivity, posted["activity_id"])
        assert activity is not None and activity.content is not None
        checked = activity.content["provenance"]
    assert checked["ok"] is True and checked["checked"] == "before upload", checked
    assert checked["platform_kept"] is (not isinstance(server, Takahe))
    audit = CliRunner().invoke(cli, ["audit", "--json"], obj=fleet)
    findings = {f["name"]: f for f in json.loads(audit.stdout)["findings"]}
    assert findings["provenance"]["status"] == "ok", findings["provenance"]
    marks = findings["platform_marks"]
    assert marks["status"] == "ok", marks
    if isinstance(server, Takahe):
        assert "did not keep provenance marks: 1 of 1" in marks["summary"], marks
    else:
        assert "kept the provenance marks of all 1" in marks["summary"], marks


def test_the_audit_says_a_dropped_bot_flag_apart_and_fix_does_not_patch_it_again(
    marked_fleet: Fleet, server: Any
) -> None:
    fleet = marked_fleet
    act(fleet, "agents", "create", "--persona", "indie_game_dev", "--count", "2", "--start")
    for agent in act(fleet, "agents", "list")[:2]:
        assert act(fleet, "agents", "act", agent["handle"], "like", "--here")["status"] in (
            "succeeded",
            "skipped",
        )
    audit = CliRunner().invoke(cli, ["audit", "--json"], obj=fleet)
    findings = {f["name"]: f for f in json.loads(audit.stdout)["findings"]}
    labelled, flag = findings["labelled"], findings["bot_flag"]
    assert labelled["status"] == "ok", labelled  # note and field carry the disclosure
    assert labelled["figures"]["labelled"] == labelled["figures"]["accounts"] >= 1
    accounts = labelled["figures"]["accounts"]
    if isinstance(server, Takahe):  # Takahē answers bot: false whatever was set
        assert flag["figures"]["dropped"] == accounts, flag
        assert flag["summary"].startswith("server did not keep the bot flag"), flag
        assert "note and 'Operated by' field carry the disclosure" in flag["summary"]
    else:
        assert flag["figures"]["dropped"] == 0, flag
    gallery = fleet.open_gallery()
    assert isinstance(gallery, MastodonGallery)
    try:
        assert sync_labels(fleet, gallery) == 0  # nothing to set: no PATCH, run after run
        assert sync_labels(fleet, gallery) == 0
    finally:
        gallery.close()


def test_a_token_the_server_refuses_sets_the_agent_aside_once(
    server: Any, sqlite_engine: Engine, tmp_path: Path
) -> None:
    key = Fernet.generate_key().decode()
    settings = _settings(
        server,
        sqlite_engine,
        tmp_path,
        credentials={"keys": key},
        provenance={"require": False},
    )
    fleet = bootstrap(settings, sqlite_engine)
    fleet.given_images = PaintedImages()
    try:
        act(fleet, "agents", "create", "--persona", "indie_game_dev", "--start")
        agent = act(fleet, "agents", "list")[0]["handle"]
        # A token the server never issued (Takahē answers 400 "Invalid Bearer token",
        # GoToSocial 401).
        agents.set_token(
            fleet.sessions,
            fleet.token_seal(),
            agent,
            "not-a-token-this-server-issued-" + "x" * 20,
            now=fleet.clock.now(),
        )
        calls: list[str] = []

        class Counting(httpx.HTTPTransport):
            def handle_request(self, request: httpx.Request) -> httpx.Response:
                calls.append(request.url.path)
                return super().handle_request(request)

        gallery = MastodonGallery(
            settings.gallery, fleet.credentials, PaintedImages(), Counting(), disclosure=OPERATOR
        )
        try:
            with pytest.raises(TokenRefused, match=rf"refused @{agent}'s token: HTTP 40[01]"):
                gallery.feed(agent=agent, limit=5)
            assert len(calls) == 1
            with pytest.raises(Exception, match="refused"):
                gallery.feed(agent=agent, limit=5)  # set aside: no call at all
            assert len(calls) == 1
        finally:
            gallery.close()
        shown = agents.get_agent(fleet.sessions, agent)
        assert shown.status == "error" and shown.next_tick_at is None
        assert "its platform token was refused (HTTP 40" in (shown.error or "")
        status = CliRunner().invoke(cli, ["status"], obj=fleet)
        assert "the platform refused their token, the first @" + agent in status.output, (
            status.output
        )
    finally:
        fleet.close()
