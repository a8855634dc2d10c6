"""A post's image is checked for its provenance marks before it is published, once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine
from starlette.testclient import TestClient

from fleet.actions.perform import perform
from fleet.cli import cli
from fleet.console.app import build_app
from fleet.console.security import Guard
from fleet.db.models import AgentActivity
from fleet.gallery.provenance import ProvenanceCheck
from fleet.service import dead_letters
from fleet.service.root import Fleet, bootstrap
from fleet.settings import Settings
from fleet_sandbox.provenance import self_signed_pair, write_pair
from fleet_sandbox.server import BackgroundSandbox
from tests.gallery.conftest import TOKEN, Admin


def _fleet(engine: Engine, sandbox: BackgroundSandbox, **provenance: Any) -> Fleet:
    settings = Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        gallery={"url": sandbox.url, "token": TOKEN},  # type: ignore[arg-type]
        redis_url=None,
        seed=7,
        provenance=provenance,  # type: ignore[arg-type]
    )
    return bootstrap(settings, engine)


@pytest.fixture
def fleet(engine: Engine, sandbox: BackgroundSandbox) -> Iterator[Fleet]:
    made = _fleet(engine, sandbox)
    yield made
    made.close()


def act(fleet: Fleet, *args: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, [*args, "--json"], obj=fleet)
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert isinstance(answer, dict)
    return answer


def post_once(fleet: Fleet) -> dict[str, Any]:
    act(fleet, "agents", "create", "--persona", "indie_game_dev", "--start")
    return act(fleet, "agents", "act", "1", "post", "--here")


def row_of(fleet: Fleet, key: str) -> AgentActivity:
    with fleet.sessions() as session:
        return session.query(AgentActivity).filter_by(idempotency_key=key).one()


def content_of(fleet: Fleet, key: str) -> dict[str, Any]:
    return dict(row_of(fleet, key).content or {})


def test_a_post_is_published_with_its_marks_checked_and_recorded(
    fleet: Fleet, admin: Admin
) -> None:
    posted = post_once(fleet)
    assert posted["status"] == "succeeded", posted
    checked = content_of(fleet, posted["key"])["provenance"]
    assert checked["ok"] is True and checked["source_type"] == "trainedAlgorithmicMedia"
    assert checked["model"] == fleet.settings.gallery.image_model
    assert admin.report()["totals"]["posts"] == 1


def test_an_image_stripped_of_its_marks_is_not_published(fleet: Fleet, admin: Admin) -> None:
    admin.faults(stripProvenance=True)
    posted = post_once(fleet)
    assert posted["status"] == "skipped", posted
    assert posted["detail"] == {
        "reason": "no provenance: no XMP: the image carries no digital source type"
    }
    assert admin.report()["totals"]["posts"] == 0, "nothing reaches the gallery"


def test_without_require_an_unmarked_image_is_published_and_said_so(
    engine: Engine, sandbox: BackgroundSandbox, admin: Admin
) -> None:
    fleet = _fleet(engine, sandbox, require=False)
    try:
        admin.faults(stripProvenance=True)
        posted = post_once(fleet)
        assert posted["status"] == "succeeded", posted
        checked = content_of(fleet, posted["key"])["provenance"]
        assert checked == {
            "ok": False,
            "reason": "no XMP: the image carries no digital source type",
        }
    finally:
        fleet.close()


def test_a_replayed_post_does_not_check_its_image_twice(
    fleet: Fleet, admin: Admin, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks: list[str] = []
    real = ProvenanceCheck.check

    def counted(self: ProvenanceCheck, image_url: str, agent: str) -> dict[str, Any]:
        checks.append(image_url)
        return real(self, image_url, agent)

    monkeypatch.setattr(ProvenanceCheck, "check", counted)
    # The post call fails after the check: the record is kept on the activity before the
    # post call, so a retry or a replay (the same content) finds it and checks nothing.
    admin.faults(errorRates={"create_post": 1.0})
    act(fleet, "agents", "create", "--persona", "indie_game_dev", "--start")
    result = CliRunner().invoke(cli, ["agents", "act", "1", "post", "--here", "--json"], obj=fleet)
    posted = json.loads(result.stdout)
    assert posted["status"] == "dead", posted
    assert len(checks) == 1
    assert content_of(fleet, posted["key"])["provenance"]["ok"] is True
    # Replayed under its key, in this process: published, with no second check.
    admin.faults()
    [letter] = dead_letters.find(fleet)
    dead_letters.replay(fleet, [letter.id], lambda key: perform(fleet.action_kit, key))
    assert row_of(fleet, posted["key"]).status == "succeeded"
    assert len(checks) == 1, "the replay found the check's record"
    assert admin.report()["totals"]["posts"] == 1


def test_the_report_and_status_show_the_share_of_images_with_marks(
    fleet: Fleet, admin: Admin
) -> None:
    assert post_once(fleet)["status"] == "succeeded"
    admin.faults(stripProvenance=True)
    skipped = act(fleet, "agents", "act", "1", "post", "--here")
    assert skipped["status"] == "skipped"
    page = CliRunner().invoke(cli, ["report"], obj=fleet)
    assert page.exit_code == 0, page.output
    assert (
        "<b>100%</b> of the week's published images carry valid provenance marks "
        "(1 of 1); 1 post skipped for want of them"
    ) in page.stdout
    said = CliRunner().invoke(cli, ["status"], obj=fleet)
    assert (
        "provenance, last 7 days: 100% of 1 published images with valid marks; "
        "1 posts skipped, no provenance"
    ) in said.stdout
    with TestClient(build_app(fleet, Guard(None)), base_url="http://127.0.0.1") as http:
        overview = http.get("/").text
    tile = overview.split('id="provenance-tile"', 1)[1].split("</div>", 1)[0]
    assert "<b>100%</b>" in tile and "1 of 1 published; 1 skipped, no provenance" in tile


def test_status_says_whether_marks_are_required_and_whose_signature(
    engine: Engine, sandbox: BackgroundSandbox, tmp_path: Path
) -> None:
    cert, key = write_pair(self_signed_pair("Fleet tests"), tmp_path)
    fleet = _fleet(engine, sandbox, certificate=cert, private_key=key)
    try:
        said = CliRunner().invoke(cli, ["status"], obj=fleet)
        assert said.exit_code == 0, said.output
        assert "provenance: required; signed by provenance signer (issuer self-signed root" in (
            said.stdout
        )
        assert "a self-signed chain: untrusted)" in said.stdout
    finally:
        fleet.close()
    plain = _fleet(engine, sandbox, require=False)
    try:
        said = CliRunner().invoke(cli, ["status"], obj=plain)
        assert "provenance: checked, not required; any valid C2PA signer" in said.stdout
    finally:
        plain.close()


def test_the_audit_falls_short_when_the_gallery_loses_the_marks(fleet: Fleet, admin: Admin) -> None:
    from fleet.honesty import audit
    from fleet.honesty.audit_images import provenance

    assert post_once(fleet)["status"] == "succeeded"
    clean = audit.audit(fleet, checks=[provenance])
    assert clean.ok, clean.to_json()
    assert clean.findings[0].figures == {"published": 1, "marked": 1, "refused": 0}
    admin.faults(stripProvenance=True)
    assert act(fleet, "agents", "act", "1", "post", "--here")["status"] == "skipped"
    lost = audit.audit(fleet, checks=[provenance]).findings[0]
    assert lost.status == "short" and lost.figures["refused"] == 1
    assert "1 posts skipped for want of them" in lost.summary
